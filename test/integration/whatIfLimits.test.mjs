// covers: src/rules/
// What a what-if rule's limit counts (docs/rules.md, "Limits and counters"), with two traced
// processes of one `nettrace run` session calling a real server: `limit=3/session` (the panel's
// "The next three") acts on three calls in all, whichever process makes them — the second process
// started after the first had acted, and the two calling by turns at the same time — while
// `limit=3` (per process, for rules files) acts on three in each. The program sees the faked 503s,
// the server gets every other call, and the trace counts what the rule did. And a TLS failure whose
// condition does not say the scheme, run against plain http: accepted, it acts on nothing, and
// the run says it matched 0 TLS requests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { runTraced } from './harness.mjs';

let server;
let url;
let served = 0;
before(async () => {
  server = createServer((req, res) => {
    served++;
    res.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}/pay`;
});
after(() => server.close());

/** Runs the two processes under `rule`; what each saw, what the server got, the rule's counters and the requests it changed. */
async function twoProcesses(rule, env) {
  const before = served;
  const r = await runTraced(process.execPath, 'whatif-two.cjs', { env: { NT_URL: url, ...env }, cliArgs: ['--rule', rule] });
  assert.equal(r.code, 0, r.stderr);
  const children = JSON.parse(r.stdout.trim().split('\n').at(-1));
  assert.equal(children.length, 2);
  assert.notEqual(children[0].pid, children[1].pid);
  const counters = r.trace.traceRules.rules.find((x) => x.id === 'down');
  const changed = r.trace.httpRequests.filter((q) => q.whatIf?.rule === 'down');
  return { children, served: served - before, counters, changed, stderr: r.stderr, trace: r.trace };
}

const faked = (children) => children.map((c) => c.seen.filter((s) => s === 503).length);

test('limit=3/session: the second process, started after the first acted twice, acts once; three in all', async () => {
  const t = await twoProcesses('down: fail fail=503 limit=3/session path == "/pay"', {
    NT_ORDER: 'after',
    NT_CALLS_EACH: '2,4',
    NT_STAGGER_MS: '500',
    // Back to back: the second process decides its calls before its connection to the collector
    // could bring it anything; it starts knowing the first one's acts (the rules file it reads as it starts).
    NT_GAP_MS: '0',
  });
  assert.deepEqual(faked(t.children), [2, 1], JSON.stringify(t.children));
  assert.deepEqual(t.children[1].seen, [503, 200, 200, 200], 'the second process: its first call faked, then the server’s');
  assert.equal(t.served, 3, 'the server got every call the rule did not answer');
  assert.equal(t.counters.acted, 3);
  assert.equal(t.counters.limitPer, 'session');
  assert.equal(t.counters.limitReached, true);
  assert.equal(t.changed.length, 3);
  assert.deepEqual(
    [...new Set(t.changed.map((q) => q.pid))].sort(),
    t.children.map((c) => c.pid).sort(),
    'both processes’ requests were acted on',
  );
  assert.match(t.stderr, /what if "down" \(fail status 503\): acted on 3 of \d+ matching requests \(limit 3 reached\)/);
});

test('limit=3/session: two processes calling by turns at the same time act on three calls in all', async () => {
  // Each calls every 300 ms, the second 150 ms after the first: a call of one follows the other's
  // by 150 ms, time for the acts to reach the collector and come back with the set.
  const t = await twoProcesses('down: fail fail=503 limit=3/session path == "/pay"', {
    NT_CALLS_EACH: '4,4',
    NT_STAGGER_MS: '150',
    NT_GAP_MS: '300',
  });
  const [a, b] = faked(t.children);
  assert.equal(a + b, 3, JSON.stringify(t.children));
  // The first three calls of the session, in time, whichever process made them, were the faked ones.
  const calls = [...t.trace.httpRequests].sort((x, y) => x.reqStartAt - y.reqStartAt);
  assert.deepEqual(
    calls.map((q) => q.whatIf?.rule === 'down'),
    [true, true, true, false, false, false, false, false],
    JSON.stringify(calls.map((q) => [q.pid, q.reqStartAt, q.whatIf?.rule])),
  );
  assert.equal(t.served, 5);
  assert.equal(t.counters.acted, 3);
  assert.equal(t.counters.limitReached, true);
});

test('limit=3 (per process, the rules files’ default): three in each process', async () => {
  const t = await twoProcesses('down: fail fail=503 limit=3 path == "/pay"', {
    NT_CALLS_EACH: '4,4',
    NT_STAGGER_MS: '150',
    NT_GAP_MS: '300',
  });
  assert.deepEqual(faked(t.children), [3, 3], JSON.stringify(t.children));
  assert.equal(t.served, 2);
  assert.equal(t.counters.acted, 6);
  assert.equal(t.counters.limitPer, undefined);
});

test('a TLS failure whose condition does not say the scheme, on plain http: accepted, acts on nothing, says it matched 0 TLS requests', async () => {
  const r = await runTraced(process.execPath, 'whatif-two.cjs', {
    env: { NT_URL: url, NT_CALLS_EACH: '2,2', NT_STAGGER_MS: '0', NT_GAP_MS: '0' },
    cliArgs: ['--rule', 'cert: fail fail=tls-expired path == "/pay"'],
  });
  assert.equal(r.code, 0, r.stderr);
  const children = JSON.parse(r.stdout.trim().split('\n').at(-1));
  assert.deepEqual(
    children.map((c) => c.seen),
    [
      [200, 200],
      [200, 200],
    ],
  );
  assert.match(r.stderr, /what if "cert" \(fail tls expired\): acted on 0 of 0 matching TLS requests\n/);
  const rule = r.trace.traceRules.rules.find((x) => x.id === 'cert');
  assert.deepEqual([rule.matched, rule.acted], [0, 0]);
});
