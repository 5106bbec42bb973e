// covers: src/preload/clock/, src/trace/derive/loopBlocked.ts, src/trace/diagnosis/loopDiagnosis.ts
// needs: the build (dist/core.cjs)
// The event loop's share of a request (issue 39, item 1), without the helper: a traced program
// blocks its own event loop with a 300 ms busy loop while a request waits for its response (the
// server answers after 50 ms), while its body arrives, while its connection is made or while its
// TLS handshake runs; the trace must give at least 90% of the blocked time to the program
// (`loopBlocked`), in that phase, not to the server or the network, name the stretch where the
// program measured it, and say so in the diagnosis. A control run of the same program without the
// busy loop must attribute less than 10 ms. Every Node version the harness runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { nodeBinaries, req, runTraced } from './harness.mjs';
import { pem } from './servers.mjs';

let server;
let base;
let tlsServer;
/** The program's environment: where the HTTPS server is. */
let env;

before(async () => {
  server = http.createServer((request, res) => {
    const url = new URL(request.url, 'http://x');
    const delay = Number(url.searchParams.get('delay') ?? 0);
    const bodyDelay = Number(url.searchParams.get('bodyDelay') ?? 0);
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('head ');
      setTimeout(() => res.end('body'), bodyDelay);
    }, delay);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  tlsServer = https.createServer({ key: pem('localhost.key'), cert: pem('localhost.pem') }, (_request, res) => res.end('ok'));
  await new Promise((r) => tlsServer.listen(0, '127.0.0.1', r));
  env = { NT_TLS_BASE: `https://127.0.0.1:${tlsServer.address().port}` };
});

after(() => {
  server?.close();
  tlsServer?.close();
});

/** Blocked ms the trace gives the request, in all its phases. */
function blockedMs(r) {
  let ms = 0;
  for (const k of ['blocked', 'dns', 'connect', 'ssl', 'send', 'wait', 'receive']) ms += r.loopBlocked?.[k] ?? 0;
  return ms;
}

const CASES = [
  { name: 'http-wait', suffix: '/?delay=50', phase: 'wait', sentence: /the response had to wait for the program/ },
  { name: 'http-receive', suffix: '/?bodyDelay=50', phase: 'receive', sentence: /the body had to wait for the program/ },
  // A new connection made while the program held its thread: not a slow connect.
  {
    name: 'http-connect',
    suffix: '/?connect=1',
    phase: 'connect',
    sentence: /connecting, the event loop was blocked for \d+ ms — the connection had to wait for the program/,
  },
  // A TLS handshake whose server's answer arrived while the program held its thread.
  {
    name: 'https-tls',
    suffix: '/?tls=1',
    phase: 'ssl',
    sentence: /in the TLS handshake, the event loop was blocked for \d+ ms — the handshake had to wait for the program/,
  },
  { name: 'fetch-wait', suffix: '/?delay=50&fetch=1', phase: 'wait', sentence: /the response had to wait for the program/ },
];

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a 300 ms block of the event loop is the program's share, not the server's`, async () => {
    const { code, stdout, stderr, trace } = await runTraced(bin, 'loop-blocked.mjs', { args: [base, 'block'], env });
    assert.equal(code, 0, stderr);
    const measured = JSON.parse(stdout.trim().split('\n').pop());
    const beginEpoch = Date.parse(trace.traceBeginAt);
    for (const c of CASES) {
      const r = req(trace, c.suffix);
      const m = measured[c.name];
      assert.ok(m, `the program measured its ${c.name} block`);
      const blockMs = m.endAt - m.beginAt;
      const lb = r.loopBlocked;
      assert.ok(lb, `${c.name}: loopBlocked recorded (${JSON.stringify(r.timings)})`);
      // At least 90% of the block is given to the program, in the phase it happened in.
      const proc = trace.processes.find((p) => p.pid === r.pid && p.threadId === (r.threadId ?? 0));
      const facts = () =>
        JSON.stringify({
          block: [m.beginAt - beginEpoch, m.endAt - beginEpoch],
          r: [r.reqSentAt, r.respRecvAt, r.respDoneAt],
          lb,
          blocks: proc.loopBlocks,
        });
      assert.ok(
        lb[c.phase] >= 0.9 * blockMs,
        `${c.name}: ${lb[c.phase]} ms of the ${c.phase} blocked, the program blocked ${blockMs} ms: ${facts()}`,
      );
      // Each share lies within its phase.
      assert.ok(lb.wait <= Math.max(0, r.timings.wait) + 0.01 && lb.receive <= Math.max(0, r.timings.receive) + 0.01, facts());
      // The server's share is the rest: what it took (50 ms) is hidden inside the block, so what
      // remains is small, not the 300 ms a tool without the loop's view would blame it for.
      assert.ok(r.timings[c.phase] - lb[c.phase] < 60, `${c.name}: ${r.timings[c.phase] - lb[c.phase]} ms left to the server: ${facts()}`);
      // A stretch holds the block the program measured (it may begin early by the loop's own work
      // just before the block, and run on while the loop, back from it, is still busy).
      const begin = m.beginAt - beginEpoch;
      const end = m.endAt - beginEpoch;
      const s = lb.stretches.find((x) => x.beginAt <= begin + 12 && x.endAt >= end - 1);
      assert.ok(s, `${c.name}: a stretch holds the block ${begin}–${end}: ${JSON.stringify(lb.stretches)}`);
      // On a machine so loaded that the thread ran less than 50 ms of its block (it waited for a
      // CPU the rest, `machine`), the block is not said to be the program's (issue 49 item 14).
      if (blockedMs(r) - (lb.machine ?? 0) < 50) {
        assert.doesNotMatch(r.diagnosis ?? '', /event loop/, facts());
        continue;
      }
      // The diagnosis says so, and names that stretch's time, although the request is not slow.
      assert.match(r.diagnosis ?? '', /the event loop was blocked for \d+ ms/, `${c.name}: ${r.diagnosis}`);
      assert.match(r.diagnosis, c.sentence);
      const named = /blocked (\d+)–(\d+) ms into the trace/.exec(r.diagnosis);
      assert.ok(named, r.diagnosis);
      assert.deepEqual([Number(named[1]), Number(named[2])], [Math.round(s.beginAt), Math.round(s.endAt)], r.diagnosis);
      // The thread's stretches are kept on its process entry.
      assert.ok(proc.loopBlocks.some((b) => b.beginAt === s.beginAt && b.endAt === s.endAt));
    }
  });

  test(`${label}: control run without a block attributes less than 10 ms to the program`, async (t) => {
    // Up to three runs: on a machine whose CPUs are oversubscribed (load above the core count), a
    // callback the OS preempts counts as busy for as long as it waited to run again, and that can
    // exceed 10 ms once in a while. A monitor that reports an idle loop as blocked fails all three.
    const failures = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const { code, stdout, stderr, trace } = await runTraced(bin, 'loop-blocked.mjs', { args: [base, 'control'], env });
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()), {});
      const over = [];
      for (const c of CASES) {
        const r = req(trace, c.suffix);
        if (blockedMs(r) >= 10) over.push(`${c.name}: ${blockedMs(r)} ms given to the program: ${JSON.stringify(r.loopBlocked)}`);
        else assert.doesNotMatch(r.diagnosis ?? '', /event loop/);
      }
      if (over.length === 0) return;
      failures.push(`attempt ${attempt + 1} (load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs): ${over.join('; ')}`);
      t.diagnostic(failures.at(-1));
    }
    assert.fail(failures.join('\n'));
  });
}

const { diagnoseIncoming } = createRequire(import.meta.url)('../../dist/core.cjs');

// A server: a handler that holds its thread 250 ms (synchronous work) is the program's time with
// its loop blocked, and its sentence says so; one that waits as long on a timer is the program's
// time too, but with its thread free, and its sentence does not blame the loop.
for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a served request whose handler held the thread: its loop share and sentence; one that waited on a timer has none`, async () => {
    const { code, stdout, stderr, trace } = await runTraced(bin, 'loop-served.mjs');
    assert.equal(code, 0, stderr);
    const m = JSON.parse(stdout.trim().split('\n').pop()).sync;
    const begin = m.beginAt - Date.parse(trace.traceBeginAt);
    const served = (path) => trace.incomingRequests.find((i) => new URL(i.reqURL).pathname === path);
    const sync = served('/sync');
    const facts = JSON.stringify({ block: [begin, begin + m.endAt - m.beginAt], sync, blocks: trace.processes.map((p) => p.loopBlocks) });
    assert.ok(sync.loopBlocked?.total >= 0.9 * (m.endAt - m.beginAt), facts);
    assert.ok(
      sync.loopBlocked.stretches.some((x) => x.beginAt <= begin + 12 && x.endAt >= begin + (m.endAt - m.beginAt) - 1),
      facts,
    );
    // On a loaded machine the part the thread waited for a CPU is said (issue 49 item 14), and a
    // block of which less than 50 ms was surely the thread's own is not named.
    if (sync.loopBlocked.total - (sync.loopBlocked.machine ?? 0) >= 50) {
      assert.match(
        diagnoseIncoming(sync, []),
        /in the program itself \(it made no call\), its event loop blocked for \d+ ms of it( \(for up to [\d.]+ ms of it the thread waited for a CPU: the machine was busy\))?; blocked \d+–\d+ ms into the trace/,
      );
    } else assert.doesNotMatch(diagnoseIncoming(sync, []), /event loop/, facts);
    const timer = served('/async');
    assert.ok(!(timer.loopBlocked?.total >= 10), JSON.stringify(timer));
    assert.match(diagnoseIncoming(timer, []), /^\d+ of \d+ ms in the program itself \(it made no call\)$/);
  });
}

/** Starts `n` busy processes pinned to CPU `cpu`; returns a function that stops them. */
function hogs(cpu, n) {
  const procs = Array.from({ length: n }, () =>
    spawn('taskset', ['-c', String(cpu), process.execPath, '-e', 'for (;;);'], { stdio: 'ignore' }),
  );
  return () => procs.forEach((p) => p.kill('SIGKILL'));
}

// A busy machine is not the program's block. The program shares one CPU with four busy processes,
// so the OS preempts its callbacks: a callback doing 10 ms of CPU work takes 20–40 ms on the clock,
// past the 20 ms a block must last, most of it waiting for the CPU. The trace must not give those
// waits to the program (it did, 11–55 ms a request, before the monitor read the thread's scheduler
// clock: the old monitor fails this in every run), and a real 300 ms block on that CPU must still
// be the program's, whole, though the program ran for only about a fifth of it. (With six busy
// processes its share came down to 20 ms in CI, and the run-queue wait alone, which also holds
// the waits for the CPU after each wake-up, lost the block.)
const HOGS = 4;

/** One traced run of the busy-machine case `mode` on CPU 0: what is wrong with it, or nothing. */
async function busyRun(mode) {
  const { code, stdout, stderr, trace } = await runTraced(process.execPath, 'loop-blocked.mjs', { args: [base, mode, '0'], env });
  assert.equal(code, 0, stderr);
  const measured = JSON.parse(stdout.trim().split('\n').pop());
  const wrong = [];
  for (const c of CASES) {
    const r = req(trace, c.suffix);
    const m = measured[c.name];
    assert.ok(m, `the program ran its ${c.name} callback`);
    const took = m.endAt - m.beginAt;
    if (mode === 'short' && (blockedMs(r) >= 10 || /event loop/.test(r.diagnosis ?? '')))
      wrong.push(`${c.name}: ${blockedMs(r)} ms given to the program (the callback took ${took} ms): ${JSON.stringify(r.loopBlocked)}`);
    // The thread did not run for all of the block: that part is said to be the machine's (issue 49
    // item 14), though the share on the clock stays whole. How much depends on the kernel's
    // scheduler (a thread waking from a sleep is placed ahead of the hogs: 40–90 ms of a 300 ms
    // block in one run with a loaded machine, four fifths in another), so only its presence is checked.
    if (mode === 'block' && !(r.loopBlocked?.machine > 0))
      wrong.push(`${c.name}: no part of the ${took} ms block said to be the machine's: ${JSON.stringify(r.loopBlocked)}`);
    if (mode === 'block' && !(r.loopBlocked?.[c.phase] >= 0.9 * took))
      wrong.push(
        `${c.name}: ${JSON.stringify(r.loopBlocked)} for a block of ${took} ms (${m.beginAt - Date.parse(trace.traceBeginAt)} ms ` +
          `into the trace; the thread's stretches: ${JSON.stringify(trace.processes.flatMap((p) => p.loopBlocks ?? []))})`,
      );
  }
  return wrong.join('; ');
}

test('a busy machine: a preempted 10 ms callback is not a block; a 300 ms block still is', async (t) => {
  const stop = hogs(0, HOGS);
  try {
    // Two tries each, as the control run's: what a tick can meet on a loaded CI machine besides
    // the hogs (a collection, a compile) once; a monitor that counts the waits for a core fails both.
    for (const mode of ['short', 'block']) {
      const first = await busyRun(mode);
      if (!first) continue;
      t.diagnostic(`${mode}, first try (load average ${loadavg()[0].toFixed(1)}): ${first}`);
      const second = await busyRun(mode);
      assert.equal(second, '', `${mode}: ${first} / then: ${second}`);
    }
  } finally {
    stop();
  }
});
