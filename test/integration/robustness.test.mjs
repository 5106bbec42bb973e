// covers: src/preload/
// needs: the build (dist/core.cjs, dist/preload.cjs)
// The preload never hurts the debuggee: a failing hook disables itself and leaves a warning, a
// dead collector changes nothing, and a collector that stops reading makes the preload drop (and
// count) events instead of growing without bound.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer, connect as connectTo } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServers } from './servers.mjs';
import { apps, root, run, runPlain } from './harness.mjs';
import { WireReader, messageCount } from './apps/wireReader.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const preload = join(root, 'dist', 'preload.cjs');

let servers;
let env;
before(async () => {
  servers = await startServers();
  env = { NT_URLS: JSON.stringify(servers.urls), NT_COUNT: '20' };
});
after(() => servers.close());

/** Runs apps/many.cjs with the preload configured as given, against the given collector path. */
function runWith(config) {
  return run(process.execPath, [join(apps, 'many.cjs')], {
    env: { ...core.buildPreloadEnv({ ...process.env, ...env }, { preloadPath: preload, config }) },
  });
}

for (const hook of ['http', 'undici', 'net']) {
  test(`a failing ${hook} hook disables itself, warns, and the program is unaffected`, async () => {
    const collector = await core.startCollector({ description: `fail ${hook}` });
    try {
      const plain = await runPlain(process.execPath, 'many.cjs', { env });
      const traced = await runWith({ ipcPath: collector.ipcPath, testFailHook: hook });
      await collector.waitForIdle({ timeoutMs: 3000 });
      assert.equal(traced.code, plain.code);
      assert.equal(traced.stdout, plain.stdout);
      assert.equal(traced.stderr, plain.stderr);
      const trace = collector.session.snapshot();
      assert.ok(
        trace.stats.warnings.some((w) => w.includes(`${hook} hook failed and was disabled`)),
        JSON.stringify(trace.stats.warnings),
      );
      if (hook !== 'net') assert.ok(trace.stats.untracedRequests >= 20, `untraced ${trace.stats.untracedRequests}`);
      // The other hooks keep working.
      const other = hook === 'http' ? 'fetch' : 'http';
      assert.equal(trace.httpRequests.filter((r) => r.client === other).length, 20);
    } finally {
      await collector.close();
    }
  });
}

test('the program sees nothing of the tracer on its request and response objects (no key, no symbol, nothing in util.inspect)', async () => {
  const collector = await core.startCollector({ description: 'own keys' });
  try {
    const plain = await runPlain(process.execPath, 'ownKeys.cjs', { env });
    const traced = await run(process.execPath, [join(apps, 'ownKeys.cjs')], {
      env: { ...core.buildPreloadEnv({ ...process.env, ...env }, { preloadPath: preload, config: { ipcPath: collector.ipcPath } }) },
    });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(traced.code, 0, traced.stderr);
    assert.equal(traced.stdout, plain.stdout);
    await collector.waitForIdle({ timeoutMs: 3000 });
    assert.equal(collector.session.snapshot().httpRequests.length, 1, 'the request was traced');
  } finally {
    await collector.close();
  }
});

test('a dead collector changes nothing for the program', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-dead-'));
  try {
    const plain = await runPlain(process.execPath, 'many.cjs', { env });
    const traced = await runWith({ ipcPath: join(dir, 'nobody-listens.sock') });
    assert.equal(traced.code, plain.code);
    assert.equal(traced.stdout, plain.stdout);
    assert.equal(traced.stderr, plain.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a collector that stops reading: the queue stays bounded and every drop is counted', async () => {
  // A raw collector that stops reading after the hello and resumes only once the program has
  // made all its requests (it prints its total then; its exit flush waits while the pipe takes
  // bytes, and sends what is left of its end — stats, exit — on a second connection).
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-slow-'));
  const path = join(dir, 'slow.sock');
  const lines = [];
  let closed;
  const conns = new Set();
  let resumed = false;
  const done = new Promise((r) => (closed = r));
  const server = createServer((c) => {
    conns.add(c);
    const reader = new WireReader();
    c.on('data', (d) => lines.push(...reader.push(d)));
    c.on('close', () => {
      conns.delete(c);
      if (conns.size === 0) closed();
    });
    if (!resumed) c.pause();
  });
  await new Promise((r) => server.listen(path, r));
  try {
    const count = 300;
    const childEnv = core.buildPreloadEnv(
      { ...process.env, ...env, NT_COUNT: String(count) },
      { preloadPath: preload, config: { ipcPath: path, maxQueuedEvents: 100 } },
    );
    const child = spawn(process.execPath, [join(apps, 'many.cjs')], { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('total')) {
        resumed = true;
        for (const c of conns) c.resume();
      }
    });
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0);
    assert.match(stdout, /^total \d+/);
    await done;
    // Totals only grow; the final ones may come on the second connection, read before the first.
    const stats = lines
      .filter((m) => m.type === 'stats')
      .sort((a, b) => a.producedEvents - b.producedEvents || a.droppedEvents - b.droppedEvents)
      .at(-1);
    assert.ok(stats, 'a final stats message arrived');
    // An events frame carries its `n` record events: each counts as one produced message.
    const received = lines.filter((m) => m.type !== 'stats' && m.type !== 'hello').reduce((n, m) => n + messageCount(m), 0);
    assert.ok(stats.droppedEvents > 0, 'the stalled pipe forced drops');
    assert.equal(received + stats.droppedEvents, stats.producedEvents, 'received + dropped = produced');
    assert.ok(
      lines.some((m) => m.type === 'exit'),
      'the exit message made it after the stall',
    );
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('captured bodies through a collector that stalls arrive whole, each with its own request', async () => {
  // The preload talks to a relay that holds the connection paused until the program has made all
  // its requests, then pipes it to a real collector: the pipe fills, the preload's writes of blob
  // frames are cut short and resumed, and nothing may be lost, reordered or mixed up on the way.
  const collector = await core.startCollector({ description: 'stalled bodies' });
  const count = 20;
  const unit = 3000;
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-relay-'));
  const path = join(dir, 'relay.sock');
  let relayed;
  let child;
  const server = createServer((c) => {
    c.pause();
    relayed = () => {
      const upstream = connectTo(collector.ipcPath);
      c.pipe(upstream);
      c.resume();
      // The program waits for this before it exits: its exit flush gives up on a pipe that takes
      // nothing for EXIT_STALL_MS (by design), and a busy machine may take longer than that to move
      // what the stall held back; so the go comes once the collector has every request's body.
      upstream.once('connect', () => {
        const t0 = Date.now();
        const poll = () => {
          const got = collector.session
            .snapshot()
            .httpRequests.filter((r) => r.respBody?.text?.length === Number(new URL(r.reqURL).searchParams.get('size'))).length;
          if (got >= 2 * count || Date.now() - t0 > 20_000) child.stdin.end('go\n');
          else setTimeout(poll, 20);
        };
        poll();
      });
    };
  });
  await new Promise((r) => server.listen(path, r));
  try {
    const childEnv = core.buildPreloadEnv(
      { ...process.env, ...env, NT_COUNT: String(count), NT_SIZE: String(unit), NT_WAIT_STDIN: '1' },
      { preloadPath: preload, config: { ipcPath: path, bodies: true } },
    );
    child = spawn(process.execPath, [join(apps, 'many.cjs')], { env: childEnv, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!stdout.includes('total')) return;
      relayed?.();
      relayed = undefined;
    });
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0);
    assert.ok(await collector.waitForIdle({ timeoutMs: 10_000 }), 'the collector caught up');
    const trace = collector.session.snapshot();
    assert.equal(trace.stats.droppedEvents, 0);
    assert.deepEqual(trace.stats.warnings, []);
    assert.equal(trace.httpRequests.length, 2 * count);
    for (const r of trace.httpRequests) {
      const size = Number(new URL(r.reqURL).searchParams.get('size'));
      assert.equal(r.respBody?.size, size, r.reqURL);
      assert.equal(r.respBody.text, 'x'.repeat(size), `${r.reqURL}: the body's text is its own, whole`);
    }
  } finally {
    server.close();
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a rule set that skips every request: the preload writes in batches, not once per request', async () => {
  // Each skipped request changes the rules' counters, so a stats message is due after every one;
  // it must wait for the batch timer like any message (a flush of its own per request cost a
  // setImmediate, a JSON line and a write that wakes the collector, every request).
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-skipall-'));
  const path = join(dir, 'raw.sock');
  const messages = [];
  const server = createServer((c) => {
    const reader = new WireReader();
    c.on('data', (d) => messages.push(...reader.push(d)));
  });
  await new Promise((r) => server.listen(path, r));
  try {
    const count = 300;
    const rules = [{ id: 'all', condition: 'true', action: 'skip', enabled: true }];
    const childEnv = core.buildPreloadEnv(
      { ...process.env, ...env, NT_COUNT: String(count) },
      { preloadPath: preload, config: { ipcPath: path, rules, rulesVersion: 1 } },
    );
    const startedAt = Date.now();
    const child = spawn(process.execPath, [join(apps, 'many.cjs')], { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    const code = await new Promise((r) => child.on('close', r));
    const elapsedMs = Date.now() - startedAt;
    assert.equal(code, 0);
    await new Promise((r) => setTimeout(r, 200));
    const stats = messages.filter((m) => m.type === 'stats');
    const last = stats.at(-1);
    assert.deepEqual(
      last?.rules?.counters.map((c) => [c.id, c.matched, c.acted]),
      [['all', 2 * count, 2 * count]],
      'the last stats carry every skip',
    );
    // (Its connections are still traced, on their own: dials and tcpConns records, a few frames.)
    const frames = messages.filter((m) => m.type === 'events' || m.type === 'record').length;
    assert.ok(frames < 20, `${frames} record messages or frames for ${2 * count} skipped requests`);
    // At most one per batch interval (25 ms) however long the run takes on a loaded machine, and
    // at most one per two requests (before: 598 for 600).
    const detail = `${stats.length} stats messages for ${2 * count} skipped requests in ${elapsedMs} ms`;
    assert.ok(stats.length <= elapsedMs / 20 + 5, detail);
    assert.ok(stats.length < count, detail);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
