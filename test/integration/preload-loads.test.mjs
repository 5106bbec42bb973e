// covers: src/preload/builtins.ts, src/preload/firstUse.ts, src/preload/loader.ts
// needs: the build (dist/preload.cjs, dist/preload-body.cjs)
// Issue 52: the preload loads only what the program uses. A program's `process.moduleLoadList`
// (every built-in module Node has loaded) with the preload holds, beyond the one without it, only
// the few small modules the preload itself needs at start: no networking module (net, tls, dns,
// http, https, http2, dgram, undici), no worker_threads (nor the streams it loads), no crypto or
// inspector before the program loads them; and a program that loads `http` gets no `https`,
// `tls`, `http2` or `dns` more than it would untraced. On every Node the suite runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBin, otherNodeMajors } from '../../scripts/nodes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const preload = join(root, 'dist', 'preload.cjs');

/** A traced process's environment for the code cache's tests: its cache in `cache`, no collector behind its socket. */
function cacheEnv(cache) {
  return {
    PATH: process.env.PATH,
    NETTRACE_CACHE: cache,
    NETTRACE_CONFIG: JSON.stringify({ ipcPath: join(root, 'no-collector-here.sock') }),
  };
}
/**
 * What the preload may load at start: the channels it listens on, its clock, its UTF-8 decoder,
 * the async context it keeps a request's initiator in, and what Node 22+ loads for `fs`'s
 * namespace (internal/fs/dir).
 */
const ALLOWED =
  /^NativeModule (diagnostics_channel|string_decoder|perf_hooks|internal\/perf\/.*|internal\/histogram|internal\/async_local_storage\/.*|internal\/fs\/dir|vm)$|^Internal Binding (performance|string_decoder|fs_dir)$/;

/** The entries of process.moduleLoadList after `code` runs, with the preload or without. */
function loaded(node, code, traced) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  if (traced) env.NETTRACE_CONFIG = JSON.stringify({ ipcPath: join(root, 'no-collector-here.sock') });
  const args = [...(traced ? ['--require', preload] : []), '-e', `${code};process.stdout.write(JSON.stringify(process.moduleLoadList))`];
  const r = spawnSync(node, args, { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const nodes = [[process.versions.node.split('.')[0], process.execPath], ...otherNodeMajors.map((m) => [String(m), nodeBin(m)])].filter(
  ([, p]) => p && existsSync(p),
);

for (const [major, node] of nodes) {
  test(`Node ${major}: \`node -e 0\` with the preload loads no module the program did not, beyond a small allowed set`, () => {
    const plain = new Set(loaded(node, '0', false));
    const extra = loaded(node, '0', true).filter((m) => !plain.has(m));
    assert.deepEqual(
      extra.filter((m) => !ALLOWED.test(m)),
      [],
      'modules the preload loaded before the program did',
    );
  });

  test(`Node ${major}: a program that loads dns and makes no request sends its hello, stats and exit without loading net at its exit`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-exit-'));
    const ipcPath = join(dir, 'c.sock');
    const lines = [];
    const server = createServer((s) => {
      let text = '';
      s.on('data', (d) => (text += d));
      s.on('end', () =>
        lines.push(
          ...text
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        ),
      );
    });
    await new Promise((ok) => server.listen(ipcPath, ok));
    try {
      // The program's own 'exit' listener runs after the preload's last messages (index.ts onExit).
      // (fs.writeSync: a piped process.stdout is a net.Socket.)
      // (dns: the preload's body runs at the program's first use of the network, firstUse.ts; dns loads no net.)
      const code =
        "require('node:dns');process.on('exit',()=>require('fs').writeSync(1,JSON.stringify(process.moduleLoadList.filter(m=>/^NativeModule (net|stream)$/.test(m)))))";
      for (const flags of [[], ['--pending-deprecation']]) {
        lines.length = 0;
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, NETTRACE_CONFIG: JSON.stringify({ ipcPath }) };
        const c = spawn(node, [...flags, '--require', preload, '-e', code], { env });
        let out = '';
        let err = '';
        c.stdout.on('data', (d) => (out += d));
        c.stderr.on('data', (d) => (err += d));
        const status = await new Promise((ok) => c.on('close', ok));
        assert.equal(status, 0, err);
        assert.equal(err, '', 'nothing on stderr (no deprecation warning)');
        // Under --pending-deprecation, process.binding would warn: net is used as before.
        if (!flags.length) assert.deepEqual(JSON.parse(out), [], 'net and stream are not loaded');
        else assert.ok(JSON.parse(out).includes('NativeModule net'));
        for (let i = 0; i < 100 && !lines.some((m) => m.type === 'exit'); i++) await new Promise((ok) => setTimeout(ok, 50));
        assert.deepEqual(
          lines.map((m) => m.type),
          ['hello', 'exit', 'stats'],
        );
        assert.equal(lines[0].pid, c.pid);
        assert.equal(lines[1].exitCode, 0);
      }
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`Node ${major}: a program that loads http gets no https, tls, http2 or dns from the preload`, () => {
    const code = "require('node:http')";
    const plain = new Set(loaded(node, code, false));
    const extra = loaded(node, code, true).filter((m) => !plain.has(m) && /^NativeModule /.test(m));
    assert.deepEqual(
      extra.filter((m) =>
        /^NativeModule (https|tls|_tls_.*|http2|internal\/http2\/.*|dns|dgram|worker_threads|stream|crypto|inspector)$/.test(m),
      ),
      [],
    );
  });
}

test("the preload's body is ASCII, so every process reads it as a one-byte string (no UTF-8 decoding)", () => {
  const bytes = readFileSync(join(root, 'dist', 'preload-body.cjs'));
  const at = bytes.findIndex((b) => b > 0x7f);
  assert.equal(at, -1, `a byte over 0x7f at ${at}: ${bytes.subarray(Math.max(0, at - 40), at + 20).toString()}`);
});

test("the preload's body is compiled once: later processes run it from V8's code cache (a 0600 file in a 0700 folder)", () => {
  const cache = mkdtempSync(join(tmpdir(), 'nettrace-v8cache-'));
  try {
    const env = cacheEnv(cache);
    // The body runs at the program's first use of the network (firstUse.ts): dns here.
    const run = () =>
      spawnSync(process.execPath, ['--require', preload, '-e', "require('node:dns')"], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run().status, 0);
    const dir = join(cache, 'v8');
    const files = readdirSync(dir).filter((f) => f.endsWith('.bin'));
    assert.equal(files.length, 1, `one cache file: ${files}`);
    const file = join(dir, files[0]);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const first = statSync(file).mtimeMs;
    // V8 accepted the data (a rejected one is written anew).
    assert.equal(run().status, 0);
    assert.equal(statSync(file).mtimeMs, first, 'the second process used the cache as it was');
    // A program run from a file shares it (`-e`'s code is in execArgv, and is no flag of V8's).
    const app = join(cache, 'app.js');
    writeFileSync(app, "require('node:dns')");
    const r = spawnSync(process.execPath, ['--require', preload, app], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(statSync(file).mtimeMs, first, 'a program run from a file used the same cache');
    assert.deepEqual(readdirSync(dir), files);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test("processes of one program with different options keep each their code cache: one's write does not remove the other's", () => {
  const cache = mkdtempSync(join(tmpdir(), 'nettrace-v8keys-'));
  try {
    const env = cacheEnv(cache);
    // Two kinds of process (as `npm test` and its runner's workers): their options differ, so do their keys.
    const run = (...options) =>
      spawnSync(process.execPath, [...options, '--require', preload, '-e', "require('node:dns')"], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
    const dir = join(cache, 'v8');
    const files = () =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.bin'))
        .sort();
    assert.equal(run().status, 0);
    const [a] = files();
    // What killed processes left while they wrote: an old one goes at the next write, a new one may be being written.
    const prefix = a.slice(0, a.lastIndexOf('-') + 1);
    const stale = join(dir, `${prefix}0badc0de.bin.4242.tmp`);
    const fresh = join(dir, `${prefix}0badc0de.bin.4243.tmp`);
    writeFileSync(stale, '');
    writeFileSync(fresh, '');
    utimesSync(stale, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    assert.equal(run('--no-deprecation').status, 0);
    assert.ok(!existsSync(stale) && existsSync(fresh), 'the old temporary file removed, the new one kept');
    rmSync(fresh);
    assert.equal(files().length, 2, `each kind's file: ${files()}`);
    const made = Object.fromEntries(files().map((f) => [f, statSync(join(dir, f)).mtimeMs]));
    // Each kind again: both read their data as it is, nothing is written.
    assert.equal(run().status, 0);
    assert.equal(run('--no-deprecation').status, 0);
    assert.deepEqual(Object.fromEntries(files().map((f) => [f, statSync(join(dir, f)).mtimeMs])), made, `${a}: not written again`);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test("the code cache's folder stays under 32 MiB: older installs' and Node versions' files go, the oldest-written first", () => {
  const cache = mkdtempSync(join(tmpdir(), 'nettrace-v8folder-'));
  try {
    const dir = join(cache, 'v8');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Files of installs gone (the extension's folder changes at each update) and of another Node:
    // 40 of 1 MiB, each written a minute before the next, and one left half-written long ago by another install.
    const MiB = 1024 * 1024;
    const others = [];
    for (let i = 0; i < 40; i++) {
      const name = `preload-${(0x10000000 + i).toString(16)}-v18.0.0-0badc0de.bin`;
      writeFileSync(join(dir, name), Buffer.alloc(MiB));
      const at = new Date(Date.now() - (40 - i) * 60_000 - 3_600_000);
      utimesSync(join(dir, name), at, at);
      others.push(name);
    }
    const leftOver = join(dir, 'cli-run-00000001-v18.0.0-0badc0de.bin.4242.tmp');
    writeFileSync(leftOver, '');
    utimesSync(leftOver, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const r = spawnSync(process.execPath, ['--require', preload, '-e', "require('node:dns')"], {
      env: cacheEnv(cache),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const left = readdirSync(dir);
    const bytes = left.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    assert.ok(bytes <= 32 * MiB, `the folder holds ${bytes} bytes`);
    const own = left.filter((f) => !others.includes(f));
    assert.equal(own.length, 1, `this install's file written and kept: ${own}`);
    const kept = others.filter((f) => left.includes(f));
    assert.ok(kept.length >= 30 && kept.length < 40, `most of the others kept: ${kept.length}`);
    assert.deepEqual(kept, others.slice(others.length - kept.length), 'the oldest-written went first');
    assert.ok(!existsSync(leftOver), "another install's old temporary file removed");
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test("the code cache is made warm once, after a process's first request: later processes read it as it is", async () => {
  const cache = mkdtempSync(join(tmpdir(), 'nettrace-v8warm-'));
  const server = createHttpServer((req, res) => res.end('ok'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const env = cacheEnv(cache);
    const url = `http://127.0.0.1:${server.address().port}/`;
    const run = (code) =>
      new Promise((resolve) => {
        const c = spawn(process.execPath, ['--require', preload, '-e', code], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        c.stderr.on('data', (d) => (stderr += d));
        c.on('exit', (status) => resolve({ status, stderr }));
      });
    const dir = join(cache, 'v8');
    const files = () => readdirSync(dir).sort();
    const request = `require('node:http').get(${JSON.stringify(url)}, (r) => { r.resume(); r.on('end', () => setTimeout(() => {}, 100)); })`;
    // No request: the data made when the body's top level has run.
    assert.equal((await run("require('node:http')")).status, 0);
    const [first] = files();
    assert.match(first, /^preload-.*[0-9a-f]{8}\.bin$/);
    // The first request: the warm data replaces it (one file per install and Node version).
    let r = await run(request);
    assert.equal(r.status, 0, r.stderr);
    const [warm] = files();
    assert.deepEqual(files(), [first.replace(/\.bin$/, '.warm.bin')]);
    assert.equal(statSync(join(dir, warm)).mode & 0o777, 0o600);
    const made = statSync(join(dir, warm)).mtimeMs;
    // Read as it is by processes with a request and without.
    r = await run(request);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await run("require('node:http')")).status, 0);
    assert.deepEqual(files(), [warm]);
    assert.equal(statSync(join(dir, warm)).mtimeMs, made, 'not written again');
  } finally {
    server.close();
    rmSync(cache, { recursive: true, force: true });
  }
});

test('the warm code cache is made again after the 16th and the 64th request: the paths taken after the first are in it', async () => {
  const server = createHttpServer((req, res) => (req.url === '/close' ? res.writeHead(404, { connection: 'close' }).end() : res.end('ok')));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const caches = [];
  try {
    const url = `http://127.0.0.1:${server.address().port}`;
    // The first request by fetch; then node:http, each 10th answered 404 on a closing connection.
    const code = (n) =>
      `(async () => { await (await fetch(${JSON.stringify(url)})).text();
        for (let i = 1; i < ${n}; i++) await new Promise((done) => require('node:http').get(${JSON.stringify(url)} + (i % 10 ? '/' : '/close'), (r) => { r.resume(); r.on('end', done); }));
        await new Promise((r) => setTimeout(r, 100)); })()`;
    const warmSize = async (n) => {
      const cache = mkdtempSync(join(tmpdir(), 'nettrace-v8again-'));
      caches.push(cache);
      const env = cacheEnv(cache);
      const status = await new Promise((resolve) =>
        spawn(process.execPath, ['--require', preload, '-e', code(n)], { env, stdio: 'ignore' }).on('exit', resolve),
      );
      assert.equal(status, 0);
      const files = readdirSync(join(cache, 'v8'));
      assert.equal(files.length, 1);
      assert.match(files[0], /\.warm\.bin$/);
      return statSync(join(cache, 'v8', files[0])).size;
    };
    // 15 requests: the data made after the first alone; 70: made again after the 16th and the 64th.
    const once = await warmSize(15);
    const again = await warmSize(70);
    assert.ok(again > once, `the data made after 70 requests (${again} bytes) holds more than after 15 (${once})`);
  } finally {
    server.close();
    for (const c of caches) rmSync(c, { recursive: true, force: true });
  }
});
