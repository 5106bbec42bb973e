// covers: src/preload/initiator/, src/preload/asyncStarts.ts, src/trace/derive/initiatorLine.ts
// The initiator is the program's line: for every client, the request's initiator (its first
// frame that is not a library's) is exactly the line of the program that made the call, found
// however deep the library's own frames go (axios), through the async context when the library
// starts the request later (got, superagent, a queued undici Pool dispatch, @grpc/grpc-js), in a
// TypeScript program run with `--import tsx` (its source map held only in memory) and with Node's
// own type stripping. Debuggees run on every Node version installed (20, 22, 24, 26).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { apps, cli, nodeBinaries, root, run } from './harness.mjs';

const require = createRequire(join(root, 'package.json'));
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

/** The line numbers of the `// @line NAME` markers of an app. */
function markers(app) {
  const lines = readFileSync(join(apps, app), 'utf8').split('\n');
  const out = {};
  lines.forEach((text, i) => {
    const m = text.match(/\/\/ @line ([\w-]+)/);
    if (m) out[m[1]] = i + 1;
  });
  return out;
}

let httpServer;
let grpcServer;
let base;
let grpcPort;
const seen = [];

before(async () => {
  httpServer = http.createServer((req, res) => {
    seen.push(req.url);
    if (req.url === '/c/axios-redirect') {
      res.writeHead(302, { location: '/c/axios-target' });
      res.end();
      return;
    }
    // Slow enough that the pool's second request waits for its one connection.
    const delay = ['/c/pool-1', '/c/agent-1', '/c/agent-2'].includes(req.url) ? 50 : 0;
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    }, delay);
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${httpServer.address().port}`;
  const def = protoLoader.loadSync(join(apps, 'echo.proto'));
  const Echo = grpc.loadPackageDefinition(def).nettrace.Echo;
  grpcServer = new grpc.Server();
  grpcServer.addService(Echo.service, { Say: (call, cb) => cb(null, { text: call.request.text }) });
  grpcPort = await new Promise((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
});

after(() => {
  httpServer?.closeAllConnections?.();
  httpServer?.close();
  grpcServer?.forceShutdown();
});

/** Runs `node [nodeArgs] app` traced with every stack recorded; returns the result and trace. */
async function traced(bin, app, { nodeArgs = [], args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-init-'));
  const out = join(dir, 'trace.json');
  try {
    const res = await run(
      process.execPath,
      [cli, 'run', '--quiet', '--initiator', 'all', '--out', out, '--', bin, ...nodeArgs, join(apps, app), ...args],
      {
        env: { BASE: base, GRPC: String(grpcPort) },
      },
    );
    const trace = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : undefined;
    return { ...res, trace };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Asserts that the request whose URL ends with `suffix` was made at `line` of `file` (`async` as given). */
function assertLine(trace, suffix, fileRe, line, { async: isAsync } = {}) {
  const found = trace.httpRequests.filter((r) => r.reqURL.endsWith(suffix));
  assert.equal(found.length, 1, `one request ending in ${suffix}: ${trace.httpRequests.map((r) => r.reqURL).join(', ')}`);
  const init = found[0].initiator;
  assert.ok(init, `${suffix}: an initiator`);
  const frame = init.frames.find((f) => !f.library);
  const shown = init.frames.map((f) => `${f.library ? 'L ' : ''}${f.file}:${f.line}`).join(' | ');
  assert.ok(frame, `${suffix}: a program frame among ${shown}`);
  assert.match(frame.file, fileRe, `${suffix}: ${shown}`);
  assert.equal(frame.line, line, `${suffix}: ${shown}`);
  if (isAsync !== undefined) assert.equal(init.async === true, isAsync, `${suffix}: async`);
  return found[0];
}

const CLIENTS = markers('initiator-clients.mjs');
const APP = /initiator-clients\.mjs$/;

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: every client's initiator is the program's exact line`, async (t) => {
    const { code, stderr, stdout, trace } = await traced(bin, 'initiator-clients.mjs');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /done/);
    const line = (name, suffix, opts) => t.test(name, () => assertLine(trace, suffix, APP, CLIENTS[name], opts));
    // Called directly: the program's frame is on the stack (deep below axios's own frames).
    await line('http', '/c/http', { async: false });
    await line('fetch', '/c/fetch', { async: false });
    await line('undici', '/c/undici', { async: false });
    await line('pool-1', '/c/pool-1', { async: false });
    await line('axios', '/c/axios', { async: false });
    await line('axios-redirect', '/c/axios-redirect', { async: false });
    await line('node-fetch-2', '/c/node-fetch-2', { async: false });
    await line('node-fetch-3', '/c/node-fetch-3', { async: false });
    await line('needle', '/c/needle', { async: false });
    // Started where the program's call is not on the stack: found through the async context.
    await t.test('axios: the redirect it followed', () => {
      const hop = assertLine(trace, '/c/axios-target', APP, CLIENTS['axios-redirect'], { async: true });
      assert.ok(hop.redirectedFrom, 'the hop is linked to the redirect');
    });
    await line('pool-2', '/c/pool-2', { async: true });
    await t.test('agent (its pool queue)', () => {
      assertLine(trace, '/c/agent-1', APP, CLIENTS.agent, { async: false });
      assertLine(trace, '/c/agent-3', APP, CLIENTS.agent, { async: true });
    });
    await line('got', '/c/got', { async: true });
    await line('superagent', '/c/superagent', { async: true });
    // superagent's other forms make their request objects the same way (`new exports.Request`).
    await line('superagent-call', '/c/superagent-call', { async: true });
    await line('superagent-agent', '/c/superagent-agent', { async: true });
    await line('ky', '/c/ky', { async: true });
    // gRPC: the first call waits for the connection (its stream is opened from grpc-js's
    // callbacks), the second rides the ready one.
    await t.test('grpc', () => {
      const calls = trace.httpRequests.filter((r) => r.reqURL.endsWith('/nettrace.Echo/Say')).sort((a, b) => a.reqStartAt - b.reqStartAt);
      assert.deepEqual(
        calls.map((r) => `${r.client} ${r.respStatusCode}`),
        ['http2 200', 'http2 200'],
      );
      const grpcLines = calls.map((r) => {
        const f = r.initiator?.frames.find((fr) => !fr.library);
        return f && APP.test(f.file) ? f.line : `${f?.file}:${f?.line}`;
      });
      assert.deepEqual(grpcLines, [CLIENTS.grpc, CLIENTS['grpc-again']]);
      assert.equal(calls[0].initiator.async, true);
    });
  });
}

const UNWRAPPED = markers('initiator-unwrapped.cjs');

for (const { label, bin } of nodeBinaries()) {
  const major = Number((label.match(/node v?(\d+)/) ?? [])[1]);
  test(`${label}: requests made without the wrappers (an import()ed named export, a ClientRequest)`, async (t) => {
    const { code, stderr, stdout, trace } = await traced(bin, 'initiator-unwrapped.cjs');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /done/);
    for (const name of ['named-get', 'client-request']) {
      await t.test(name, () => {
        if (major >= 22) {
          // Node 22+ publishes `http.client.request.created` from the constructor: the call's line.
          assertLine(trace, `/c/${name}`, /initiator-unwrapped\.cjs$/, UNWRAPPED[name], { async: false });
          return;
        }
        // Node 20 publishes nothing before the connect: no line rather than a wrong one.
        const r = trace.httpRequests.find((q) => q.reqURL.endsWith(`/c/${name}`));
        assert.ok(r, `${name} recorded`);
        assert.ok(!r.initiator?.frames.some((f) => !f.library), JSON.stringify(r.initiator));
      });
    }
  });
}

const TSX = markers('initiator-tsx.ts');
const STRIP = markers('initiator-strip.mts');
const TRANSFORM = markers('initiator-transform.mts');

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a TypeScript program run with --import tsx: the .ts file's lines (map held in memory)`, async () => {
    const { code, stderr, stdout, trace } = await traced(bin, 'initiator-tsx.ts', { nodeArgs: ['--import', 'tsx'] });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /200 200/);
    const r = assertLine(trace, '/c/ts-http', /initiator-tsx\.ts$/, TSX['ts-http'], { async: false });
    const f = r.initiator.frames.find((fr) => !fr.library);
    assert.ok(f.generated, 'mapped from the generated position');
    assert.ok(!f.file.startsWith('file:'), 'a path, like the frame it was mapped from');
    assertLine(trace, '/c/ts-fetch', /initiator-tsx\.ts$/, TSX['ts-fetch'], { async: false });
  });

  const major = Number((label.match(/node v?(\d+)/) ?? [])[1]);
  test(
    `${label}: a TypeScript program run with Node's type stripping: its own lines`,
    { skip: major < 22 && 'type stripping needs Node 22+' },
    async () => {
      const { code, stderr, stdout, trace } = await traced(bin, 'initiator-strip.mts', {
        nodeArgs: ['--experimental-strip-types', '--no-warnings'],
      });
      assert.equal(code, 0, stderr);
      assert.match(stdout, /200 200/);
      assertLine(trace, '/c/strip-http', /initiator-strip\.mts$/, STRIP['strip-http'], { async: false });
      assertLine(trace, '/c/strip-fetch', /initiator-strip\.mts$/, STRIP['strip-fetch'], { async: false });
    },
  );

  test(
    `${label}: a TypeScript program Node transpiles itself (--experimental-transform-types): the .mts file's lines`,
    {
      skip:
        (major < 22 && 'needs Node 22+') ||
        (major >= 26 && 'Node 26 has no --experimental-transform-types any more ("bad option"): it only strips types'),
    },
    async () => {
      const { code, stderr, stdout, trace } = await traced(bin, 'initiator-transform.mts', {
        nodeArgs: ['--experimental-transform-types', '--no-warnings'],
      });
      assert.equal(code, 0, stderr);
      assert.match(stdout, /200 200/);
      const r = assertLine(trace, '/c/transform-http', /initiator-transform\.mts$/, TRANSFORM['transform-http'], { async: false });
      assert.ok(r.initiator.frames.find((f) => !f.library).generated, 'mapped through the map Node holds');
      assertLine(trace, '/c/transform-fetch', /initiator-transform\.mts$/, TRANSFORM['transform-fetch'], { async: false });
    },
  );
}
