// covers: src/preload/firstUse.ts
// needs: the build (dist/core.cjs, dist/preload.cjs)
// Nothing completed is lost to an ending thread or process, and what could not be sent is
// counted: workers terminated right after a request, process.exit() in a response handler,
// SIGTERM with Node's default action, SIGKILL (the collector keeps the request it saw start as
// `incomplete`), a flush entry point for a paused debuggee, a program that patches the APIs the
// preload uses, a bad configuration, and a collector stopped with SIGSTOP.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServers } from './servers.mjs';
import { apps, nodeBinaries, root } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const preload = join(root, 'dist', 'preload.cjs');

let servers;
before(async () => {
  servers = await startServers();
});
after(() => servers.close());

/** Children still running when a test ends (it failed half-way) are killed. */
const children = new Set();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

/** Starts `node <script>` traced into `collector`; returns the child and a promise of its end. */
function start(bin, script, collector, { env = {}, config = {}, args = [], stdin = 'ignore' } = {}) {
  const childEnv = core.buildPreloadEnv(
    { ...process.env, ...env },
    { preloadPath: preload, config: { ipcPath: collector.ipcPath, ...config } },
  );
  const child = spawn(bin, [script, ...args], { env: childEnv, stdio: [stdin, 'pipe', 'pipe'] });
  children.add(child);
  child.on('close', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const waiters = [];
  child.stdout.on('data', () => {
    for (const w of waiters.splice(0)) if (!w(stdout)) waiters.push(w);
  });
  const done = new Promise((resolve) =>
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        get stdout() {
          return stdout;
        },
        get stderr() {
          return stderr;
        },
      }),
    ),
  );
  const waitFor = (text) =>
    new Promise((resolve) => {
      const check = (out) => {
        if (out.includes(text)) resolve(out);
        return out.includes(text);
      };
      if (!check(stdout)) waiters.push(check);
    });
  return { child, done, waitFor, output: () => ({ stdout, stderr }) };
}

const lifecycleApp = join(apps, 'lifecycle.cjs');

/** Waits until `check()` is true (polling), or fails after `ms`. */
async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The requests whose URL contains `part`. */
const reqsOf = (trace, part) => trace.httpRequests.filter((r) => r.reqURL.includes(part));

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: 100 workers, each terminated right after its fetch posted the status: 100 requests, 100 threads`, async () => {
    const collector = await core.startCollector({ description: 'workers' });
    try {
      // 100 terminations: 2 processes of 50 workers, 3 at a time in each.
      const results = await Promise.all(
        [0, 1].map(
          () =>
            start(bin, lifecycleApp, collector, {
              env: { NT_MODE: 'workers', NT_COUNT: '50', NT_PARALLEL: '3', NT_URL: servers.urls.http },
            }).done,
        ),
      );
      for (const r of results) {
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^statuses 50$/m);
      }
      assert.ok(await collector.waitForIdle({ timeoutMs: 10_000 }));
      const trace = collector.session.snapshot();
      const reqs = reqsOf(trace, '/w?id=');
      assert.equal(reqs.length, 100, `requests in the trace: ${reqs.length}`);
      for (const r of reqs) {
        assert.equal(r.respStatusCode, 200, r.reqURL);
        assert.ok(r.threadId > 0, r.reqURL);
        assert.equal(r.incomplete, undefined, r.reqURL);
      }
      assert.equal(trace.processes.filter((p) => p.threadId > 0).length, 100, 'one process record per worker');
      assert.equal(trace.stats.droppedEvents, 0);
    } finally {
      await collector.close();
    }
  });

  test(`${label}: process.exit() in a response handler: the request is complete, the exit code recorded`, async () => {
    const collector = await core.startCollector({ description: 'exit' });
    try {
      const r = await start(bin, lifecycleApp, collector, { env: { NT_MODE: 'exit', NT_URL: servers.urls.http } }).done;
      assert.equal(r.code, 3, r.stderr);
      assert.ok(await collector.waitForIdle({ timeoutMs: 5000 }));
      const trace = collector.session.snapshot();
      const [req] = reqsOf(trace, '/exit');
      assert.equal(req.respStatusCode, 200);
      assert.equal(typeof req.respDoneAt, 'number');
      assert.equal(req.incomplete, undefined);
      assert.equal(trace.processes.find((p) => p.threadId === 0).exitCode, 3);
    } finally {
      await collector.close();
    }
  });

  test(`${label}: SIGTERM right after a response, no handler (Node's default: die at once): the completed request had already left`, async () => {
    const collector = await core.startCollector({ description: 'sigterm' });
    try {
      const r = await start(bin, lifecycleApp, collector, { env: { NT_MODE: 'sigterm', NT_URL: servers.urls.http } }).done;
      assert.equal(r.signal, 'SIGTERM');
      assert.ok(await collector.waitForIdle({ timeoutMs: 5000 }));
      const trace = collector.session.snapshot();
      const reqs = reqsOf(trace, '/sigterm');
      assert.equal(reqs.length, 1, 'the request is in the trace');
      assert.equal(reqs[0].respStatusCode, 200);
      assert.equal(typeof reqs[0].respDoneAt, 'number');
      assert.equal(reqs[0].incomplete, undefined);
    } finally {
      await collector.close();
    }
  });

  test(`${label}: SIGKILL with a request in flight: kept as incomplete ("process killed") with the phases it passed`, async () => {
    const collector = await core.startCollector({ description: 'sigkill' });
    try {
      const p = start(bin, lifecycleApp, collector, { env: { NT_MODE: 'sigkill', NT_STALL: servers.urls.stall } });
      await p.waitFor('sent');
      // The request's start leaves within the flush interval (25 ms); a kill before that loses it
      // with everything else the process had not sent.
      await until(() => reqsOf(collector.session.snapshot(), '/killed').length === 1, 5000, 'the request to reach the collector');
      p.child.kill('SIGKILL');
      const r = await p.done;
      assert.equal(r.signal, 'SIGKILL');
      assert.ok(await collector.waitForIdle({ timeoutMs: 5000 }));
      const trace = collector.session.snapshot();
      const [req] = reqsOf(trace, '/killed');
      assert.equal(req.incomplete, 'process killed');
      assert.equal(req.respStatusCode, undefined);
      assert.equal(typeof req.reqStartAt, 'number');
      assert.equal(trace.stats.incompleteRequests, 1);
      assert.ok(
        trace.stats.warnings.some((w) => w.includes('without an exit message')),
        JSON.stringify(trace.stats.warnings),
      );
    } finally {
      await collector.close();
    }
  });
}

test('paused (no timer can run): a request completed before the pause is already in the trace', async () => {
  const collector = await core.startCollector({ description: 'paused' });
  try {
    const p = start(process.execPath, lifecycleApp, collector, {
      env: { NT_MODE: 'paused', NT_URL: servers.urls.http, NT_STALL: servers.urls.stall },
      stdin: 'pipe',
    });
    await p.waitFor('paused');
    // The program stays stopped: whatever arrives now was written before the pause.
    await until(() => reqsOf(collector.session.snapshot(), '/before-pause').length === 1, 3000, 'the completed request');
    const [done] = reqsOf(collector.session.snapshot(), '/before-pause');
    assert.equal(done.respStatusCode, 200);
    assert.equal(typeof done.respDoneAt, 'number');
    p.child.stdin.end('go\n');
    assert.equal((await p.done).code, 0);
  } finally {
    await collector.close();
  }
});

test('paused: the flush entry point sends the request in flight, pending with the phases it passed', async () => {
  const collector = await core.startCollector({ description: 'flushNow' });
  try {
    const p = start(process.execPath, lifecycleApp, collector, {
      env: { NT_MODE: 'inflight', NT_STALL: servers.urls.stall },
      stdin: 'pipe',
    });
    const out = await p.waitFor('paused');
    const flushed = Number(/flushed (\S+)/.exec(out)?.[1]);
    assert.ok(flushed >= 1, `flushNow returned ${flushed}`);
    await until(() => reqsOf(collector.session.snapshot(), '/in-flight').length === 1, 3000, 'the request in flight');
    const [inFlight] = reqsOf(collector.session.snapshot(), '/in-flight');
    assert.equal(inFlight.respStatusCode, undefined);
    assert.equal(inFlight.incomplete, undefined);
    assert.equal(typeof inFlight.reqStartAt, 'number');
    assert.ok(inFlight.tcpConn, 'linked to its connection');
    p.child.stdin.end('go\n');
    assert.equal((await p.done).code, 0);
  } finally {
    await collector.close();
  }
});

test('the flush entry point: non-enumerable, callable any time, never throws', async () => {
  const collector = await core.startCollector({ description: 'flushNow any time' });
  try {
    // dns: the preload's body runs at the program's first use of the network (src/preload/firstUse.ts).
    const script = `require('node:dns');
const sym = Symbol.for('nettrace.flushNow');
const f = globalThis[sym];
const out = { type: typeof f, enumerable: Object.getOwnPropertyDescriptor(globalThis, sym)?.enumerable, listed: Object.getOwnPropertySymbols(globalThis).includes(sym) && Object.keys(globalThis).includes(String(sym)) };
out.before = f();
out.again = f();
console.log(JSON.stringify(out));`;
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-flush-'));
    try {
      writeFileSync(join(dir, 'f.cjs'), script);
      const r = await start(process.execPath, join(dir, 'f.cjs'), collector).done;
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(out, { type: 'function', enumerable: false, listed: false, before: 0, again: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await collector.close();
  }
});

test('a program that patches net.Socket.prototype.connect (refusing unix sockets) neither breaks the trace nor sees the preload', async () => {
  const collector = await core.startCollector({ description: 'patched' });
  try {
    const env = { NT_MODE: 'patched', NT_URL: servers.urls.http };
    const plain = await new Promise((resolve) => {
      const c = spawn(process.execPath, [lifecycleApp], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      c.stdout.on('data', (d) => (stdout += d));
      c.on('close', (code) => resolve({ code, stdout }));
    });
    const traced = await start(process.execPath, lifecycleApp, collector, { env }).done;
    assert.equal(traced.code, plain.code);
    assert.equal(traced.stdout, plain.stdout, 'the wrapper is called as often as untraced');
    assert.deepEqual(traced.stderr, '');
    assert.ok(await collector.waitForIdle({ timeoutMs: 5000 }));
    const trace = collector.session.snapshot();
    assert.equal(reqsOf(trace, '/patched').length, 3);
  } finally {
    await collector.close();
  }
});

test("a bad configuration is reported on stderr, never through the program's 'warning' event", async () => {
  const env = { ...process.env, NT_MODE: 'warning', NT_URL: servers.urls.http };
  const plain = await new Promise((resolve) => {
    const c = spawn(process.execPath, [lifecycleApp], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.on('close', (code) => resolve({ code, stdout }));
  });
  for (const config of ['{not json', '{"headers":"values"}']) {
    const childEnv = { ...core.buildPreloadEnv(env, { preloadPath: preload, config: { ipcPath: 'x' } }), NETTRACE_CONFIG: config };
    const traced = await new Promise((resolve) => {
      const c = spawn(process.execPath, [lifecycleApp], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d) => (stdout += d));
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(traced.code, plain.code, `${config}: ${traced.stderr}`);
    assert.equal(traced.stdout, plain.stdout);
    assert.match(traced.stderr, /^nettrace: tracing is off in pid \d+: NETTRACE_CONFIG /);
  }
});

test('a stopped collector costs the program no failed write per request: a full pipe is retried by the batch timer', async () => {
  const collector = await stoppableCollector('raw');
  try {
    collector.child.kill('SIGSTOP');
    const count = 1500;
    // The counter goes first, so the preload binds its wrappers as the originals it writes with.
    const env = {
      ...process.env,
      NODE_OPTIONS: `--require ${JSON.stringify(join(apps, 'writeStalls.cjs'))} --require ${JSON.stringify(preload)}`,
      NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath }),
      NT_URLS: JSON.stringify(servers.urls),
      NT_COUNT: String(count),
    };
    const r = await new Promise((resolve) => {
      const c = spawn(process.execPath, [join(apps, 'many.cjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(c);
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d) => (stdout += d));
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^total /m);
    const m = /^writeStalls (.*)$/m.exec(r.stderr);
    assert.ok(m, r.stderr);
    const { failures, spanMs } = JSON.parse(m[1]);
    assert.ok(failures > 0, 'the pipe filled up (the test saw the stall it is about)');
    // Before: a failed write (and the Error Node throws for EAGAIN) on nearly every request, 2,000+
    // for these 3,000. Now at most one per batch interval (25 ms) while the program runs.
    assert.ok(failures <= spanMs / 20 + 5, `${failures} failed writes in ${spanMs} ms`);
  } finally {
    collector.child.kill('SIGCONT');
    collector.child.kill('SIGKILL');
  }
});

/** Starts apps/stoppable-collector.mjs; resolves once it listens. */
async function stoppableCollector(mode) {
  const child = spawn(process.execPath, [join(apps, 'stoppable-collector.mjs'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await until(() => out.includes('\n'), 10_000, 'the collector to listen');
  const ipcPath = out.split('\n')[0];
  return {
    ipcPath,
    child,
    async result() {
      await until(() => out.split('\n').length > 2, 30_000, 'the collector to settle');
      return JSON.parse(out.split('\n')[1]);
    },
  };
}

for (const mode of ['raw', 'real']) {
  test(`a collector stopped with SIGSTOP (${mode}): the program exits without waiting for it, and every message it could not take is counted`, async () => {
    const collector = await stoppableCollector(mode);
    try {
      collector.child.kill('SIGSTOP');
      const count = 1500;
      const env = { NT_URLS: JSON.stringify(servers.urls), NT_COUNT: String(count) };
      const p = start(process.execPath, join(apps, 'many.cjs'), collector, { env, config: { collectorPid: collector.child.pid } });
      await p.waitFor('total');
      const printedAt = Date.now();
      const r = await p.done;
      const exitDelay = Date.now() - printedAt;
      assert.equal(r.code, 0, r.stderr);
      // Before: the exit flush spun for its whole 1 s budget on the full pipe.
      assert.ok(exitDelay < 600, `exit took ${exitDelay} ms after the program's last line`);
      collector.child.kill('SIGCONT');
      const result = await collector.result();
      if (mode === 'raw') {
        assert.ok(result.stats, 'the final stats arrived');
        assert.ok(result.stats.droppedEvents > 0, 'the stopped collector forced drops');
        assert.equal(result.received + result.stats.droppedEvents, result.stats.producedEvents, 'received + dropped = produced');
        assert.equal(result.exits, 1, 'the exit message arrived');
        assert.equal(result.continuations, 1, 'through a second connection');
      } else {
        assert.ok(result.stats.droppedEvents > 0, `droppedEvents ${result.stats.droppedEvents}`);
        assert.ok(result.requests < 2 * count);
        assert.equal(result.processes, 1);
        assert.deepEqual(result.exitCodes, [0]);
      }
    } finally {
      collector.child.kill('SIGCONT');
      collector.child.kill('SIGKILL');
    }
  });
}
