// covers: src/preload/transport/transport.ts, src/preload/transport/collectorLink.ts, src/preload/transport/collectorProof.ts,
//   src/preload/transport/collectorNet.ts, src/collector/server.ts, src/collector/collectorProof.ts,
//   src/extension/terminalRouter.ts, src/cli/runTraced.ts
// needs: the build (dist/core.cjs, dist/preload.cjs, dist/cli.cjs)
// A traced process talks only to a collector that proves the session's key (docs/security.md,
// "How a traced process knows its collector"). A program and its child outlive their collector
// (closed, its folder removed); an impostor makes the same folder and socket again — as this user,
// so the folder checks pass and only the key stands between them — and answers in each way it
// can without the key: not at all, with garbage, with a proof under another key, each followed
// by a rule that would answer the program's request itself. It hears the challenge and nothing
// else (no hello, no record), its rule acts on nothing, every request reaches the real server,
// and the program exits as untraced, without waiting past the exit budget. The same programs with
// the real collector alive are traced whole, the child too (it inherits the key), and so is a
// process that made no request (its hello and exit written at its exit, the proof read
// synchronously). A forked worker handing off its first result finds the proof there already,
// the challenge written when the preload started. A debug terminal's router proves its own key to
// the process and relays only to a collector that proves its key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { nodeBinaries, root } from './harness.mjs';
import { bundleTs } from '../lib/bundleTs.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const preload = join(root, 'dist', 'preload.cjs');
const CHALLENGE = /^\{"type":"challenge","nonce":"[0-9a-f]{64}"\}\n$/;
const CHALLENGE_THEN_HELLO = /^\{"type":"challenge","nonce":"[0-9a-f]{64}"\}\n\{"type":"hello"/;

// The program: waits for "go" on stdin, then makes a request, starts a child that makes one, and
// prints the status codes it got.
const PROGRAM = `
const http = require('node:http');
const { execFileSync } = require('node:child_process');
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  http.get(process.env.URL + '/parent', (res) => {
    res.resume();
    res.on('end', () => {
      const child = execFileSync(process.execPath, ['-e', "require('node:http').get(process.env.URL + '/child', (r) => { r.resume(); console.log(r.statusCode); })"], { encoding: 'utf8' });
      console.log('statuses', res.statusCode, child.trim());
      process.stdin.destroy();
    });
  });
});
`;

/** A local HTTP server that counts the requests it got, by path. */
async function httpServer() {
  const hits = [];
  const srv = createHttpServer((req, res) => (hits.push(req.url), res.end('real')));
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { hits, url: `http://127.0.0.1:${srv.address().port}`, close: () => srv.close() };
}

/** Starts PROGRAM with `config`; resolves once it is ready, with go() to let it run and `done`. */
async function startProgram(config, url) {
  const env = core.buildPreloadEnv({ ...process.env, URL: url }, { preloadPath: preload, config });
  const child = spawn(process.execPath, ['-e', PROGRAM], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, endedAt: Date.now() })));
  for (let i = 0; i < 500 && !stdout.includes('ready'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(stdout, /ready/, stderr);
  return { go: () => child.stdin.write('go\n'), done, child };
}

/**
 * An impostor at `path` (its folder made again, 0700, this user's): keeps every byte each
 * connection sends; `answer(challengeLine)` gives what it writes back after the first line.
 */
async function impostor(path, answer) {
  mkdirSync(dirname(path), { mode: 0o700 });
  const conns = [];
  const server = createServer((s) => {
    const c = { bytes: '' };
    conns.push(c);
    let answered = false;
    s.on('data', (d) => {
      c.bytes += d.toString('latin1');
      const nl = c.bytes.indexOf('\n');
      if (!answered && nl >= 0) {
        answered = true;
        const reply = answer(c.bytes.slice(0, nl + 1));
        if (reply) s.write(reply);
      }
    });
    s.on('error', () => {});
  });
  await new Promise((r) => server.listen(path, r));
  return { conns, close: () => (server.close(), rmSync(dirname(path), { recursive: true, force: true })) };
}

// A rule that would answer every request itself (status 418) if the program took it.
const RULE = `{"type":"rules","version":99,"defaultAction":"trace","rules":[{"id":"x","name":"x","condition":"true","action":"respond","limit":null,"enabled":true,"respond":{"status":418,"body":"impostor"}}]}\n`;
const ANSWERS = {
  silent: () => undefined,
  garbage: () => `{"type":"proof","proof":"${'0'.repeat(64)}"}\n${RULE}`,
  'another key': (line) => proofUnder('ab'.repeat(32), line) + RULE,
};

const proofMod = bundleTs([
  "export { answerChallenge } from './src/collector/collectorProof';",
  "export { TerminalRouter } from './src/extension/terminalRouter';",
]);
function proofUnder(key, line) {
  return proofMod.answerChallenge(line.trim(), key);
}

/**
 * A program and its child started under a collector that then closes (its folder removed), and an
 * impostor on its path answering with `answer(challengeLine, key)`: what each test needs of it.
 */
async function outlivedBy(t, answer) {
  const server = await httpServer();
  t.after(() => server.close());
  const collector = await core.startCollector({ description: 'proof' });
  const config = { ipcPath: collector.ipcPath, collectorKey: collector.collectorKey, collectorPid: process.pid };
  const program = await startProgram(config, server.url);
  t.after(() => program.child.kill());
  // The run ends: the collector closes and removes its folder; the impostor makes it again.
  await collector.close();
  const fake = await impostor(collector.ipcPath, (line) => answer(line, collector.collectorKey));
  t.after(() => fake.close());
  return { server, program, fake };
}

for (const [kind, answer] of Object.entries(ANSWERS)) {
  test(`an impostor on the collector's path after the run ended (${kind}) hears the challenge and nothing else; no rule of its acts`, async (t) => {
    const { server, program, fake } = await outlivedBy(t, answer);
    const goAt = Date.now();
    program.go();
    const r = await program.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^statuses 200 200$/m, 'both requests answered by the real server, not by the rule');
    assert.deepEqual(server.hits.sort(), ['/child', '/parent']);
    assert.equal(r.stderr, '', 'nothing said to the program');
    assert.ok(fake.conns.length >= 1, 'the program did connect');
    for (const c of fake.conns) assert.match(c.bytes, CHALLENGE, 'a challenge, then nothing: no hello, no record, no stats, no exit');
    // The parent waits for no proof while it runs; at its exit for at most the 1 s budget.
    assert.ok(r.endedAt - goAt < 6000, `${r.endedAt - goAt} ms`);
  });
}

test('control: a collector that does prove the key gets the hello, and the program takes its rule set', async (t) => {
  const { server, program, fake } = await outlivedBy(t, (line, key) => proofUnder(key, line) + RULE);
  program.go();
  const r = await program.done;
  assert.equal(r.code, 0, r.stderr);
  // Believed, its rule may answer a request itself (418): whether the rule set arrives before a
  // request is checked is a race this test does not fix; each request is answered one way or the other.
  const statuses = /^statuses (\d+) (\d+)$/m.exec(r.stdout);
  assert.ok(statuses, r.stdout);
  const byRule = statuses.slice(1).filter((s) => s === '418').length;
  for (const s of statuses.slice(1)) assert.ok(s === '200' || s === '418', r.stdout);
  assert.equal(server.hits.length, 2 - byRule, 'what the rule did not answer reached the real server');
  const heard = fake.conns.map((c) => c.bytes).join('');
  assert.match(heard, /"type":"hello"/, 'it heard the hello');
  assert.match(heard, /"type":"stats"[^\n]*"rules":\{"version":99/, 'and the program took its rule set (what the tests above refuse)');
});

test('the same program with its collector alive is traced whole, its child too (the key is inherited)', async (t) => {
  const server = await httpServer();
  t.after(() => server.close());
  const collector = await core.startCollector({ description: 'proof' });
  t.after(() => collector.close());
  const config = { ipcPath: collector.ipcPath, collectorKey: collector.collectorKey };
  const program = await startProgram(config, server.url);
  program.go();
  const r = await program.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^statuses 200 200$/m);
  await collector.waitForIdle({ timeoutMs: 10_000 });
  const trace = collector.session.snapshot();
  assert.deepEqual(trace.httpRequests.map((q) => new URL(q.reqURL).pathname).sort(), ['/child', '/parent']);
  assert.equal(trace.processes.length, 2);
  for (const p of trace.processes) assert.equal(p.exitCode, 0, 'each exit message arrived');
  assert.equal(trace.stats.droppedEvents, 0);
  assert.doesNotMatch(JSON.stringify(trace), new RegExp(collector.collectorKey), 'the key is nowhere in the trace');
});

test('a process that made no request and never loaded net gets its hello and exit through at its exit once the proof is read, loading neither net nor crypto', async (t) => {
  const collector = await core.startCollector({ description: 'proof' });
  t.after(() => collector.close());
  const config = { ipcPath: collector.ipcPath, collectorKey: collector.collectorKey };
  const env = core.buildPreloadEnv({ ...process.env }, { preloadPath: preload, config });
  // The program's own 'exit' listener runs after the preload's last messages (index.ts onExit).
  const code =
    "require('node:dns'); process.exitCode = 3; process.on('exit', () => require('fs').writeSync(1, JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule (net|stream|crypto)$/.test(m)))))";
  // From a file: \`node -e\` itself loads stream and crypto.
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-proof-app-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.cjs'), code);
  const r = await new Promise((resolve) => {
    const c = spawn(process.execPath, [join(dir, 'app.cjs')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', (status) => resolve({ status, out }));
  });
  assert.equal(r.status, 3);
  assert.deepEqual(JSON.parse(r.out), [], 'the nonce from /dev/urandom, the HMAC the preload’s own');
  for (let i = 0; i < 200 && collector.session.builder.trace.processes.length === 0; i++) await new Promise((ok) => setTimeout(ok, 20));
  await collector.waitForIdle({ timeoutMs: 10_000 });
  assert.deepEqual(
    collector.session.snapshot().processes.map((p) => p.exitCode),
    [3],
  );
});

// A forked worker (as a test runner's): it loads http, works a while, makes one request and hands
// its result to its parent. Its collector answers each challenge PROOF_DELAY_MS after it came (a
// collector below the program's priority on a busy machine). The hand-off writes the completed
// request before the result leaves (handOff.ts), and needs the proof for that: asked when the
// preload's body started (at `require('node:http')`), it is back before the request; asked with
// the request's first record, the hand-off waited for it.
const WORKER = `
const http = require('node:http');
setTimeout(() => {
  http.get(process.env.URL + '/work', (res) => {
    res.resume();
    res.on('end', () => {
      const t0 = performance.now();
      process.send({ status: res.statusCode });
      process.stdout.write(JSON.stringify({ sendMs: performance.now() - t0 }) + '\\n');
      process.disconnect();
    });
  });
}, 900);
`;
const PROOF_DELAY_MS = 600;

for (const { label, bin } of nodeBinaries())
  test(`${label}: the proof is asked when the preload starts: a worker handing off its first result does not wait for a slow collector`, async (t) => {
    const server = await httpServer();
    t.after(() => server.close());
    const key = 'cd'.repeat(32);
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-slow-proof-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'ipc.sock');
    const conns = [];
    const collector = createServer((s) => {
      const c = { bytes: '', at: Date.now(), challengeAt: undefined };
      conns.push(c);
      s.on('data', (d) => {
        c.bytes += d.toString('latin1');
        const nl = c.bytes.indexOf('\n');
        if (c.challengeAt === undefined && nl >= 0) {
          c.challengeAt = Date.now();
          const line = c.bytes.slice(0, nl + 1);
          setTimeout(() => s.write(proofUnder(key, line)), PROOF_DELAY_MS);
        }
      });
      s.on('error', () => {});
    });
    await new Promise((r) => collector.listen(path, r));
    t.after(() => collector.close());
    const startedAt = Date.now();
    const env = core.buildPreloadEnv(
      { ...process.env, URL: server.url },
      { preloadPath: preload, config: { ipcPath: path, collectorKey: key, collectorPid: process.pid } },
    );
    const r = await new Promise((resolve) => {
      const c = spawn(bin, ['-e', WORKER], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      let out = '';
      let err = '';
      let message;
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (err += d));
      c.on('message', (m) => (message = m));
      c.on('close', (code) => resolve({ code, out, err, message }));
    });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.message, { status: 200 });
    assert.deepEqual(server.hits, ['/work']);
    const { sendMs } = JSON.parse(r.out.trim());
    assert.equal(conns.length, 1, 'one connection');
    const [c] = conns;
    // The challenge came as the program started, long before its request (900 ms later).
    assert.ok(c.challengeAt - startedAt < 900, `challenge ${c.challengeAt - startedAt} ms after the start`);
    assert.ok(sendMs < PROOF_DELAY_MS / 2, `process.send took ${sendMs.toFixed(1)} ms (the proof is ${PROOF_DELAY_MS} ms late)`);
    // What followed the proof: the hello, then the request's record (binary events) and the exit.
    assert.match(c.bytes, CHALLENGE_THEN_HELLO);
    assert.match(c.bytes, /\/work/, 'the request went to the collector');
  });

// The second connection a process opens at exit when its first one's pipe is full
// (src/preload/transport/collectorLink.ts writeTail), run in a process of its own: it waits for the
// proof synchronously. Its text goes only to a collector that proves the key.
const tailDir = mkdtempSync(join(tmpdir(), 'nettrace-tail-bundle-'));
bundleTs(["export { writeTail } from './src/preload/transport/collectorLink';"], { dir: tailDir, name: 'tail.cjs' });

for (const [kind, proves] of [
  ['proves the key', true],
  ['answers garbage', false],
]) {
  test(`the tail connection at exit: a collector that ${kind} ${proves ? 'gets the text after the challenge' : 'hears the challenge alone'}`, async (t) => {
    const key = 'ef'.repeat(32);
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-tail-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'ipc.sock');
    let heard = '';
    const collector = createServer((s) => {
      let answered = false;
      s.on('data', (d) => {
        heard += d.toString('latin1');
        const nl = heard.indexOf('\n');
        if (answered || nl < 0) return;
        answered = true;
        s.write(proves ? proofUnder(key, heard.slice(0, nl + 1)) : ANSWERS.garbage());
      });
      s.on('error', () => {});
    });
    await new Promise((r) => collector.listen(path, r));
    t.after(() => collector.close());
    const code = `require(${JSON.stringify(join(tailDir, 'tail.cjs'))}).writeTail(${JSON.stringify(path)}, 'the tail\\n', ${JSON.stringify(key)}, ${process.pid})`;
    const status = await new Promise((resolve) => spawn(process.execPath, ['-e', code], { stdio: 'inherit' }).on('close', resolve));
    assert.equal(status, 0);
    for (let i = 0; i < 50 && !heard.includes(proves ? 'the tail' : '\n'); i++) await new Promise((r) => setTimeout(r, 20));
    if (proves) assert.match(heard, /^\{"type":"challenge","nonce":"[0-9a-f]{64}"\}\nthe tail\n$/);
    else assert.match(heard, CHALLENGE, 'a challenge, then nothing');
  });
}

test('a wrong collectorKey in NETTRACE_CONFIG: tracing off, said without the value', async () => {
  const env = {
    ...process.env,
    NODE_OPTIONS: `--require ${JSON.stringify(preload)}`,
    NETTRACE_CONFIG: JSON.stringify({ ipcPath: '/nowhere.sock', collectorKey: 'secret-but-short' }),
  };
  const r = await new Promise((resolve) => {
    const c = spawn(process.execPath, ['-e', "require('node:http'); console.log('ran')"], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, out, err }));
  });
  assert.equal(r.code, 0);
  assert.equal(r.out, 'ran\n');
  assert.match(r.err, /tracing is off .*"collectorKey" is not 32 bytes in hex/);
  assert.doesNotMatch(r.err, /secret-but-short/);
});

test("a debug terminal's router proves its key to the process and relays only to a collector that proves its own", async (t) => {
  const server = await httpServer();
  t.after(() => server.close());
  const collector = await core.startCollector({ description: 'routed' });
  t.after(() => collector.close());
  // Two traces the router may be handed: the real collector, or an impostor that cannot prove its key.
  let target = { key: 'real', ipcPath: collector.ipcPath, collectorKey: collector.collectorKey };
  const router = new proofMod.TerminalRouter({ shellPid: () => undefined, open: async () => target, idle: () => {}, idleMs: 60_000 });
  const routerPath = await router.listen();
  t.after(() => router.close());
  const config = { ipcPath: routerPath, collectorKey: router.collectorKey, collectorPid: process.pid };
  let program = await startProgram(config, server.url);
  program.go();
  let r = await program.done;
  assert.equal(r.code, 0, r.stderr);
  await collector.waitForIdle({ timeoutMs: 10_000 });
  const trace = collector.session.snapshot();
  assert.deepEqual(trace.httpRequests.map((q) => new URL(q.reqURL).pathname).sort(), ['/child', '/parent'], 'relayed after both proofs');

  // The command's collector replaced by one without its key: the router relays nothing to it.
  await router.close();
  const fakePath = join(dirname(collector.ipcPath) + '-fake', 'ipc.sock');
  const fake = await impostor(fakePath, ANSWERS.garbage);
  t.after(() => fake.close());
  const router2 = new proofMod.TerminalRouter({
    shellPid: () => undefined,
    open: async () => ({ key: 'fake', ipcPath: fakePath, collectorKey: collector.collectorKey }),
    idle: () => {},
  });
  const routerPath2 = await router2.listen();
  t.after(() => router2.close());
  target = undefined;
  program = await startProgram({ ipcPath: routerPath2, collectorKey: router2.collectorKey, collectorPid: process.pid }, server.url);
  program.go();
  r = await program.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^statuses 200 200$/m);
  assert.ok(fake.conns.length >= 1, 'the router did connect');
  for (const c of fake.conns) assert.match(c.bytes, CHALLENGE, "the router's own challenge, then nothing");
});
