// covers: src/preload/playback/, src/collector/replay.ts, src/cli/replayLines.ts
// Replay a run (issue 64, docs/replay.md), on every Node of the suite, each test recording a run of
// apps/replay-observe.mjs against real servers (replayServers.mjs) with `nettrace run --record`
// and replaying it: five polls of one URL get the five recorded answers in order, and their dates
// move by the time since the recording; two concurrent answers that came B before A come B before
// A again with their recorded first-byte delays (±10 ms plus the loop's lag); a program changed to
// send one other body field is told which field differed and its line, and the rest still replay;
// `--replay-unmatched pass` sends what is not in the recording to the network, and only that. Also
// `nettrace run --replay` refuses a file that is not a recording; a replayed program exits as soon
// as a real one, its idle keep-alive connection unref'd. Every client and failure, with
// every server stopped: replay-differential.test.mjs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, nodeBinaries, readTraced, root, run } from './harness.mjs';
import { caFile } from './servers.mjs';
import { maskPorts, observedLines, startReplayServers } from './replayServers.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-replay-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
let files = 0;
const app = join(apps, 'replay-observe.mjs');
const baseEnv = { NODE_EXTRA_CA_CERTS: caFile, NODE_PATH: join(root, 'node_modules') };

/** Runs the program under `nettrace run` with `flags`; its result, its lines, the trace (readTraced) and its file. */
async function traced(bin, env, flags) {
  const out = join(tmp, `t-${++files}.json`);
  const res = await run(process.execPath, [cli, 'run', '--helper', 'off', '--out', out, ...flags, '--', bin, app], {
    env: { ...baseEnv, ...env },
  });
  const trace = existsSync(out) ? readTraced(out) : undefined;
  return { ...res, lines: res.stdout.trim() ? observedLines(res.stdout) : [], trace, out };
}

/** Records a run of the program (`--record`): its result, lines, trace and file. */
async function recorded(bin, env) {
  const r = await traced(bin, env, ['--quiet', '--record']);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

/** Runs the program replayed from the recording in `file`. */
const replayed = (bin, file, env, flags = []) => traced(bin, env, ['--replay', file, ...flags]);

for (const { label, bin } of nodeBinaries()) {
  describe(`${label}: replays built from what the servers sent`, { concurrency: 3 }, () => {
    test('five polls of one URL get the five recorded answers in order; the dates move by the time since the recording', async () => {
      const s = await startReplayServers();
      const calls = Array.from({ length: 5 }, () => ({ url: `http://127.0.0.1:${s.ports.h1}/jobs/7` }));
      const env = { NT_CLIENT: 'fetch', NT_CALLS: JSON.stringify(calls) };
      let rec;
      try {
        rec = await recorded(bin, env);
      } finally {
        await s.close();
      }
      const want = rec.lines;
      // Recorded an hour earlier: the replayed Date is an hour later than the recorded one.
      const file = JSON.parse(readFileSync(rec.out, 'utf8'));
      file.recording.recordedAt -= 3_600_000;
      writeFileSync(rec.out, JSON.stringify(file));
      const r = await replayed(bin, rec.out, env);
      assert.equal(r.code, 0, r.stderr);
      const numbers = r.lines.map((l) => JSON.parse(Buffer.from(l.body, 'base64').toString()).n);
      assert.deepEqual(numbers, [1, 2, 3, 4, 5]);
      r.lines.forEach((l, i) => assert.equal(l.body, want[i].body, `poll ${i + 1}: the recorded body, random id and time included`));
      const dateOf = (l) => Date.parse(l.headers.find(([k]) => k === 'date')[1]);
      for (let i = 0; i < 5; i++) {
        const moved = dateOf(r.lines[i]) - dateOf(want[i]);
        assert.ok(moved >= 3_600_000 && moved < 3_600_000 + 120_000, `Date moved by the time since the recording: ${moved} ms`);
      }
      assert.deepEqual(
        r.trace.httpRequests.map((q) => [q.replay.nth, q.replay.of]),
        [1, 2, 3, 4, 5].map((n) => [n, 5]),
      );
      assert.match(r.trace.httpRequests[1].diagnosis, /^Replayed: answered from the recording \(the 2nd of 5 recorded GET \/jobs\/7\)/);
    });

    for (const client of ['http', 'fetch']) {
      test(`${client}: two concurrent answers that came B before A come B before A with their recorded delays`, async () => {
        const s = await startReplayServers();
        const base = `http://127.0.0.1:${s.ports.h1}`;
        const calls = [{ url: `${base}/slow/160` }, { url: `${base}/slow/60` }];
        const env = { NT_CLIENT: client, NT_CALLS: JSON.stringify(calls), NT_CONCURRENT: '1', NT_TIMES: '1', NT_WARMUP: `${base}/jobs/1` };
        let rec;
        try {
          rec = await recorded(bin, env);
        } finally {
          await s.close();
        }
        const file = JSON.parse(readFileSync(rec.out, 'utf8'));
        const timingOf = (path) => {
          const q = rec.trace.httpRequests.find((x) => x.reqURL.endsWith(path));
          return file.exchanges.find((x) => x.traceID === q.traceID).timing;
        };
        const recordedA = timingOf('/slow/160');
        const recordedB = timingOf('/slow/60');
        assert.ok(recordedB.firstByteMs < recordedA.firstByteMs, 'recorded B before A');
        const r = await replayed(bin, rec.out, env, ['--replay-timing', 'recorded']);
        assert.equal(r.code, 0, r.stderr);
        const [a, b, lag] = r.lines;
        assert.ok(b.headAt < a.headAt, `B's head before A's: ${b.headAt} < ${a.headAt}`);
        assert.ok(b.endAt < a.endAt, 'and its end');
        const slack = 10 + lag.lag;
        for (const [got, want] of [
          [a.headAt, recordedA.firstByteMs],
          [b.headAt, recordedB.firstByteMs],
        ])
          assert.ok(Math.abs(got - want) <= slack, `first byte after ${got.toFixed(1)} ms, recorded ${want} ms (±${slack.toFixed(1)})`);
        // The body's second part came after the first as recorded: the server sends it 30 ms
        // later, and a busy machine may have read the two closer together, so the recording says.
        // The program reads the head late by as much as its loop lagged (a busy machine), and
        // the second part then sooner after it.
        const paced = Math.max(...(recordedA.chunks ?? [[0]]).map(([ms]) => ms));
        assert.ok(paced > 0, `the recording holds the body's pace: ${JSON.stringify(recordedA.chunks)}`);
        assert.ok(
          a.endAt - a.headAt >= paced - 2 - lag.lag,
          `body parts paced: ${(a.endAt - a.headAt).toFixed(1)} ms, recorded ${paced} ms (the loop lagged ${lag.lag.toFixed(1)} ms)`,
        );
        for (const q of r.trace.httpRequests.filter((x) => x.reqURL.includes('/slow/'))) assert.equal(q.replay.timing, 'recorded');
      });
    }

    test('a program that sends one other body field is told which field differed, and its line; the rest still replay', async () => {
      const s = await startReplayServers();
      const base = `http://127.0.0.1:${s.ports.h1}`;
      const calls = [
        { url: `${base}/jobs/1` },
        { method: 'POST', url: `${base}/json`, body: '{"qty":4,"sku":"a"}', headers: { 'content-type': 'application/json' } },
        { url: `${base}/jobs/2` },
      ];
      const env = { NT_CLIENT: 'http', NT_CALLS: JSON.stringify(calls) };
      let rec;
      try {
        rec = await recorded(bin, env);
      } finally {
        await s.close();
      }
      const want = rec.lines;
      const changed = calls.map((c) => (c.body ? { ...c, body: '{"qty":5,"sku":"a"}' } : c));
      const har = join(tmp, `div-${++files}.har`);
      const spans = join(tmp, `div-${files}.otlp.json`);
      const r = await replayed(bin, rec.out, { NT_CLIENT: 'http', NT_CALLS: JSON.stringify(changed) }, [
        '--har',
        har,
        '--otlp-file',
        spans,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(maskPorts(r.lines[0]).body, maskPorts(want[0]).body, 'the 1st request still replays');
      assert.deepEqual(maskPorts(r.lines[2]).body, maskPorts(want[2]).body, 'and the 3rd');
      assert.equal(r.lines[1].error?.code, 'ECONNREFUSED', 'the changed one fails as a refused connection');
      const q = r.trace.httpRequests.find((x) => x.reqMethod === 'POST');
      assert.equal(q.replay.outcome, 'unmatched');
      assert.deepEqual(q.replay.differences, ['body field `qty`: 5, recorded 4']);
      assert.match(
        q.diagnosis,
        /^Not in the recording: POST \/json differed from the nearest recorded request \(req-2, POST http:\/\/127\.0\.0\.1:\d+\/json\): body field `qty`: 5, recorded 4\. It failed as a refused connection: the network is off during a replay\./,
      );
      assert.match(r.stderr, /not in the recording \(replay-observe\.mjs:\d+\): POST \/json differed .*body field `qty`: 5, recorded 4/);
      assert.deepEqual(r.trace.replay.counts, { replayed: 2, unmatched: 1, passed: 0 });
      // The HAR's comment and the span's attribute say it too.
      const entries = JSON.parse(readFileSync(har, 'utf8')).log.entries;
      assert.match(entries.find((e) => e.request.method === 'POST').comment, /^Not in the recording: POST \/json differed/);
      assert.match(entries[0].comment, /^Replayed: answered from the recording/);
      assert.equal(entries[0]._replay.outcome, 'replayed');
      const attrs = readFileSync(spans, 'utf8');
      assert.match(attrs, /"key":"nettrace\.replay","value":\{"stringValue":"unmatched"\}/);
      assert.match(attrs, /"key":"nettrace\.replay","value":\{"stringValue":"replayed"\}/);
      // `nettrace show` lists it with its divergence and line.
      const shown = await run(process.execPath, [cli, 'show', r.out]);
      // And its summary counts them.
      const summary = await run(process.execPath, [cli, 'show', '--summary', r.out]);
      assert.match(
        summary.stdout,
        /Replay of t-\d+\.json: 2 requests answered from the recording, 1 not in it \(failed: the network is off\)/,
      );
      const json = JSON.parse((await run(process.execPath, [cli, 'show', '--summary', '--json', r.out])).stdout);
      // The recorded POST (qty 4) was asked for by no request: unused.
      assert.deepEqual(json.replay, { file: json.replay.file, replayed: 2, unmatched: 1, passed: 0, unused: 1 });
      assert.match(shown.stdout, /\[replay: not recorded\]/);
      assert.match(shown.stdout, /not in the recording \(replay-observe\.mjs:\d+\): POST \/json differed/);
    });

    for (const client of ['http', 'fetch', 'undici']) {
      test(`${client}: --replay-unmatched pass sends what is not in the recording to the network, and only that`, async () => {
        const s = await startReplayServers();
        try {
          const base = `http://127.0.0.1:${s.ports.h1}`;
          const env = { NT_CLIENT: client, NT_CALLS: JSON.stringify([{ url: `${base}/jobs/7` }]) };
          const rec = await recorded(bin, env);
          const want = rec.lines;
          s.log.length = 0;
          const calls = [{ url: `${base}/jobs/7` }, { url: `${base}/jobs/9` }, { url: `${base}/jobs/7` }];
          const r = await replayed(bin, rec.out, { NT_CLIENT: client, NT_CALLS: JSON.stringify(calls) }, ['--replay-unmatched', 'pass']);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.lines[0].body, want[0].body, 'the recorded one from the recording');
          assert.deepEqual(
            s.log.map((e) => new URL(e.url).pathname),
            ['/jobs/9', '/jobs/7'],
            'only the requests not in the recording reached the server (the 2nd /jobs/7 was made more often than recorded)',
          );
          const served = JSON.parse(Buffer.from(r.lines[1].body, 'base64').toString());
          assert.equal(served.n, 1, "the server's own answer");
          assert.equal(r.lines[1].status, 200);
          const marks = r.trace.httpRequests.map((q) => q.replay.outcome);
          assert.deepEqual(marks, ['replayed', 'passed', 'passed']);
          assert.equal(r.trace.httpRequests[1].replay.reason, 'differs');
          assert.match(r.trace.httpRequests[2].replay.summary, /made more often than recorded/);
          assert.deepEqual(r.trace.replay.counts, { replayed: 1, unmatched: 0, passed: 2 });
        } finally {
          await s.close();
        }
      });
    }
  });
}

test('a replayed program exits as soon as against its servers: an idle keep-alive connection the client unrefs holds it no longer', async () => {
  // undici unrefs an idle connection it keeps (here for 60 s): the real run ends at once. The
  // replay's stand-in for the connection follows that unref; before, the replayed run waited out
  // the keep-alive.
  const s = await startReplayServers();
  const calls = [{ url: `http://127.0.0.1:${s.ports.h1}/jobs/7` }, { url: `http://127.0.0.1:${s.ports.h1}/jobs/7` }];
  const env = { NT_CLIENT: 'undici', NT_KEEPALIVE_MS: '60000', NT_CALLS: JSON.stringify(calls) };
  let rec;
  try {
    rec = await recorded(process.execPath, env);
  } finally {
    await s.close();
  }
  const t0 = Date.now();
  const r = await replayed(process.execPath, rec.out, env, ['--replay-dates', 'keep']);
  const took = Date.now() - t0;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines.map(maskPorts), rec.lines.map(maskPorts));
  assert.deepEqual(r.trace.replay.counts, { replayed: 2, unmatched: 0, passed: 0 });
  assert.ok(took < 30_000, `the replayed run ended after ${took} ms, not once its keep-alive (60 s) ran out`);
});

test('a request whose agent connects by itself, outside the replay, goes to the network: marked passed (unheld), counted, and said so, not as a refusal', async () => {
  // As npm's agent: the connection is made a step after the request asks for it, where the replay
  // does not hold it. The server stays up, so the request gets the network's answer.
  const s = await startReplayServers();
  try {
    const calls = [{ url: `http://127.0.0.1:${s.ports.h1}/jobs/7` }];
    const env = { NT_CLIENT: 'http', NT_AGENT: 'later', NT_CALLS: JSON.stringify(calls) };
    const rec = await recorded(process.execPath, env);
    assert.equal(rec.lines[0].status, 200);
    const r = await replayed(process.execPath, rec.out, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.lines[0].status, 200, 'the network answered it');
    const [req] = r.trace.httpRequests;
    assert.equal(req.replay.outcome, 'passed');
    assert.equal(req.replay.reason, 'unheld');
    assert.deepEqual(r.trace.replay.counts, { replayed: 0, unmatched: 0, passed: 1 });
    assert.match(
      req.diagnosis,
      /^Not replayed: its connection was made outside the replay \(by an agent that connects by itself\)\. It was sent to the network\./,
    );
    const said = r.stdout + r.stderr;
    assert.match(said, /1 not replayed \(its connection was made outside the replay\), sent to the network/);
    assert.match(said, /\n {2}not replayed \(replay-observe\.mjs:\d+\): its connection was made outside the replay/);
    assert.doesNotMatch(said, /--replay-unmatched pass/);
  } finally {
    await s.close();
  }
});

test("nettrace run --replay refuses a file that is not a recording, with the reader's plain sentence, before the program runs", async () => {
  const marker = join(tmp, 'ran');
  const program = ['--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`];
  const notJson = join(tmp, 'notes.txt');
  writeFileSync(notJson, 'hello');
  const plain = join(tmp, 'plain-trace.json');
  writeFileSync(plain, JSON.stringify({ formatVersion: 1, traceBeginAt: new Date().toISOString(), httpRequests: [] }));
  const cases = [
    [join(tmp, 'missing.json'), /--replay .*missing\.json: no such file/],
    [notJson, /--replay: notes\.txt is not JSON .*a recording is a trace recorded with `--record` or a HAR/],
    [
      join(root, 'package.json'),
      /--replay: package\.json: This file is neither a Net Trace trace \(no `httpRequests`\) nor a HAR \(no `log`\)/,
    ],
    [plain, /--replay: plain-trace\.json: This trace was not recorded for replay \(it has no `exchanges`\)/],
  ];
  for (const [file, message] of cases) {
    const r = await run(process.execPath, [cli, 'run', '--helper', 'off', '--out', join(tmp, 'never.json'), '--replay', file, ...program]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, 'one line');
  }
  assert.equal(existsSync(marker), false, 'the program never ran');
});
