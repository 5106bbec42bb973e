// covers: src/collector/rules.ts
// needs: the build (dist/core.cjs)
// The collector's trace rules (src/collector/rules.ts): one set per session, created disabled,
// edited/enabled/disabled/deleted with a version bump each, sent whole to every preload over the
// real socket (and to a preload connecting later, right after its hello), counters added up over
// preload instances, saved into the trace as `traceRules` and read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';

const require = createRequire(import.meta.url);
const core = require('../../dist/core.cjs');
const { RulesController, startCollector, readTraceFile, toHar } = core;

/** A preload socket as the controller sees it: records what was written; can be made to push back. */
class FakePeer extends EventEmitter {
  lines = [];
  full = false;
  destroyed = false;
  write(text) {
    for (const l of text.split('\n').filter(Boolean)) this.lines.push(JSON.parse(l));
    return !this.full;
  }
  last() {
    return this.lines[this.lines.length - 1];
  }
}

const hello = (conn, extra = {}) => ({
  type: 'hello',
  pid: 1,
  ppid: 0,
  threadId: 0,
  argv: [],
  nodeVersion: 'v20',
  cwd: '/',
  startAt: 0,
  conn,
  ...extra,
});
const report = (version, seq, counters) => ({
  type: 'stats',
  droppedEvents: 0,
  untracedRequests: 0,
  rules: { version, seq, counters: counters.map(([id, matched, acted, limitReached = false]) => ({ id, matched, acted, limitReached })) },
});

test('rules are created disabled unless enabled: true; every change bumps the version; bad input is refused with the property or column', () => {
  const c = new RulesController();
  assert.equal(c.version, 0);
  assert.equal(c.traceRules(), undefined, 'no rules, default trace: nothing to save');
  const a = c.create({ id: 'a', condition: 'host == "x"', action: 'skip' });
  assert.equal(a.enabled, false);
  assert.equal(a.name, 'a');
  assert.equal(c.version, 1);
  assert.equal(c.create({ id: 'b', condition: 'true', action: 'mark', enabled: true }).enabled, true);
  assert.equal(c.get('b').tag, 'b', 'a mark rule tags with its name by default');
  assert.equal(c.version, 2);
  c.enable('a');
  assert.equal(c.get('a').enabled, true);
  c.disable('a');
  assert.equal(c.get('a').enabled, false);
  c.update('b', { name: 'Bee' });
  assert.equal(c.get('b').tag, 'Bee', 'the default tag follows the name');
  c.move('b', 0);
  assert.deepEqual(
    c.rules().map((r) => r.id),
    ['b', 'a'],
  );
  assert.equal(c.delete('a'), true);
  assert.equal(c.delete('a'), false);
  assert.equal(c.version, 7);
  c.setDefaultAction('skip');
  assert.equal(c.message().defaultAction, 'skip');
  assert.equal(c.version, 8);

  assert.throws(() => c.create({ id: 'b', condition: 'true', action: 'skip' }), /rule "b": a rule with this id exists already/);
  assert.throws(
    () => c.create({ id: 'c', condition: 'status >= "500"', action: 'skip' }),
    (e) => e.name === 'RuleSyntaxError' && e.column === 11 && e.ruleId === 'c' && e.excerpt.includes('^'),
  );
  assert.throws(() => c.update('nope', { enabled: true }), /rule "nope": there is no rule with this id/);
  assert.throws(() => c.update('b', { limit: 0 }), /"limit" must be a whole number/);
  assert.throws(() => c.update('b', { condition: 'failed', action: 'break' }), /break rule/);
  assert.throws(() => c.setDefaultAction('maybe'), /"defaultAction" must be "trace" or "skip"/);
  assert.equal(c.version, 8, 'a refused change changes nothing');
  assert.throws(() => new RulesController({ rules: [{ id: 'x', condition: 'true' }] }), /"action" must be one of/);
});

test('every change goes whole to each preload that said hello; a later one gets the current set after its hello; a preload that does not read holds one set', () => {
  const c = new RulesController({ rules: [{ id: 'a', condition: 'true', action: 'trace', enabled: true }], slowThresholdMs: 250 });
  const p1 = new FakePeer();
  c.attach(1, p1);
  assert.equal(p1.lines.length, 0, 'nothing before the hello');
  c.hello(1, hello('one'));
  assert.deepEqual(p1.last(), {
    type: 'rules',
    version: 0,
    defaultAction: 'trace',
    slowThresholdMs: 250,
    rules: [{ id: 'a', name: 'a', condition: 'true', action: 'trace', limit: null, enabled: true }],
  });
  c.create({ id: 'b', condition: 'host == "h"', action: 'skip' });
  assert.equal(p1.last().version, 1);
  assert.deepEqual(
    p1.last().rules.map((r) => [r.id, r.enabled]),
    [
      ['a', true],
      ['b', false],
    ],
  );
  const p2 = new FakePeer();
  c.attach(2, p2);
  c.hello(2, hello('two'));
  assert.equal(p2.lines.length, 1);
  assert.equal(p2.last().version, 1, 'the preload that connects later gets the current set');
  // The tail connection of an exiting preload reads nothing.
  const tail = new FakePeer();
  c.attach(3, tail);
  c.hello(3, hello('one', { continues: true }));
  assert.equal(tail.lines.length, 0);

  // A preload whose socket is full (stopped in the debugger): one write, then only the newest set after 'drain'.
  p1.full = true;
  c.enable('b'); // written; the socket says it is full
  c.disable('b');
  c.enable('b');
  assert.equal(p1.lines.length, 3, 'no write while the socket has not drained');
  p1.full = false;
  p1.emit('drain');
  assert.equal(p1.lines.length, 4);
  assert.equal(p1.last().version, 4, 'the newest set, once');
  assert.equal(p2.lines.length, 4, 'the other preload got every set');
  c.detach(2);
  c.delete('b');
  assert.equal(p2.lines.length, 4, 'a closed connection gets nothing');
});

test('counters are added up over preload instances; a rule edited in meaning counts from its edit; the latest report of an instance wins', () => {
  const c = new RulesController({
    rules: [
      { id: 'a', condition: 'host == "a"', action: 'skip', enabled: true, limit: 5 },
      { id: 'b', condition: 'true', action: 'mark', enabled: true },
    ],
  });
  const p1 = new FakePeer();
  const p2 = new FakePeer();
  c.attach(1, p1);
  c.attach(2, p2);
  c.hello(1, hello('one'));
  c.hello(2, hello('two'));
  assert.equal(c.behind(), 2, 'no report yet');
  let counted = 0;
  c.on('counters', () => counted++);
  c.stats(
    1,
    report(0, 1, [
      ['a', 3, 3],
      ['b', 10, 10],
    ]),
  );
  c.stats(
    2,
    report(0, 1, [
      ['a', 7, 5, true],
      ['b', 4, 4],
    ]),
  );
  assert.equal(counted, 2);
  assert.equal(c.behind(), 0);
  const sum = () => Object.fromEntries(c.withCounters().map((r) => [r.id, [r.matched, r.acted, r.limitReached]]));
  assert.deepEqual(sum(), { a: [10, 8, true], b: [14, 14, false] });
  // An older report of an instance (it came late, on the connection that continues it) changes nothing.
  c.stats(
    1,
    report(0, 0, [
      ['a', 1, 1],
      ['b', 1, 1],
    ]),
  );
  assert.deepEqual(sum().a, [10, 8, true]);
  // The tail connection of instance "one" reports its final totals: they replace the first.
  c.attach(3, new FakePeer());
  c.hello(3, hello('one', { continues: true }));
  c.stats(
    3,
    report(0, 2, [
      ['a', 4, 4],
      ['b', 11, 11],
    ]),
  );
  assert.deepEqual(sum(), { a: [11, 9, true], b: [15, 15, false] });
  // Renaming or raising the limit keeps the counters (the limit is judged anew).
  c.update('a', { name: 'Skip a', limit: 50 });
  assert.deepEqual(sum().a, [11, 9, false]);
  assert.equal(c.behind(), 2, 'both instances run an older version now');
  // A new condition: counts restart; reports of older versions no longer count for it.
  c.update('b', { condition: 'host == "b"' });
  assert.deepEqual(sum().b, [0, 0, false]);
  c.stats(
    2,
    report(c.version, 2, [
      ['a', 8, 6],
      ['b', 1, 1],
    ]),
  );
  assert.deepEqual(sum(), { a: [12, 10, false], b: [1, 1, false] });

  const saved = c.traceRules();
  assert.equal(saved.version, 2);
  assert.equal(saved.defaultAction, 'trace');
  assert.deepEqual(saved.rules[1], {
    id: 'b',
    name: 'b',
    condition: 'host == "b"',
    action: 'mark',
    limit: null,
    enabled: true,
    tag: 'b',
    matched: 1,
    acted: 1,
    limitReached: false,
  });
  // Garbage on the wire is ignored, never thrown.
  c.stats(2, { type: 'stats', rules: { version: 'x', counters: 'nope' } });
  c.stats(2, { type: 'stats', rules: { version: 9, seq: 99, counters: [null, { id: 5 }, { id: 'a', matched: -1, acted: 'x' }] } });
  assert.deepEqual(sum().a, [4, 4, false], 'instance two now reports nothing usable for a: only instance one counts');
});

/** A fake preload over the real socket: sends lines, collects the collector's lines. */
function fakePreload(ipcPath) {
  return new Promise((resolve, reject) => {
    const s = connect(ipcPath, () => resolve(peer));
    const peer = {
      socket: s,
      got: [],
      waiters: [],
      send(...msgs) {
        s.write(msgs.map((m) => JSON.stringify(m) + '\n').join(''));
      },
      /** Resolves with the first received message that passes `pred` (already received or later). */
      next(pred = () => true, timeoutMs = 3000) {
        const hit = this.got.find(pred);
        if (hit) return Promise.resolve(hit);
        return new Promise((res, rej) => {
          const timer = setTimeout(() => rej(new Error('no such message from the collector')), timeoutMs);
          this.waiters.push({ pred, res: (m) => (clearTimeout(timer), res(m)) });
        });
      },
    };
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const m = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        peer.got.push(m);
        peer.waiters = peer.waiters.filter((w) => (w.pred(m) ? (w.res(m), false) : true));
      }
    });
    s.on('error', reject);
  });
}

test('over the real collector socket: the set after hello, each change within milliseconds, a later preload gets the current set, counters reach the saved trace and read back', async () => {
  const collector = await startCollector({
    description: 'rules',
    changeIntervalMs: 5,
    rules: [{ id: 'no-health', condition: 'path == "/health"', action: 'skip', enabled: true }],
    defaultAction: 'trace',
  });
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-rules-'));
  try {
    const rules = collector.session.rules;
    const a = await fakePreload(collector.ipcPath);
    a.send(hello('A', { pid: 11 }));
    const first = await a.next((m) => m.type === 'rules');
    assert.equal(first.version, 0);
    assert.deepEqual(
      first.rules.map((r) => r.id),
      ['no-health'],
    );
    assert.equal(first.slowThresholdMs, 1000, "the session's slow threshold travels with the set");

    const t0 = performance.now();
    rules.create({ id: 'orders', condition: 'path ~ "/orders/**"', action: 'details', details: ['bodies', 'sockTrace'] });
    const v1 = await a.next((m) => m.type === 'rules' && m.version === 1);
    const latency = performance.now() - t0;
    assert.ok(latency < 100, `a change reaches a connected preload in ${latency.toFixed(1)} ms`);
    assert.deepEqual(v1.rules[1], {
      id: 'orders',
      name: 'orders',
      condition: 'path ~ "/orders/**"',
      action: 'details',
      limit: null,
      enabled: false,
      details: ['bodies', 'sockTrace'],
    });

    rules.enable('orders');
    const b = await fakePreload(collector.ipcPath);
    b.send(hello('B', { pid: 12, threadId: 1 }));
    const bFirst = await b.next((m) => m.type === 'rules');
    assert.equal(bFirst.version, 2, 'a preload that connects after a change gets the current set');
    assert.equal(bFirst.rules[1].enabled, true);
    await a.next((m) => m.type === 'rules' && m.version === 2);

    a.send(
      report(2, 1, [
        ['no-health', 5, 5],
        ['orders', 2, 2],
      ]),
    );
    b.send(
      report(2, 1, [
        ['no-health', 1, 1],
        ['orders', 3, 3],
      ]),
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(rules.behind(), 0);
    const snap = collector.session.snapshot();
    assert.deepEqual(
      snap.traceRules.rules.map((r) => [r.id, r.matched, r.acted]),
      [
        ['no-health', 6, 6],
        ['orders', 5, 5],
      ],
    );
    assert.equal(collector.session.builder.trace.stats.warnings.length, 0, 'the rules report is no warning');

    const file = join(dir, 't.json');
    await collector.session.saveJson(file);
    const back = readTraceFile(file);
    assert.deepEqual(back.traceRules, snap.traceRules, 'traceRules read back as saved');
    const har = toHar(back);
    assert.ok(!JSON.stringify(har).includes('no-health'), 'the HAR export is unaffected by rules');
    a.socket.destroy();
    b.socket.destroy();
  } finally {
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('traceRules from a file are checked: bad rules left out, counts made whole numbers, nothing compiled', () => {
  const { normalizeTraceRules, parseTraceFile } = core;
  assert.equal(normalizeTraceRules([]), undefined);
  assert.equal(normalizeTraceRules({ rules: 'x' }), undefined);
  const n = normalizeTraceRules({
    version: -3,
    defaultAction: 'maybe',
    rules: [
      null,
      { id: 'a', condition: 'status >= "bad"', action: 'skip', matched: 2.5, acted: 3, limit: 0, enabled: 'yes', details: ['bodies', 'x'] },
      { id: 'b', condition: 'true', action: 'explode' },
    ],
  });
  assert.deepEqual(n, {
    version: 0,
    defaultAction: 'trace',
    rules: [
      {
        id: 'a',
        name: 'a',
        condition: 'status >= "bad"',
        action: 'skip',
        limit: null,
        enabled: false,
        matched: 0,
        acted: 3,
        limitReached: false,
        details: ['bodies'],
      },
    ],
  });
  const text = JSON.stringify({
    formatVersion: 1,
    description: 'x',
    traceBeginAt: new Date(0).toISOString(),
    httpRequests: [],
    traceRules: {
      version: 1,
      defaultAction: 'skip',
      rules: [{ id: 'k', condition: 'true', action: 'trace', enabled: true, matched: 1, acted: 1 }],
    },
    stats: {},
  });
  const t = parseTraceFile(text, 'x.json');
  assert.equal(t.traceRules.defaultAction, 'skip');
  assert.equal(t.traceRules.rules[0].matched, 1);
  const none = parseTraceFile(text.replace('"traceRules"', '"traceRulesX"').replace(',"traceRulesX":{', ',"ignored":{'), 'y.json');
  assert.equal(none.traceRules, undefined);
  // A limit per session is kept with its limit; without one, or of another value, it is not.
  const per = normalizeTraceRules({
    rules: [
      { id: 's', condition: 'true', action: 'skip', limit: 3, limitPer: 'session' },
      { id: 'n', condition: 'true', action: 'skip', limitPer: 'session' },
      { id: 'x', condition: 'true', action: 'skip', limit: 3, limitPer: 'galaxy' },
    ],
  }).rules;
  assert.deepEqual(
    per.map((r) => [r.id, r.limit, r.limitPer]),
    [
      ['s', 3, 'session'],
      ['n', null, undefined],
      ['x', 3, undefined],
    ],
  );
});

test("a report that arrives before its instance's hello (the preload's first batch writes stats first) is not counted twice", () => {
  const c = new RulesController({ rules: [{ id: 'r', condition: 'true', action: 'mark', enabled: true }] });
  const p = new FakePeer();
  c.attach(1, p);
  c.stats(1, report(c.version, 1, [['r', 1, 1]]));
  c.hello(1, hello('one'));
  c.stats(1, report(c.version, 2, [['r', 3, 3]]));
  const r = c.withCounters().find((x) => x.id === 'r');
  assert.deepEqual([r.matched, r.acted], [3, 3], 'the latest report of the one instance');
  // An early report older than what the instance already said is dropped, not added.
  const d = new RulesController({ rules: [{ id: 'r', condition: 'true', action: 'mark', enabled: true }] });
  d.attach(1, new FakePeer());
  d.attach(2, new FakePeer());
  d.hello(1, hello('one'));
  d.stats(1, report(d.version, 5, [['r', 5, 5]]));
  d.stats(2, report(d.version, 4, [['r', 4, 4]]));
  d.hello(2, hello('one', { continues: true }));
  const e = d.withCounters().find((x) => x.id === 'r');
  assert.deepEqual([e.matched, e.acted], [5, 5]);
});
