// covers: src/collector/rules.ts
// needs: the build (dist/core.cjs)
// A session that started with no trace rules (the preloads run in "trace everything" and get no
// set after their hello) still sends every later change to every preload that said hello, and a
// preload connecting after the first change gets the current set at once (src/collector/rules.ts):
// rules added from the panel, the row menu or the palette reach a program that started without any.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { EventEmitter } from 'node:events';

const { RulesController } = createRequire(import.meta.url)('../../dist/core.cjs');

class FakePeer extends EventEmitter {
  lines = [];
  destroyed = false;
  write(text) {
    for (const l of text.split('\n').filter(Boolean)) this.lines.push(JSON.parse(l));
    return true;
  }
}
const hello = (conn) => ({ type: 'hello', pid: 1, ppid: 0, threadId: 0, argv: [], nodeVersion: 'v20', cwd: '/', startAt: 0, conn });

test('no rules at the start: nothing after hello; the first rule added goes to every preload; a later preload gets it on hello', () => {
  const rules = new RulesController();
  assert.deepEqual(rules.preloadConfig(), {}, 'nothing in NETTRACE_CONFIG');
  const a = new FakePeer();
  const b = new FakePeer();
  rules.attach(1, a);
  rules.attach(2, b);
  rules.hello(1, hello('p1'));
  rules.hello(2, hello('p2'));
  assert.deepEqual([a.lines.length, b.lines.length], [0, 0], 'no set while the session has none');

  const created = rules.create({ id: 'late', condition: 'host == "x.test"', action: 'skip' });
  assert.equal(created.enabled, false, 'created disabled without enabled: true');
  for (const p of [a, b]) {
    assert.equal(p.lines.length, 1, 'the new set reached each preload');
    assert.equal(p.lines[0].version, 1);
    assert.deepEqual(
      p.lines[0].rules.map((r) => [r.id, r.enabled]),
      [['late', false]],
    );
  }
  rules.enable('late');
  assert.equal(a.lines.at(-1).rules[0].enabled, true);
  assert.equal(a.lines.at(-1).version, 2);

  const c = new FakePeer();
  rules.attach(3, c);
  rules.hello(3, hello('p3'));
  assert.equal(c.lines.length, 1, 'a preload connecting later gets the current set after its hello');
  assert.equal(c.lines[0].version, 2);
  assert.equal(rules.preloadConfig().rulesVersion, 2, 'and a process started later gets it in NETTRACE_CONFIG');

  // Back to no rules: still sent (the preloads must drop the rule), and a new preload hears of it.
  rules.delete('late');
  assert.deepEqual(a.lines.at(-1).rules, []);
  const d = new FakePeer();
  rules.attach(4, d);
  rules.hello(4, hello('p4'));
  assert.equal(d.lines.length, 1);
  assert.equal(d.lines[0].version, 3);
  // A tail connection (an exiting preload's last stats) reads nothing.
  const tail = new FakePeer();
  rules.attach(5, tail);
  rules.hello(5, { ...hello('p1'), continues: true });
  rules.create({ id: 'again', condition: 'true', action: 'mark', enabled: true });
  assert.equal(tail.lines.length, 0);
  assert.equal(d.lines.length, 2);
});
