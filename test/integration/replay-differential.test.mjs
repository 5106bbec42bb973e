// covers: src/preload/message/recorder.ts, src/preload/http/httpRecord.ts, src/preload/undici/undiciRecord.ts, src/trace/builder/recordings.ts, src/preload/playback/, src/collector/replay.ts, src/replay/
// Replay a run, differentially (issue 64's acceptance, docs/replay.md), on every Node of the suite:
// a program (apps/replay-observe.mjs) observes its requests (status, reason, header pairs, body
// bytes, trailers, streamed events; for a failure the error's class, code, errno, syscall, message
// and cause chain; got's retries; WebSocket messages and the close) for one client at a time:
// node:http, node:https, fetch, userland undici, node:http2, axios, got, node-fetch and ws, against
// real local servers (replayServers.mjs) that number their answers and put random ids and the time
// in them: answers, a gzip body, chunked with a trailer, an event stream, 503 with Retry-After, a
// reset before the answer and one in the middle of the body, a server that never answers, a closed
// port, NXDOMAIN from a local DNS server, an expired certificate. The run is recorded once with
// `nettrace run --record`; every server is stopped (its port then refuses); the same program run
// with `--replay` of that trace, at once and with the recorded timing, observes the same, case by
// case (addresses and ports masked), with no request reaching a network; and `nettrace diff` of the
// recorded and the replayed trace shows no change. Then the program changed (a call dropped, one
// added): `nettrace diff` shows those changes, and only those.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, nodeBinaries, readTraced, root, run } from './harness.mjs';
import { caFile } from './servers.mjs';
import { refusedPort } from '../lib/ports.mjs';
import { maskPorts, observedLines, startReplayServers } from './replayServers.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-replay-diff-'));
process.on('exit', () => process.env.NT_KEEP || rmSync(tmp, { recursive: true, force: true }));
let files = 0;
const app = join(apps, 'replay-observe.mjs');
const baseEnv = { NODE_EXTRA_CA_CERTS: caFile, NODE_PATH: join(root, 'node_modules') };

/** The calls a client makes: every kind of answer and failure. */
function casesFor(client, s, refused) {
  if (client === 'ws') {
    const send = [{ text: 'hello' }, { binary: Buffer.from([0, 1, 2, 250, 255]).toString('base64') }];
    return [
      { url: `ws://127.0.0.1:${s.ports.ws}/chat`, send },
      { url: `ws://127.0.0.1:${s.ports.ws}/chat`, send },
      { url: `ws://127.0.0.1:${refused}/chat` },
      { url: `ws://nx.test:${s.ports.ws}/chat` },
    ];
  }
  const tls = client === 'https' || client === 'http2';
  const base =
    client === 'http2' ? `https://localhost:${s.ports.h2}` : tls ? `https://localhost:${s.ports.tls}` : `http://127.0.0.1:${s.ports.h1}`;
  const scheme = tls ? 'https' : 'http';
  return [
    { url: `${base}/jobs/7` },
    { url: `${base}/jobs/7` },
    { method: 'POST', url: `${base}/json`, body: '{"qty":4,"sku":"a"}', headers: { 'content-type': 'application/json' } },
    { url: `${base}/gzip` },
    { url: `${base}/chunked` },
    { url: `${base}/sse` },
    { url: `${base}/busy` },
    { url: `${base}/reset-before` },
    { url: `${base}/reset-mid` },
    { url: `${base}/never`, timeoutMs: 300 },
    { url: `${scheme}://127.0.0.1:${refused}/x` },
    { url: `${scheme}://nx.test:${s.ports.h1}/x` },
    // node:http speaks no TLS.
    ...(client === 'http' ? [] : [{ url: `https://localhost:${s.ports.expired}/x` }]),
  ];
}

/** Runs the program under `nettrace run` with `flags`: its exit, its lines, stderr and the trace file. */
async function traced(bin, flags, env, dnsAddress) {
  const out = join(tmp, `t-${++files}.json`);
  const res = await run(
    process.execPath,
    [cli, 'run', '--quiet', '--helper', 'off', `--dns-trace=${dnsAddress}`, '--out', out, ...flags, '--', bin, app],
    { env: { ...baseEnv, ...env }, timeoutMs: 120_000 },
  );
  return { ...res, lines: observedLines(res.stdout), out };
}

/** Whether something listens on 127.0.0.1:`port`. */
const listening = (port) =>
  new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => (c.destroy(), resolve(true)));
    c.on('error', () => resolve(false));
  });

const CLIENTS = ['http', 'https', 'fetch', 'undici', 'http2', 'axios', 'got', 'node-fetch', 'ws'];

for (const { label, bin } of nodeBinaries()) {
  describe(
    `${label}: recorded with --record, replayed with every server stopped, the program observes the same`,
    { concurrency: 2 },
    () => {
      for (const client of CLIENTS) {
        test(client, { timeout: 240_000 }, async () => {
          const s = await startReplayServers();
          const refused = await refusedPort();
          const calls = casesFor(client, s, refused);
          const env = { NT_CLIENT: client, NT_CALLS: JSON.stringify(calls) };
          let recorded;
          try {
            recorded = await traced(bin, ['--record'], env, s.dnsAddress);
          } finally {
            await s.close();
          }
          assert.equal(recorded.code, 0, recorded.stderr);
          assert.equal(recorded.lines.length, calls.length, recorded.stderr);
          for (const port of [...Object.values(s.ports), Number(s.dnsAddress.split(':')[1])])
            assert.equal(await listening(port), false, `port ${port} is free: its server stopped`);

          // Replayed at once (the default) and with the recorded timing: the same either way.
          let replayed;
          for (const timing of ['now', 'recorded']) {
            replayed = await traced(
              bin,
              ['--replay', recorded.out, '--replay-dates', 'keep', '--replay-timing', timing],
              env,
              s.dnsAddress,
            );
            if (process.env.NT_KEEP) console.log(`# ${client} ${timing}: ${recorded.out} ${replayed.out}`);
            assert.equal(replayed.code, 0, replayed.stderr);
            assert.equal(replayed.lines.length, calls.length, replayed.stderr);
            calls.forEach((c, i) =>
              assert.deepEqual(
                maskPorts(replayed.lines[i]),
                maskPorts(recorded.lines[i]),
                `${client} ${c.url}, --replay-timing ${timing}: observed as against the servers`,
              ),
            );

            // Every request was answered from the recording, none reached a network (no name asked, no connection made).
            const rec = readTraced(recorded.out);
            const rep = readTraced(replayed.out);
            assert.equal(rep.httpRequests.length, rec.httpRequests.length, 'one request per recorded one');
            for (const q of rep.httpRequests) {
              assert.equal(q.replay?.outcome, 'replayed', `${q.reqURL}: ${JSON.stringify(q.replay)}`);
              for (const phase of ['dns', 'connect', 'ssl'])
                assert.ok(!(q.timings[phase] > 0), `${q.reqURL}: no ${phase} phase (${q.timings[phase]})`);
            }
            assert.deepEqual(rep.dnsQueries ?? [], [], 'no DNS query');
            for (const c of rep.tcpConns ?? []) assert.notEqual(c.connected, true, `no connection was made: ${JSON.stringify(c)}`);
            assert.deepEqual(rep.replay.counts, { replayed: rep.httpRequests.length, unmatched: 0, passed: 0 });
            assert.equal(rep.replay.unused, 0, 'every recorded call was asked for');
            assert.deepEqual(rep.replay.warnings ?? [], [], 'the recording read whole');
          }

          // `nettrace diff` of the recorded run and the one replayed with its timing: the same routes, as often, failing as often, nothing notable.
          const d = await run(process.execPath, [cli, 'diff', '--json', recorded.out, replayed.out]);
          assert.equal(d.code, 0, d.stderr);
          const diff = JSON.parse(d.stdout);
          assert.deepEqual([diff.added, diff.gone], [[], []], 'no route new or gone');
          for (const r of diff.routes) {
            assert.equal(r.countB, r.countA, `${r.label}: as many requests`);
            assert.equal(r.errorRate.b, r.errorRate.a, `${r.label}: as many failures`);
            assert.deepEqual(r.errors, [], `${r.label}: the same failures`);
            assert.equal(r.notable, false, `${r.label}: ${r.sentence}`);
          }
        });
      }
    },
  );
}

test('nettrace diff of a recorded run and a replay of the program changed shows the changes the program made, and only those', async () => {
  const s = await startReplayServers();
  const base = `http://127.0.0.1:${s.ports.h1}`;
  const calls = [{ url: `${base}/jobs/7` }, { url: `${base}/jobs/7` }, { url: `${base}/gzip` }, { url: `${base}/busy` }];
  let recorded;
  try {
    recorded = await traced(process.execPath, ['--record'], { NT_CLIENT: 'fetch', NT_CALLS: JSON.stringify(calls) }, s.dnsAddress);
  } finally {
    await s.close();
  }
  assert.equal(recorded.code, 0, recorded.stderr);
  // The program changed: no /gzip any more, a new call to /extra (not in the recording: refused).
  const changed = [calls[0], calls[1], calls[3], { url: `${base}/extra` }];
  const replayed = await traced(
    process.execPath,
    ['--replay', recorded.out, '--replay-timing', 'recorded'],
    { NT_CLIENT: 'fetch', NT_CALLS: JSON.stringify(changed) },
    s.dnsAddress,
  );
  assert.equal(replayed.code, 0, replayed.stderr);
  assert.equal(replayed.lines[3].error?.cause?.code, 'ECONNREFUSED', 'the new call failed: the network is off');
  const d = await run(process.execPath, [cli, 'diff', '--json', recorded.out, replayed.out]);
  assert.equal(d.code, 0, d.stderr);
  const diff = JSON.parse(d.stdout);
  const path = (label) => label.replace(/^GET 127\.0\.0\.1:\d+/, 'GET ');
  assert.deepEqual(
    diff.added.map((r) => [path(r.label), r.count]),
    [['GET /extra', 1]],
    'the new call',
  );
  assert.deepEqual(
    diff.gone.map((r) => [path(r.label), r.count]),
    [['GET /gzip', 1]],
    'the call no longer made',
  );
  assert.deepEqual(diff.routes.map((r) => path(r.label)).sort(), ['GET /busy', 'GET /jobs/:id']);
  for (const r of diff.routes) {
    assert.deepEqual([r.countB, r.errorRate.b, r.errors, r.notable], [r.countA, r.errorRate.a, [], false], r.label);
  }
  // The text says the same.
  const text = await run(process.execPath, [cli, 'diff', recorded.out, replayed.out]);
  assert.match(text.stdout, /\/extra/);
  assert.match(text.stdout, /\/gzip/);
});
