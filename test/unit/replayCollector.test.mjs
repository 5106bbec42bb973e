// covers: src/collector/replay.ts
// The collector's side of a replay (src/collector/replay.ts; docs/replay.md): each ask of a
// replayed program is answered on its connection with the recorded exchange (its dates moved by the
// time since the recording, its body in parts), or with what differed and whether to refuse it or
// let it through; the order of a key holds across connections; the trace's `replay` counts them.
// Also the words the trace, `nettrace show` and the HAR use (src/trace/diagnosis/replayText.ts), a
// file's marks read back (src/trace/formats/replayNormalize.ts), and the options (src/protocol).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { core, replay, traceOf, BEGIN } from './replayHelpers.mjs';
import { loadOptions } from '../../scripts/sync-options.mjs';

const { ReplayServer, Session } = core;

/** A fake preload connection: the lines written to it. */
function peer() {
  const lines = [];
  return {
    lines,
    write: (t) => (
      lines.push(
        ...t
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ),
      true
    ),
    once: () => {},
    destroyed: false,
  };
}

const OPTIONS = {
  unmatched: 'fail',
  timing: 'now',
  dates: 'shift',
  ignoreQuery: [],
  ignoreFields: [],
  matchHeaders: [],
  ignoreHost: false,
};

function serverOf(calls, options = {}, now = BEGIN + 3_600_000) {
  const table = replay.readReplayTable(traceOf(calls));
  const peers = new Map();
  const warnings = [];
  const server = new ReplayServer(
    { file: 'run.json', table, options: { ...OPTIONS, ...options } },
    { peer: (c) => peers.get(c), warn: (m) => warnings.push(m) },
    now,
  );
  const ask = (connection, m) => {
    if (!peers.has(connection)) peers.set(connection, peer());
    const p = peers.get(connection);
    const before = p.lines.length;
    server.ask(connection, { type: 'replayAsk', client: 'fetch', ...m });
    return p.lines.slice(before);
  };
  return { server, ask, warnings };
}

test('a matched ask gets the recorded exchange: its head with the dates moved, its body in parts, its end and mark', () => {
  const big = 'x'.repeat(1_200_000);
  const { ask } = serverOf([
    {
      url: 'https://api.test/jobs/7',
      status: 200,
      answer: 'first',
      headers: [
        ['date', 'Fri, 20 Nov 2026 09:00:00 GMT'],
        ['content-length', '5'],
      ],
    },
    { url: 'https://api.test/big', status: 200, answer: big },
  ]);
  const [a, ...rest] = ask(1, { ask: 1, method: 'GET', url: 'https://api.test/jobs/7' });
  assert.equal(a.type, 'replayAnswer');
  assert.equal(a.act, 'answer');
  assert.deepEqual(a.mark, { outcome: 'replayed', call: 'req-1', nth: 1, of: 1, end: 'completed' });
  assert.deepEqual(a.response.headers, [
    ['date', 'Fri, 20 Nov 2026 10:00:00 GMT'],
    ['content-length', '5'],
  ]);
  assert.equal(a.parts, 1);
  assert.equal(Buffer.from(rest[0].data, 'base64').toString(), 'first');
  assert.equal(a.timing, undefined, 'no timing unless --replay-timing recorded');
  const lines = ask(1, { ask: 2, method: 'GET', url: 'https://api.test/big' });
  assert.equal(lines[0].parts, 3, 'a body over 512 KiB goes in parts');
  assert.equal(Buffer.concat(lines.slice(1).map((l) => Buffer.from(l.data, 'base64'))).toString(), big);
  assert.ok(lines.every((l) => l.ask === 2));
});

test('--replay-dates keep leaves the dates; --replay-timing recorded sends the recorded timing', () => {
  const calls = [
    {
      url: 'https://api.test/a',
      status: 200,
      answer: 'a',
      headers: [['date', 'Fri, 20 Nov 2026 09:00:00 GMT']],
      timing: { firstByteMs: 40, chunks: [[0, 1]] },
    },
  ];
  const [a] = serverOf(calls, { dates: 'keep', timing: 'recorded' }).ask(1, { ask: 1, method: 'GET', url: 'https://api.test/a' });
  assert.deepEqual(a.response.headers, [['date', 'Fri, 20 Nov 2026 09:00:00 GMT']]);
  assert.deepEqual(a.timing, { firstByteMs: 40, chunks: [[0, 1]] });
  assert.equal(a.mark.timing, 'recorded');
});

test('the order of a key holds across connections (processes): the 1st ask anywhere gets the 1st answer', () => {
  const { ask, server } = serverOf([
    { url: 'https://api.test/jobs/7', answer: 'one' },
    { url: 'https://api.test/jobs/7', answer: 'two' },
  ]);
  const first = ask(2, { ask: 1, method: 'GET', url: 'https://api.test/jobs/7' });
  const second = ask(1, { ask: 1, method: 'GET', url: 'https://api.test/jobs/7' });
  assert.equal(Buffer.from(first[1].data, 'base64').toString(), 'one');
  assert.equal(Buffer.from(second[1].data, 'base64').toString(), 'two');
  assert.deepEqual([first[0].mark.nth, second[0].mark.nth, second[0].mark.of], [1, 2, 2]);
  const third = ask(3, { ask: 9, method: 'GET', url: 'https://api.test/jobs/7' });
  assert.equal(third[0].act, 'refuse');
  assert.equal(third[0].mark.reason, 'spent');
  assert.deepEqual(server.counts, { replayed: 2, unmatched: 1, passed: 0 });
});

test('an ask that matches nothing is refused (or passed) with the nearest call and what differed', () => {
  const calls = [{ method: 'POST', url: 'https://api.test/orders', body: { qty: 4, sku: 'a' }, status: 201 }];
  const body = Buffer.from(JSON.stringify({ qty: 5, sku: 'a' })).toString('base64');
  const [a] = serverOf(calls).ask(1, { ask: 1, method: 'POST', url: 'https://api.test/orders', body });
  assert.equal(a.act, 'refuse');
  assert.deepEqual(a.mark.differences, ['body field `qty`: 5, recorded 4']);
  assert.deepEqual(a.mark.nearest, { call: 'req-1', method: 'POST', url: 'https://api.test/orders', nearness: 'same method and path' });
  assert.equal(a.mark.outcome, 'unmatched');
  const passed = serverOf(calls, { unmatched: 'pass' });
  const [p] = passed.ask(1, { ask: 1, method: 'POST', url: 'https://api.test/orders', body });
  assert.equal(p.act, 'pass');
  assert.equal(p.mark.outcome, 'passed');
  assert.deepEqual(passed.server.counts, { replayed: 0, unmatched: 0, passed: 1 });
  // The same body matches; a header asked for is compared.
  const [ok] = serverOf(calls).ask(1, {
    ask: 2,
    method: 'POST',
    url: 'https://api.test/orders',
    body: Buffer.from('{"sku":"a","qty":4}').toString('base64'),
  });
  assert.equal(ok.act, 'answer');
});

test('a request body over the cap is matched by its start and length against a recorded cut body', () => {
  const start = 'a'.repeat(16);
  const table = replay.readReplayTable(
    traceOf([
      {
        method: 'PUT',
        url: 'https://api.test/up',
        status: 204,
        reqBody: { base64: Buffer.from(start).toString('base64'), size: 100, truncated: true },
      },
    ]),
  );
  const peers = new Map([[1, peer()]]);
  const server = new ReplayServer({ file: 'r', table, options: OPTIONS }, { peer: (c) => peers.get(c), warn: () => {} });
  server.ask(1, {
    type: 'replayAsk',
    ask: 1,
    client: 'http',
    method: 'PUT',
    url: 'https://api.test/up',
    body: Buffer.from(start).toString('base64'),
    bodySize: 100,
  });
  assert.equal(peers.get(1).lines[0].act, 'answer');
});

test("a WebSocket upgrade is answered to node:http's clients with its messages, refused to the others and said; a malformed ask is not answered, and said", () => {
  const messages = [
    { dir: 'in', atMs: 1, opcode: 1, data: { base64: Buffer.from('welcome').toString('base64'), size: 7 } },
    { dir: 'out', atMs: 2, opcode: 1, data: { base64: Buffer.from('hi').toString('base64'), size: 2 } },
  ];
  const recorded = [
    { url: 'https://api.test/ws', status: 101, answer: '', messages },
    { url: 'https://api.test/ws', status: 101, answer: '', messages },
  ];
  const { ask, warnings } = serverOf(recorded);
  const [ws] = ask(1, { ask: 1, method: 'GET', url: 'https://api.test/ws', client: 'https' });
  assert.equal(ws.act, 'answer');
  assert.equal(ws.response.status, 101);
  assert.deepEqual(ws.messages, messages, 'both ways, in the recorded order');
  const [a] = ask(1, { ask: 2, method: 'GET', url: 'https://api.test/ws', client: 'fetch' });
  assert.equal(a.act, 'refuse');
  assert.equal(a.mark.reason, 'not-replayable');
  assert.match(a.mark.summary, /WebSocket upgrade \(101\), which a replay gives to node:http's clients \(ws\) only, not yet to fetch/);
  assert.equal(
    serverOf([{ url: 'https://api.test/x', answer: 'x', messages }]).ask(1, { ask: 1, method: 'GET', url: 'https://api.test/x' })[0]
      .messages,
    undefined,
    'no messages without an upgrade',
  );
  assert.deepEqual(ask(1, { ask: 'x', method: 'GET', url: 'https://api.test/ws' }), []);
  assert.match(warnings[0], /had no number/);
});

test("the trace's `replay`: file, source, counts, unused calls, options, the reader's warnings", () => {
  const { ask, server } = serverOf(
    [
      { url: 'https://api.test/a', answer: 'a' },
      { url: 'https://api.test/b', answer: 'b' },
    ],
    { ignoreQuery: ['t'] },
  );
  ask(1, { ask: 1, method: 'GET', url: 'https://api.test/a?t=1' });
  const run = server.run();
  assert.equal(run.file, 'run.json');
  assert.equal(run.source, 'trace');
  assert.equal(run.calls, 2);
  assert.equal(run.unused, 1);
  assert.deepEqual(run.counts, { replayed: 1, unmatched: 0, passed: 0 });
  assert.deepEqual(run.options, { unmatched: 'fail', timing: 'now', dates: 'shift', ignoreQuery: ['t'] });
  assert.equal(run.recordedAt, new Date(BEGIN).toISOString());
});

test('a session without a recording refuses an ask rather than leave the request waiting', () => {
  const session = new Session({ description: 'x' });
  const connection = session.openConnection();
  const p = peer();
  session.rules.attach(connection, p);
  session.apply(connection, { type: 'hello', pid: 1, ppid: 0, threadId: 0, argv: [], nodeVersion: 'v20', cwd: '/', startAt: Date.now() });
  p.lines.length = 0;
  session.apply(connection, { type: 'replayAsk', ask: 4, client: 'http', method: 'GET', url: 'http://x/' });
  assert.equal(p.lines[0].act, 'refuse');
  assert.equal(p.lines[0].ask, 4);
  assert.equal(session.snapshot().replay, undefined);
  session.dispose();
});

test('the words: the diagnosis, the row tag, the counts, an unmatched request', () => {
  const req = { reqMethod: 'GET', reqURL: 'https://api.test/jobs/7?x=1' };
  assert.equal(
    core.replaySentence({ outcome: 'replayed', call: 'req-2', nth: 2, of: 3, end: 'completed' }, req),
    'Replayed: answered from the recording (the 2nd of 3 recorded GET /jobs/7?x=1).',
  );
  assert.equal(
    core.replaySentence({ outcome: 'replayed', call: 'req-2', nth: 1, of: 1, end: 'reset', timing: 'recorded' }, req),
    'Replayed: a connection reset, as recorded (the one recorded GET /jobs/7?x=1, with its recorded delays).',
  );
  const unmatched = {
    outcome: 'unmatched',
    reason: 'differs',
    nearest: { call: 'req-1', method: 'GET', url: 'https://api.test/jobs/7' },
    differences: ['query parameter `x`: 1, not recorded'],
    summary: 's',
  };
  assert.equal(
    core.replaySentence(unmatched, req),
    'Not in the recording: GET /jobs/7?x=1 differed from the nearest recorded request (req-1, GET https://api.test/jobs/7): query parameter `x`: 1, not recorded. It failed as a refused connection: the network is off during a replay.',
  );
  assert.match(core.replaySentence({ ...unmatched, outcome: 'passed' }, req), /It was sent to the network \(--replay-unmatched pass\)\.$/);
  assert.deepEqual(
    [core.replayTag({ outcome: 'replayed' }), core.replayTag(unmatched), core.replayTag({ outcome: 'passed' })],
    ['replay', 'replay: not recorded', 'replay: passed'],
  );
  // One the replay could not answer, whether recorded or not: "not replayed", not "not in the recording".
  const unheld = { outcome: 'passed', reason: 'unheld', differences: [], summary: 'its connection was made outside the replay' };
  assert.equal(
    core.replaySentence(unheld, req),
    'Not replayed: its connection was made outside the replay. It was sent to the network.',
    'sent whatever --replay-unmatched says: the option is not named',
  );
  const notReplayable = { outcome: 'unmatched', reason: 'not-replayable', differences: [], summary: 'a 101 to undici' };
  assert.equal(
    core.replaySentence(notReplayable, req),
    'Not replayed: a 101 to undici. It failed as a refused connection: the network is off during a replay.',
  );
  assert.deepEqual([core.replayTag(unheld), core.replayTag(notReplayable)], ['replay: passed', 'replay: not replayed']);
  assert.equal(core.unheldCount([{ replay: unheld }, { replay: { ...unmatched, outcome: 'passed' } }, {}, { replay: notReplayable }]), 1);
  assert.equal(core.replayCountsText({ replayed: 3, unmatched: 1, passed: 0 }), '3 replayed, 1 not in the recording');
  assert.equal(core.replayCountsText({ replayed: 0, unmatched: 0, passed: 0 }), '');
});

test("a file's marks are read back as they were written, and a malformed one is dropped", () => {
  const good = {
    outcome: 'unmatched',
    reason: 'differs',
    differences: ['a', 5, 'b'],
    summary: 'x'.repeat(3000),
    nearest: { call: 'req-1', method: 'GET', url: 'u', nearness: 'nope' },
  };
  assert.equal(core.fixReplayMark(good), true);
  assert.deepEqual(good.differences, ['a', 'b']);
  assert.equal(good.summary.length, 2000);
  assert.equal(good.nearest.nearness, undefined);
  assert.equal(core.fixReplayMark({ outcome: 'replayed', call: 'req-1', nth: 1, of: 1, end: 'exploded' }), false);
  assert.equal(core.fixReplayMark({ outcome: 'elsewhere' }), false);
  const run = core.normalizeReplayRun({
    file: 'r.json',
    source: 'har',
    counts: { replayed: 2, unmatched: -1 },
    options: { unmatched: 'pass', timing: 'sometimes' },
  });
  assert.deepEqual(run.counts, { replayed: 2, unmatched: 0, passed: 0 });
  assert.deepEqual(run.options, { unmatched: 'pass', timing: 'now', dates: 'shift' });
  assert.equal(core.normalizeReplayRun({ file: 'r.json', source: 'elsewhere' }), undefined);
});

test('the replay options: flags and launch attributes, never settings; what the preload gets', () => {
  const o = loadOptions();
  const names = [
    'replay',
    'replayUnmatched',
    'replayTiming',
    'replayDates',
    'replayIgnoreQuery',
    'replayIgnoreField',
    'replayMatchHeader',
    'replayIgnoreHost',
  ];
  for (const n of names) {
    const def = o.optionDef(n);
    assert.equal(def.launch, true, `${n} is a launch attribute`);
    assert.equal(def.setting, undefined, `${n} is no setting: a workspace's settings cannot turn a replay on`);
    assert.ok(def.cli, `${n} has a flag`);
  }
  const resolved = o.resolveTracingOptions([
    {
      values: { replay: 'run.json', replayTiming: 'recorded', replayMatchHeader: ['X-Tenant'], replayIgnoreQuery: ['t', 'nonce'] },
      label: (d) => d.name,
    },
  ]);
  assert.deepEqual(resolved.replay, {
    file: 'run.json',
    unmatched: 'fail',
    timing: 'recorded',
    dates: 'shift',
    ignoreQuery: ['t', 'nonce'],
    ignoreFields: [],
    matchHeaders: ['X-Tenant'],
    ignoreHost: false,
  });
  assert.deepEqual(o.toPreloadConfig(resolved, '/ipc').replay, { unmatched: 'fail', timing: 'recorded', matchHeaders: ['x-tenant'] });
  assert.equal(o.resolveTracingOptions([{ values: {}, label: (d) => d.name }]).replay, undefined);
  assert.equal(o.toPreloadConfig(o.resolveTracingOptions([{ values: {}, label: (d) => d.name }]), '/ipc').replay, undefined);
});
