// covers: src/preload/rules/breakOnRequest.ts
// needs: the build (dist/preload.cjs, dist/preload-body.cjs)
// The `break` action of the trace rules (docs/rules.md, "break"), against a real debugger: the
// program runs with `--inspect-brk=0` and the preload, this test is its CDP client over the
// inspector's WebSocket (as VS Code's js-debug is), and the requests go to real local servers.
// A break rule pauses the program on a `debugger;` statement in a script named after the request
// and the rule, before the request leaves (the server has not seen it while the program is
// paused); under it are only Node's and the preload's frames, then the program's own line (the
// line marked `@request:<client>` in apps/break-requests.cjs); after resume the request completes
// and is in the trace. A limit of 1 pauses once; without a debugger nothing pauses and the rule
// does not count as acting.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleTs } from '../lib/bundleTs.mjs';
import { apps, nodeBinaries, root } from './harness.mjs';

const preload = join(root, 'dist', 'preload.cjs');
const app = join(apps, 'break-requests.cjs');
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-break-'));
const m = bundleTs(["export { startCollector } from './src/collector/server';"], { dir: tmp });
const WebSocketImpl = globalThis.WebSocket ?? createRequire(import.meta.url)('ws');

/** Line numbers (1-based) of the `@request:<client>` markers in the program. */
const lines = Object.fromEntries(
  readFileSync(app, 'utf8')
    .split('\n')
    .flatMap((text, i) => {
      const mk = /@request:(\w+)/.exec(text);
      return mk ? [[mk[1], i + 1]] : [];
    }),
);

/** Paths the servers received, in order (an h2 path as "h2:<path>"). */
const received = [];
let server;
let h2server;
let base;
let h2base;
before(async () => {
  server = http.createServer((req, res) => {
    received.push(req.url);
    const code = Number(new URL(req.url, 'http://x').searchParams.get('code') ?? 200);
    res.writeHead(code).end('ok');
  });
  h2server = http2.createServer();
  h2server.on('stream', (stream, headers) => {
    received.push(`h2:${headers[':path']}`);
    stream.respond({ ':status': 201 });
    stream.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  await new Promise((r) => h2server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  h2base = `http://127.0.0.1:${h2server.address().port}`;
});
after(() => {
  server.close();
  h2server.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A minimal CDP client over the inspector's WebSocket. */
class Cdp {
  constructor(url) {
    this.ws = new WebSocketImpl(url);
    this.nextId = 1;
    this.calls = new Map();
    this.handlers = new Map();
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = (e) => reject(new Error(`inspector WebSocket: ${e.message ?? e.type}`));
    });
    this.ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data));
      if (msg.id !== undefined) {
        const call = this.calls.get(msg.id);
        this.calls.delete(msg.id);
        if (msg.error) call?.reject(new Error(`${msg.error.message}`));
        else call?.resolve(msg.result);
      } else this.handlers.get(msg.method)?.(msg.params);
    };
  }
  send(method, params = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  on(method, fn) {
    this.handlers.set(method, fn);
  }
  close() {
    try {
      this.ws.close();
    } catch {
      // Already closed with the program.
    }
  }
}

// The preload is the loader NODE_OPTIONS names and its body beside it (where the hooks' frames are).
const preloadBody = join(root, 'dist', 'preload-body.cjs');
const preloadUrls = new Set([preload, pathToFileURL(preload).href, preloadBody, pathToFileURL(preloadBody).href]);
const isInternal = (url) => url.startsWith('node:') || url === '';

/**
 * Runs the program with the preload and `rules`, making `steps` (["http:/path", ...]); with
 * `inspect`, under a CDP client that records each `debugger` pause (frames, the pause function's
 * variables, what the servers had received) and resumes it after `holdMs`.
 */
async function runProgram({ bin = process.execPath, rules, steps, inspect = true, holdMs = 150, blackbox, stepOut = false }) {
  const collector = await m.startCollector({ description: 'break', changeIntervalMs: 10, rules });
  const args = [...(inspect ? ['--inspect-brk=0'] : []), app, ...steps];
  const child = spawn(bin, args, {
    env: {
      ...process.env,
      NODE_OPTIONS: `--require ${JSON.stringify(preload)}`,
      NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath, ...collector.session.rules.preloadConfig() }),
      NT_BASE: base,
      NT_H2: h2base,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let cdp;
  child.stdout.on('data', (d) => {
    stdout += d;
    // Node waits at exit for the debugger to disconnect.
    if (/^(done|failed)/m.test(stdout)) cdp?.close();
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const pauses = [];
  let stepsOut = 0;
  try {
    if (inspect) {
      const wsUrl = await new Promise((resolve, reject) => {
        child.stderr.on('data', (d) => {
          stderr += d;
          const found = /ws:\/\/\S+/.exec(stderr);
          if (found) resolve(found[0]);
        });
        exited.then((code) => reject(new Error(`the program exited (${code}) before its inspector listened: ${stderr}`)));
      });
      cdp = new Cdp(wsUrl);
      await cdp.opened;
      // CallFrame.url is deprecated (V8 leaves it empty for some scripts): the URLs come from here.
      const scriptUrls = new Map();
      cdp.on('Debugger.scriptParsed', (p) => scriptUrls.set(p.scriptId, p.url));
      cdp.on('Debugger.paused', async (p) => {
        // Every pause ends with exactly one command: resume, or a Step Out.
        let next = 'Debugger.resume';
        try {
          const frames = p.callFrames.map((f) => ({
            url: f.url || scriptUrls.get(f.location.scriptId) || '',
            name: f.functionName,
            line: f.location.lineNumber + 1,
          }));
          // The async part of the stack (what a debugger shows under "await"), as js-debug asks for it.
          for (let a = p.asyncStackTrace; a; a = a.parent)
            for (const f of a.callFrames)
              frames.push({ url: f.url || scriptUrls.get(f.scriptId) || '', name: f.functionName, line: f.lineNumber + 1, async: true });
          if (!frames[0].url.startsWith('Net Trace: ')) {
            // --inspect-brk's pause on the first line, or where a Step Out stopped (V8 says "other"
            // for both). A step that stops in a skipped script goes on in the same direction, as
            // js-debug does (its smartStep steps through skipFiles).
            if (p.reason === 'Break on start') return;
            const skipped = isInternal(frames[0].url) || preloadUrls.has(frames[0].url);
            if (stepOut && skipped && stepsOut++ < 50) next = 'Debugger.stepOut';
            else pauses.push({ step: true, frames });
            return;
          }
          if (stepOut) {
            next = 'Debugger.stepOut';
            stepsOut = 0;
          }
          const top = p.callFrames[0];
          const local = top.scopeChain.find((s) => s.type === 'local');
          const props = local
            ? (await cdp.send('Runtime.getProperties', { objectId: local.object.objectId, ownProperties: true })).result
            : [];
          const vars = Object.fromEntries(props.map((v) => [v.name, v.value?.value]));
          const before = received.slice();
          await new Promise((r) => setTimeout(r, holdMs));
          pauses.push({ frames, vars, receivedAtPause: before, receivedAfterHold: received.slice() });
        } finally {
          await cdp.send(next).catch(() => {});
        }
      });
      await cdp.send('Debugger.enable');
      await cdp.send('Debugger.setAsyncCallStackDepth', { maxDepth: 32 });
      if (blackbox) await cdp.send('Debugger.setBlackboxPatterns', { patterns: blackbox });
      await cdp.send('Runtime.runIfWaitingForDebugger');
    } else child.stderr.on('data', (d) => (stderr += d));
    let timer;
    const code = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 30_000)))]);
    clearTimeout(timer);
    await collector.waitForIdle({ timeoutMs: 2000 });
    return {
      code,
      stdout,
      stderr,
      pauses,
      requests: collector.session.snapshot().httpRequests,
      counters: Object.fromEntries(collector.session.rules.withCounters().map((r) => [r.id, { matched: r.matched, acted: r.acted }])),
    };
  } finally {
    cdp?.close();
    child.kill('SIGKILL');
    await exited;
    await collector.close();
  }
}

/** Checks a pause: the Net Trace frame on top, then only Node's and the preload's, then the program's line. */
function assertPause(pause, { method, url, rule, client, ruleVar = rule }) {
  if (process.env.NT_DUMP) console.error(client, JSON.stringify(pause.frames, null, 0));
  const [top, ...rest] = pause.frames;
  const label = `Net Trace: paused on ${method} ${url} (rule '${rule}')`;
  // The script's name has the label's slashes as U+2215, so the debugger's tab title is the whole label.
  assert.equal(top.url, label.replace(/\//g, '\u2215'), 'the paused script is named after the request and the rule');
  assert.equal(top.name, label, 'so is the paused function');
  const own = rest.findIndex((f) => !isInternal(f.url) && !preloadUrls.has(f.url));
  assert.ok(own >= 0, `a frame of the program: ${JSON.stringify(pause.frames)}`);
  assert.equal(
    rest[own].url.replace(/^file:\/\//, ''),
    app,
    `the first frame not Node's nor the preload's is the program's: ${JSON.stringify(pause.frames)}`,
  );
  assert.equal(rest[own].line, lines[client], `${client}: the program's line that made the request`);
  // VS Code asks js-debug for the first 20 frames of a pause: the program's line must be among
  // them, or the user has to click "Load More Stack Frames" to see it.
  assert.ok(own + 1 < 20, `${client}: the program's frame is frame ${own + 1} of the pause, past the 20 a debugger shows first`);
  assert.equal(pause.vars.method, method);
  assert.equal(pause.vars.url, url);
  assert.equal(pause.vars.rule, ruleVar);
  assert.match(pause.vars.hint, /continue/i);
}

const skip = !existsSync(preload) && 'dist/preload.cjs not built (npm run build)';

for (const { label, bin } of nodeBinaries()) {
  test(
    `${label}: a break rule pauses http.request, fetch (GET, POST) and http2 at the program's line, before the request leaves`,
    { skip, timeout: 60_000 },
    async () => {
      const tag = `b${Math.random().toString(36).slice(2, 8)}`;
      const rules = [{ id: 'orders', condition: `path startsWith "/orders" and query.t == "${tag}"`, action: 'break', enabled: true }];
      const clients = ['http', 'fetch', 'fetchPost', 'http2'];
      const steps = clients.map((c) => `${c}:/orders/${c}?t=${tag}`);
      const r = await runProgram({ bin, rules, steps });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /done/);
      assert.equal(r.pauses.length, clients.length, `one pause per request: ${JSON.stringify(r.pauses.map((p) => p.frames[0]))}`);
      for (const [i, client] of clients.entries()) {
        const path = `/orders/${client}?t=${tag}`;
        const url = (client === 'http2' ? h2base : base) + path;
        assertPause(r.pauses[i], { method: client === 'fetchPost' ? 'POST' : 'GET', url, rule: 'orders', client });
        const seen = client === 'http2' ? `h2:${path}` : path;
        assert.ok(!r.pauses[i].receivedAtPause.includes(seen), `${client}: the server had not received the request at the pause`);
        assert.ok(!r.pauses[i].receivedAfterHold.includes(seen), `${client}: nor while the program stayed paused`);
        assert.ok(received.includes(seen), `${client}: the server received it after the resume`);
        const rec = r.requests.filter((q) => q.reqURL === url);
        assert.equal(rec.length, 1, `${client}: the request is in the trace once`);
        assert.equal(rec[0].respStatusCode, client === 'http2' ? 201 : 200, `${client}: completed after the resume`);
      }
      assert.match(r.stdout, new RegExp(`status http:/orders/http\\?t=${tag} 200`));
      assert.deepEqual(r.counters.orders, { matched: clients.length, acted: clients.length });
    },
  );
}

test('a break rule with limit 1 pauses once per process; a request it does not match never pauses', { skip, timeout: 60_000 }, async () => {
  const rules = [{ id: 'once', name: 'first order', condition: 'path == "/once"', action: 'break', limit: 1, enabled: true }];
  const r = await runProgram({ rules, steps: ['http:/once', 'fetch:/once', 'http:/once', 'http:/other'] });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(r.pauses.length, 1, 'paused once');
  assertPause(r.pauses[0], { method: 'GET', url: `${base}/once`, rule: 'first order', client: 'http', ruleVar: 'first order (once)' });
  assert.equal(r.pauses[0].vars.condition, 'path == "/once"');
  assert.deepEqual(r.counters.once, { matched: 3, acted: 1 });
  assert.equal(r.requests.filter((q) => q.reqURL.endsWith('/once')).length, 3);
});

test(
  'a break rule pauses a request that a skip rule below it leaves out of the trace; credentials are not shown',
  { skip, timeout: 60_000 },
  async () => {
    const rules = [
      { id: 'secret', condition: 'path == "/secret"', action: 'break', enabled: true },
      { id: 'hide', condition: 'path == "/secret"', action: 'skip', enabled: true },
    ];
    const r = await runProgram({ rules, steps: ['http:/secret?token=abc&page=2'] });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.pauses.length, 1);
    assertPause(r.pauses[0], { method: 'GET', url: `${base}/secret?token=<redacted>&page=2`, rule: 'secret', client: 'http' });
    assert.equal(r.requests.filter((q) => q.reqURL.includes('/secret')).length, 0, 'skipped: not in the trace');
    assert.match(r.stdout, /status http:\/secret\?token=abc&page=2 200/);
  },
);

test(
  'without a debugger a break rule does nothing: the requests succeed and the rule does not act',
  { skip, timeout: 60_000 },
  async () => {
    const rules = [{ id: 'nodebug', condition: 'path startsWith "/free"', action: 'break', limit: 1, enabled: true }];
    const t0 = Date.now();
    const r = await runProgram({ rules, steps: ['http:/free/1', 'fetch:/free/2', 'http2:/free/3'], inspect: false });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.ok(Date.now() - t0 < 20_000);
    assert.match(r.stdout, /status http:\/free\/1 200\nstatus fetch:\/free\/2 200\nstatus http2:\/free\/3 201\ndone/);
    assert.deepEqual(r.counters.nodebug, { matched: 3, acted: 0 }, 'no pause: the limit is not spent');
    assert.equal(r.requests.filter((q) => q.reqURL.includes('/free/')).length, 3);
    assert.doesNotMatch(r.stderr, /nettrace/i, 'no warning');
  },
);

test(
  "with js-debug's skipFiles (Node's and the preload's scripts blackboxed) it still pauses, and Step Out returns to the program",
  { skip, timeout: 60_000 },
  async () => {
    // What js-debug sends for skipFiles ["<node_internals>/**", "<preload path>"]: V8 blackbox
    // patterns (regular expressions on script URLs). The pause script is not skipped, so V8 stops.
    const escape = (t) => t.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const blackbox = ['^node:', ...[preload, preloadBody].flatMap((f) => [`^${escape(pathToFileURL(f).href)}$`, `^${escape(f)}$`])];
    const rules = [{ id: 'skipfiles', condition: 'path == "/skipped"', action: 'break', enabled: true }];
    const all = await runProgram({ rules, steps: ['http:/skipped', 'fetch:/skipped', 'http2:/skipped'], blackbox });
    assert.equal(all.code, 0, all.stderr + all.stdout);
    assert.equal(all.pauses.length, 3, 'each request paused');
    for (const [i, client] of ['http', 'fetch', 'http2'].entries())
      assertPause(all.pauses[i], { method: 'GET', url: (client === 'http2' ? h2base : base) + '/skipped', rule: 'skipfiles', client });
    assert.match(all.stdout, /status http:\/skipped 200\nstatus fetch:\/skipped 200\nstatus http2:\/skipped 201\ndone/);
    // Step Out from the pause, stepping on through skipped scripts as js-debug does: back in the
    // program, in the function that called http.request(), after the call.
    const out = await runProgram({ rules, steps: ['http:/skipped'], blackbox, stepOut: true });
    assert.equal(out.code, 0, out.stderr + out.stdout);
    const landed = out.pauses.find((p) => p.step);
    assert.ok(landed, `Step Out stopped: ${JSON.stringify(out.pauses.map((p) => p.frames[0]))}`);
    assert.equal(landed.frames[0].url.replace(/^file:\/\//, ''), app, "Step Out skips the preload's and Node's frames");
    assert.equal(landed.frames[0].name, '', 'in the promise executor that called http.request()');
    assert.ok(
      landed.frames[0].line >= lines.http && landed.frames[0].line < lines.http + 3,
      `at or after the call: line ${landed.frames[0].line}`,
    );
    assert.match(out.stdout, /status http:\/skipped 200\ndone/);
  },
);

test(
  "axios and got: a break rule pauses with the program's line among the first 20 frames (after the library's own)",
  { skip, timeout: 60_000 },
  async () => {
    const tag = `b${Math.random().toString(36).slice(2, 8)}`;
    const rules = [{ id: 'libs', condition: `query.t == "${tag}"`, action: 'break', enabled: true }];
    const clients = ['axios', 'got'];
    const r = await runProgram({ rules, steps: clients.map((c) => `${c}:/orders/${c}?t=${tag}`) });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.pauses.length, clients.length, `one pause per request: ${JSON.stringify(r.pauses.map((p) => p.frames[0]))}`);
    for (const [i, client] of clients.entries()) {
      const { frames } = r.pauses[i];
      if (process.env.NT_DUMP) console.error(client, JSON.stringify(frames));
      assert.ok(frames[0].url.startsWith('Net Trace: paused on GET '), `${client}: the Net Trace frame on top`);
      // Node's and the preload's frames are skipped (skipFiles); a library's are not, by default.
      const own = frames.findIndex((f) => f.url.replace(/^file:\/\//, '') === app);
      assert.ok(own > 0, `${client}: the program's frame is in the stack: ${JSON.stringify(frames)}`);
      assert.equal(frames[own].line, lines[client], `${client}: the program's line that made the request`);
      assert.ok(own < 20, `${client}: frame ${own} of the pause, past the 20 a debugger shows first`);
      assert.equal(r.requests.filter((q) => q.reqURL === `${base}/orders/${client}?t=${tag}`).length, 1);
    }
    assert.match(r.stdout, new RegExp(`status axios:/orders/axios\\?t=${tag} 200\nstatus got:/orders/got\\?t=${tag} 200`));
  },
);

test(
  'fetch with a rule that reads a header: the break still pauses at the program line, decided in fetch(), counted once',
  { skip, timeout: 60_000 },
  async () => {
    const tag = `b${Math.random().toString(36).slice(2, 8)}`;
    const rules = [
      { id: 'hdr', condition: 'header.x-never == "1"', action: 'skip', enabled: true },
      { id: 'orders', condition: `path startsWith "/orders" and query.t == "${tag}"`, action: 'break', enabled: true },
    ];
    const r = await runProgram({ rules, steps: [`fetch:/orders/fetch?t=${tag}`, `fetchPost:/orders/fetchPost?t=${tag}`] });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.pauses.length, 2);
    assertPause(r.pauses[0], { method: 'GET', url: `${base}/orders/fetch?t=${tag}`, rule: 'orders', client: 'fetch' });
    assertPause(r.pauses[1], { method: 'POST', url: `${base}/orders/fetchPost?t=${tag}`, rule: 'orders', client: 'fetchPost' });
    assert.deepEqual(r.counters, { hdr: { matched: 0, acted: 0 }, orders: { matched: 2, acted: 2 } });
    assert.equal(r.requests.filter((q) => q.reqURL.includes(`t=${tag}`)).length, 2);
  },
);
