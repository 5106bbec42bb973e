// covers: src/preload/firstUse.ts
// needs: the build (dist/preload.cjs)
// Issue 52: the preload's body runs at the program's first use of the network
// (src/preload/firstUse.ts). A program that never uses it pays for the loader only and is not in
// the trace; a program whose first use is one the loader sees only on a diagnostics channel (the
// global `fetch`, a module imported through `import()`, a server of such a module) is traced from
// that very request: the body is handed the message that made it run, and the request's line is
// the program's (not the loader's frames under that message). On every Node the suite runs (the
// channels' behaviour while publishing differs between versions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cli, nodeBinaries, root } from './harness.mjs';
import { caFile, pem } from './servers.mjs';

const preload = join(root, 'dist', 'preload.cjs');

/** The test's server: answers every request 200 "ok". */
async function okServer(t) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return `http://127.0.0.1:${server.address().port}`;
}

/** The test's HTTPS server for `localhost` (test/fixtures/certs): answers 200 "ok"; its origin. */
async function okTlsServer(t) {
  const server = https.createServer({ key: pem('localhost.key'), cert: pem('localhost.pem') }, (req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return `https://localhost:${server.address().port}`;
}

/** Node's major version of the binary `bin`. */
function majorOf(bin) {
  return Number(spawnSync(bin, ['-p', "process.versions.node.split('.')[0]"], { encoding: 'utf8' }).stdout);
}

/**
 * The trace's HTTPS request `r` to localhost, first on its connection, made at `file`:`line`:
 * its dial (the lookup of localhost, the connect), its TCP connection and its TLS handshake
 * recorded, the line the program's.
 */
function assertWholeHttps(trace, r, file, line) {
  assert.equal(r.client, 'https');
  assert.equal(r.respStatusCode, 200, JSON.stringify(r));
  assert.equal(r.reusedConn, false);
  const dial = trace.dials.find((d) => d.traceID === r.dial) ?? trace.dials[0];
  assert.ok(r.dial && dial, JSON.stringify(r));
  assert.deepEqual(
    dial.dnsLookups.map((l) => [l.host, l.error]),
    [['localhost', null]],
  );
  assert.equal(dial.connectAttempts.length, 1);
  const tcp = trace.tcpConns.find((c) => c.traceID === r.tcpConn);
  assert.equal(tcp?.connected, true, JSON.stringify(trace.tcpConns));
  const tls = trace.tlsTunnels.find((c) => c.traceID === r.tlsTunnel);
  assert.equal(tls?.handshakeErr, null, JSON.stringify(trace.tlsTunnels));
  assert.equal(tls.serverName, 'localhost');
  assert.deepEqual(
    r.initiator.frames.filter((f) => !f.library).map((f) => [f.file, f.line]),
    [[file, line]],
    JSON.stringify(r.initiator),
  );
}

/**
 * A folder of the test's (`prefix`) and a socket in it that counts the connections made to it, as a
 * collector a process would say hello to: {dir, ipcPath, connections()}.
 */
async function quietCollector(t, prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ipcPath = join(dir, 'c.sock');
  let connections = 0;
  const collector = createServer((s) => {
    connections++;
    s.resume();
  });
  await new Promise((r) => collector.listen(ipcPath, r));
  t.after(() => collector.close());
  return { dir, ipcPath, connections: () => connections };
}

/**
 * `bin args` run twice in a bare environment (PATH, HOME, a code cache in `dir`): plain, and with
 * the preload told to connect to `ipcPath`. {plain, withPreload}: spawnSync's results.
 */
function plainAndPreloaded(bin, dir, ipcPath, args) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, NETTRACE_CACHE: join(dir, 'cache') };
  return {
    plain: spawnSync(bin, args, { env, encoding: 'utf8' }),
    withPreload: spawnSync(bin, ['--require', preload, ...args], {
      env: { ...env, NETTRACE_CONFIG: JSON.stringify({ ipcPath }) },
      encoding: 'utf8',
    }),
  };
}

/** Writes `code` to `name` in a folder of the test's; its path. */
function app(t, name, code) {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-firstuse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  writeFileSync(file, code);
  return file;
}

/**
 * `nettrace run --out F -- node file`; `onPort`: the program printed {"port": N} and is served by
 * it. Resolves {code, stderr, trace}.
 */
function traced(node, file, env, onPort) {
  const out = `${file}.trace.json`;
  const child = spawn(process.execPath, [cli, 'run', '--quiet', '--helper', 'off', '--out', out, '--', node, file], {
    env: { ...process.env, NETTRACE_HELPER_PREFIX: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => {
    stdout += d;
    const m = /\{"port":(\d+)\}/.exec(stdout);
    if (m && onPort) {
      const port = Number(m[1]);
      onPort = onPort(port) && undefined;
    }
  });
  return new Promise((resolve) =>
    child.on('close', (code) => {
      let trace;
      try {
        trace = JSON.parse(readFileSync(out, 'utf8'));
      } catch {
        trace = undefined;
      }
      resolve({ code, stderr, stdout, trace });
    }),
  );
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a program that never uses the network runs no preload body and connects to no collector`, async (t) => {
    const { dir, ipcPath, connections } = await quietCollector(t, 'nettrace-idle-');
    // (fs.writeSync: a piped process.stdout would load net and the channels itself.)
    const report =
      "require('fs').writeSync(1, JSON.stringify({ mark: globalThis[Symbol.for('nettrace.preload')], list: process.moduleLoadList }))";
    const { plain, withPreload } = plainAndPreloaded(bin, dir, ipcPath, ['-e', report]);
    assert.equal(withPreload.status, 0, withPreload.stderr);
    assert.equal(withPreload.stderr, '');
    const before = new Set(JSON.parse(plain.stdout).list);
    const after = JSON.parse(withPreload.stdout);
    // The loader's channels (Node 22+ load them at start anyway), and nothing more: the body is not run.
    assert.deepEqual(
      after.list.filter((m) => !before.has(m) && m !== 'NativeModule diagnostics_channel'),
      [],
    );
    assert.equal(after.mark, 'on first use', 'the loader waits for the first use');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(connections(), 0, 'no hello, no exit: the process is not in the trace');
  });

  test(`${label}: an ES module program's body does not load Node's undici (fetch, WebSocket) for it`, async (t) => {
    const { dir, ipcPath } = await quietCollector(t, 'nettrace-esm-idle-');
    const file = join(dir, 'idle.mjs');
    writeFileSync(file, "import { writeSync } from 'node:fs';\nwriteSync(1, JSON.stringify(process.moduleLoadList));\n");
    const { plain, withPreload } = plainAndPreloaded(bin, dir, ipcPath, [file]);
    assert.equal(withPreload.status, 0, withPreload.stderr);
    const undici = 'NativeModule internal/deps/undici/undici';
    assert.equal(JSON.parse(plain.stdout).includes(undici), false);
    // Reading the global WebSocket loads it (≈ 236 M instructions on Node 26): the body waits for the program to.
    assert.equal(JSON.parse(withPreload.stdout).includes(undici), false, 'undici loaded by the preload');
  });

  test(`${label}: an ES module program that never uses the network runs no preload body on Node 24+ (at its start on Node 20 and 22)`, async (t) => {
    const { dir, ipcPath, connections } = await quietCollector(t, 'nettrace-esm-quiet-');
    const file = join(dir, 'quiet.mjs');
    // Imports of modules that are not the network's go through the resolve hook and run nothing.
    writeFileSync(
      file,
      [
        "import { writeSync } from 'node:fs';",
        "import path from 'node:path';",
        "const { promisify } = await import('node:util');",
        "writeSync(1, JSON.stringify({ mark: globalThis[Symbol.for('nettrace.preload')], list: process.moduleLoadList, ok: typeof promisify + path.sep }));",
        '',
      ].join('\n'),
    );
    const { plain, withPreload } = plainAndPreloaded(bin, dir, ipcPath, [file]);
    assert.equal(withPreload.status, 0, withPreload.stderr);
    assert.equal(withPreload.stderr, '');
    const before = new Set(JSON.parse(plain.stdout).list);
    const after = JSON.parse(withPreload.stdout);
    assert.equal(after.ok, 'function/');
    const added = after.list.filter((m) => !before.has(m));
    if (majorOf(bin) >= 24) {
      assert.equal(after.mark, 'on first use', 'the loader waits for the first import of a network module');
      // The loader's channels and `module` (its `Module._load` wrapper, the hook), nothing of the body's.
      assert.deepEqual(
        added.filter((m) => !/^NativeModule (diagnostics_channel|module|internal\/source_map\/source_map)$/.test(m)),
        [],
      );
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(connections(), 0, 'no hello, no exit: the process is not in the trace');
    } else {
      assert.equal(after.mark, true, 'Node 20 and 22 run the body at the start of an ES module program');
      assert.ok(added.includes('NativeModule https'), JSON.stringify(added));
    }
  });

  test(`${label}: an ES module program whose first use is an HTTPS request at once, by a named import: the whole connection and the program's line`, async (t) => {
    const origin = await okTlsServer(t);
    const file = app(
      t,
      'https-first.mjs',
      [
        "import { readFileSync } from 'node:fs';",
        "import { request } from 'node:https';",
        "const req = request(process.env.NT_URL + '/first', { ca: readFileSync(process.env.NT_CA) }, (res) => res.resume());",
        'req.end();',
        '',
      ].join('\n'),
    );
    const { code, stderr, trace } = await traced(bin, file, { NT_URL: origin, NT_CA: caFile });
    assert.equal(code, 0, stderr);
    assert.equal(trace.httpRequests.length, 1, stderr);
    assertWholeHttps(trace, trace.httpRequests[0], pathToFileURL(file).href, 3);
    assert.equal(trace.processes.length, 1);
  });

  test(`${label}: an ES module program that imports net first and registers an async resolve hook, then imports https: traced, and its hook runs`, async (t) => {
    const origin = await okTlsServer(t);
    const hooks = app(
      t,
      'hooks.mjs',
      "export async function resolve(specifier, context, next) {\n  if (specifier === 'node:https') globalThis.port?.postMessage('seen');\n  return next(specifier, context);\n}\nexport function initialize(data) {\n  globalThis.port = data.port;\n}\n",
    );
    const file = app(
      t,
      'register-first.mjs',
      [
        "import net from 'node:net';",
        "import { register } from 'node:module';",
        "import { MessageChannel } from 'node:worker_threads';",
        "import { readFileSync, writeSync } from 'node:fs';",
        'const { port1, port2 } = new MessageChannel();',
        'let seen = false;',
        "port1.on('message', (m) => (seen = m === 'seen'));",
        'port1.unref();',
        `register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { port: port2 }, transferList: [port2] });`,
        "const https = await import('node:https');",
        "https.get(process.env.NT_URL + '/after-register', { ca: readFileSync(process.env.NT_CA) }, (res) => {",
        '  res.resume();',
        "  res.on('end', () => setTimeout(() => writeSync(1, JSON.stringify({ seen, net: typeof net.connect })), 50));",
        '});',
        '',
      ].join('\n'),
    );
    const { code, stderr, trace, stdout } = await traced(bin, file, { NT_URL: origin, NT_CA: caFile });
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { seen: true, net: 'function' });
    assert.equal(trace.httpRequests.length, 1, stderr);
    assertWholeHttps(trace, trace.httpRequests[0], pathToFileURL(file).href, 11);
  });

  test(`${label}: process.getBuiltinModule('node:https') as a CommonJS program's first use: the whole connection; getBuiltinModule the same to the program`, async (t) => {
    const has = spawnSync(bin, ['-p', 'typeof process.getBuiltinModule'], { encoding: 'utf8' }).stdout.trim();
    if (has !== 'function') return t.skip('no process.getBuiltinModule (Node 20.16+, 22.3+)');
    const origin = await okTlsServer(t);
    const file = app(
      t,
      'get-builtin-first.cjs',
      [
        // No `require` between the get and the request: a require would run the body (it sees https loaded).
        "const fs = require('fs'), ca = fs.readFileSync(process.env.NT_CA), same = { name: process.getBuiltinModule.name, length: process.getBuiltinModule.length, own: Object.getOwnPropertyNames(process.getBuiltinModule).sort().join(',') };",
        "const https = process.getBuiltinModule('node:https');",
        "https.get(process.env.NT_URL + '/builtin', { ca }, (res) => {",
        '  res.resume();',
        "  res.on('end', () => fs.writeSync(1, JSON.stringify(same)));",
        '});',
        '',
      ].join('\n'),
    );
    // Not spawnSync: the server is this process's.
    const plain = await new Promise((resolve) => {
      const child = spawn(bin, [file], { env: { ...process.env, NT_URL: origin, NT_CA: caFile }, stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('close', () => resolve({ stdout }));
    });
    const { code, stderr, trace, stdout } = await traced(bin, file, { NT_URL: origin, NT_CA: caFile });
    assert.equal(code, 0, stderr);
    // What the program read of the function, traced and not: the same.
    assert.deepEqual(JSON.parse(stdout), JSON.parse(plain.stdout));
    assert.equal(JSON.parse(plain.stdout).name, 'getBuiltinModule');
    assert.equal(trace.httpRequests.length, 1, stderr);
    // Before the wrapper, the body ran at `http.client.request.created`, after `tls.connect`: no
    // dial, no connection, no handshake in the trace.
    assertWholeHttps(trace, trace.httpRequests[0], file, 3);
  });

  test(`${label}: worker threads wait for their first import of a networking module on Node 24+: an idle one runs no body, the other is traced, from the thread's start`, async (t) => {
    const origin = await okTlsServer(t);
    const worker = app(
      t,
      'late-https.mjs',
      [
        "import { parentPort } from 'node:worker_threads';",
        "import { readFileSync } from 'node:fs';",
        'await new Promise((r) => setTimeout(r, 300));',
        "const { get } = await import('node:https');",
        "get(process.env.NT_URL + '/from-worker', { ca: readFileSync(process.env.NT_CA) }, (res) => {",
        '  res.resume();',
        "  res.on('end', () => parentPort.postMessage(res.statusCode));",
        '});',
        '',
      ].join('\n'),
    );
    const file = app(
      t,
      'workers.cjs',
      [
        "const { Worker } = require('node:worker_threads');",
        "const mark = \"require('node:worker_threads').parentPort.postMessage(String(globalThis[Symbol.for('nettrace.preload')]))\";",
        'const idle = new Worker(mark, { eval: true });',
        "idle.once('message', (idleMark) => {",
        `  const busy = new Worker(${JSON.stringify(worker)});`,
        "  busy.once('message', (status) => require('fs').writeSync(1, JSON.stringify({ idleMark, status })));",
        '});',
        '',
      ].join('\n'),
    );
    const { code, stderr, trace, stdout } = await traced(bin, file, { NT_URL: origin, NT_CA: caFile });
    assert.equal(code, 0, stderr);
    const seen = JSON.parse(stdout);
    assert.equal(seen.status, 200);
    assert.equal(seen.idleMark, majorOf(bin) >= 24 ? 'on first use' : 'true');
    assert.equal(trace.httpRequests.length, 1, stderr);
    const [r] = trace.httpRequests;
    assertWholeHttps(trace, r, pathToFileURL(worker).href, 5);
    assert.notEqual(r.threadId, 0);
    // The thread's record starts when the thread did, 300 ms before its body ran (on every Node).
    const thread = trace.processes.find((p) => p.pid === r.pid && p.threadId === r.threadId);
    assert.ok(thread && r.reqStartAt - thread.startAt >= 250, JSON.stringify({ thread, reqStartAt: r.reqStartAt }));
  });

  test(`${label}: the global fetch as the program's first use of the network is traced, with the program's line`, async (t) => {
    const url = await okServer(t);
    const file = app(t, 'fetch-first.cjs', "fetch(process.env.NT_URL + '/first').then((r) => r.text());\n");
    const { code, stderr, trace } = await traced(bin, file, { NT_URL: url });
    assert.equal(code, 0, stderr);
    assert.equal(trace.httpRequests.length, 1, stderr);
    const [r] = trace.httpRequests;
    assert.equal(r.client, 'fetch');
    assert.equal(r.respStatusCode, 200);
    assert.equal(r.respContentLen, 2);
    assert.ok(r.tcpConn && r.dial && r.reusedConn === false, JSON.stringify(r));
    assert.deepEqual(
      r.initiator.frames.filter((f) => !f.library).map((f) => [f.file, f.line]),
      [[file, 1]],
      JSON.stringify(r.initiator),
    );
    assert.equal(trace.processes.length, 1);
  });

  test(`${label}: a fetch() to a bad port as a CommonJS program's first use of the network is recorded, with the program's line; fetch is the same to the program`, async (t) => {
    const file = app(
      t,
      'fetch-bad-port-first.cjs',
      [
        'const held = fetch;',
        "const same = { held: held === globalThis.fetch, name: fetch.name, length: fetch.length, own: Object.getOwnPropertyNames(fetch).sort().join(',') };",
        "held('http://127.0.0.1:6000/first').catch((err) => {",
        "  require('fs').writeSync(1, JSON.stringify({ ...same, message: err.message, cause: err.cause?.message }));",
        '});',
        '',
      ].join('\n'),
    );
    const plain = spawnSync(bin, [file], { encoding: 'utf8' });
    const { code, stderr, trace, stdout } = await traced(bin, file, {});
    assert.equal(code, 0, stderr);
    // What the program saw, traced and not: the same fetch (name, length, own properties), the same error.
    assert.deepEqual(JSON.parse(stdout), JSON.parse(plain.stdout));
    assert.equal(JSON.parse(plain.stdout).cause, 'bad port');
    assert.equal(trace.httpRequests.length, 1, stderr);
    const [r] = trace.httpRequests;
    assert.equal(r.reqURL, 'http://127.0.0.1:6000/first');
    assert.equal(r.reqError?.cause?.message, 'bad port');
    assert.deepEqual(
      r.initiator.frames.map((f) => [f.file, f.line]),
      [[file, 3]],
      JSON.stringify(r.initiator),
    );
  });

  test(`${label}: http loaded through import() in a CommonJS program: its requests and its server's are traced`, async (t) => {
    const url = await okServer(t);
    const file = app(
      t,
      'import-http.cjs',
      [
        "import('node:http').then((h) => {",
        '  const server = h.createServer((req, res) => {',
        "    res.end('served');",
        '    server.close();',
        '  });',
        "  server.listen(0, '127.0.0.1', () => {",
        "    h.get(process.env.NT_URL + '/imported', (res) => {",
        '      res.resume();',
        "      res.on('end', () => console.log(JSON.stringify({ port: server.address().port })));",
        '    });',
        '  });',
        '});',
        '',
      ].join('\n'),
    );
    let served;
    const { code, stderr, trace } = await traced(bin, file, { NT_URL: url }, (port) => {
      served = new Promise((resolve) =>
        http.get(`http://127.0.0.1:${port}/in`, (res) => res.resume().on('end', () => resolve(res.statusCode))),
      );
    });
    assert.equal(code, 0, stderr);
    assert.equal(await served, 200);
    const made = trace.httpRequests.filter((r) => r.reqURL.endsWith('/imported'));
    assert.equal(made.length, 1, JSON.stringify(trace.httpRequests.map((r) => r.reqURL)));
    assert.equal(made[0].client, 'http');
    assert.equal(made[0].respStatusCode, 200);
    // (No initiator: http was loaded unseen, so its request was not made through the hook that takes the stack.)
    assert.deepEqual(
      trace.incomingRequests.map((r) => [r.reqURL.replace(/:\d+/, ''), r.respStatusCode]),
      [['http://127.0.0.1/in', 200]],
    );
  });

  test(`${label}: another --require that loads http, before the program: its requests are traced`, async (t) => {
    const url = await okServer(t);
    const first = app(t, 'first.cjs', "globalThis.__http = require('node:http');\n");
    const file = app(t, 'uses-first.cjs', "globalThis.__http.get(process.env.NT_URL + '/early', (res) => res.resume());\n");
    // The preload comes first in NODE_OPTIONS; `first` loads http there, and on the command line after it.
    const { code, stderr, trace } = await traced(bin, file, { NT_URL: url, NODE_OPTIONS: `--require ${first}` });
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      trace.httpRequests.map((r) => [r.client, r.respStatusCode]),
      [['http', 200]],
    );
  });
}
