// covers: src/otlp/mapping.ts, src/extension/launchConfig.ts, src/extension/traceStore.ts,
//   src/collector/server.ts
// needs: the build (dist/core.cjs, dist/preload.cjs)
// OpenTelemetry export (issue 38): `nettrace run --otlp` and `nettrace export` against a local
// OTLP receiver that decodes with the official opentelemetry-proto definitions (otlpReceiver.mjs),
// for http/protobuf, http/json and grpc: the CLIENT span of each request with its attributes, the
// phases as child spans, resource attributes; a redirect chain as one trace; a refused connection,
// a TLS failure and a timeout as errors; http2; a program instrumented with the OpenTelemetry SDK
// joined; a dead backend, one that never answers, one answering 503 then recovering, one refusing
// a batch for good (the program unaffected, losses counted); `nettrace export` (repeatable ids,
// OTLP/JSON file); the VS Code extension's sessions with `otlp`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { caFile, startServers } from './servers.mjs';
import { startTlsServers } from './tlsServers.mjs';
import { decodeJson, startReceiver } from './otlpReceiver.mjs';
import { apps, cli, root, run } from './harness.mjs';
import { bundleTs } from '../lib/bundleTs.mjs';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const core = createRequire(import.meta.url)('../../dist/core.cjs');

const CLIENT = 3; // OTLP span kinds: 1 INTERNAL, 3 CLIENT
const INTERNAL = 1;
const ERROR = 2;

let servers;
let tls;
let dir;
let env;
before(async () => {
  servers = await startServers();
  tls = await startTlsServers();
  dir = mkdtempSync(join(tmpdir(), 'nettrace-otlp-'));
  env = { NT_URLS: JSON.stringify(servers.urls), NT_TLS: JSON.stringify(tls.ports), NODE_EXTRA_CA_CERTS: caFile };
});
after(async () => {
  await servers.close();
  await tls.close();
  rmSync(dir, { recursive: true, force: true });
});

let runs = 0;
/** `nettrace run [cliArgs] -- node apps/<app>`; returns the CLI result, the trace, the app's JSON output and the wall time. */
async function traced(app, cliArgs = [], extraEnv = {}) {
  const out = join(dir, `trace-${++runs}.json`);
  const t0 = performance.now();
  const res = await run(process.execPath, [cli, 'run', '--quiet', '--out', out, ...cliArgs, '--', process.execPath, join(apps, app)], {
    env: { ...env, ...extraEnv },
  });
  const wallMs = performance.now() - t0;
  assert.equal(res.code, 0, res.stderr);
  return { ...res, out, wallMs, trace: JSON.parse(readFileSync(out, 'utf8')), app: JSON.parse(res.stdout.trim().split('\n').pop()) };
}

/** The CLIENT span whose url.full ends with `suffix`. */
function clientSpan(spans, suffix) {
  const found = spans.filter((s) => s.kind === CLIENT && s.attributes['url.full'].endsWith(suffix));
  assert.equal(found.length, 1, `one CLIENT span for ${suffix}: ${spans.map((s) => s.attributes['url.full']).join(', ')}`);
  return found[0];
}

const childrenOf = (spans, parent) => spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);
const names = (spans) => spans.map((s) => s.name);

/** Checks the spans of apps/otlp-cases.mjs as docs/opentelemetry.md describes them. */
function checkCases(spans, trace, { host = true } = {}) {
  const clients = spans.filter((s) => s.kind === CLIENT);
  assert.equal(clients.length, trace.httpRequests.length, 'one CLIENT span per request');
  const ids = new Set(spans.map((s) => `${s.traceId}/${s.spanId}`));
  assert.equal(ids.size, spans.length, 'span ids are unique');
  for (const s of spans) {
    assert.equal(s.scope, 'nettrace');
    assert.equal(s.resource['service.name'], 'nettrace', "the program's package.json name");
    assert.equal(s.resource['process.runtime.version'], process.versions.node);
    assert.equal(s.resource['process.command'], process.execPath);
    assert.equal(s.resource['host.name'], host ? hostname() : undefined, 'host.name: only when exported where it was taken');
    assert.ok(trace.processes.some((p) => p.pid === s.resource['process.pid']));
    assert.ok(s.endNs >= s.startNs);
    if (s.kind === INTERNAL) {
      const parent = clients.find((c) => c.spanId === s.parentSpanId && c.traceId === s.traceId);
      assert.ok(parent, `${s.name} is a child of a CLIENT span`);
      assert.ok(s.startNs >= parent.startNs && s.endNs <= parent.endNs + 1000n, `${s.name} lies within its request`);
    }
  }

  const plain = clientSpan(spans, '/plain?size=5');
  const a = plain.attributes;
  assert.equal(plain.name, 'GET');
  assert.equal(a['http.request.method'], 'GET');
  assert.equal(a['server.address'], '127.0.0.1');
  assert.equal(a['server.port'], Number(new URL(servers.urls.http).port));
  assert.equal(a['network.peer.address'], '127.0.0.1');
  assert.equal(a['network.peer.port'], a['server.port']);
  assert.equal(a['network.protocol.version'], '1.1');
  assert.equal(a['http.response.status_code'], 200);
  assert.equal(a['http.response.body.size'], 5);
  assert.match(a['code.filepath'], /otlp-cases\.mjs$/);
  assert.equal(typeof a['code.lineno'], 'number');
  assert.equal(a['nettrace.client'], 'http');
  assert.equal(plain.status.code, 0);
  assert.deepEqual(names(childrenOf(spans, plain)), ['tcp connect', 'send', 'wait', 'receive']);

  const secure = clientSpan(spans, '/secure');
  const hs = childrenOf(spans, secure).find((s) => s.name === 'tls handshake');
  assert.ok(hs, 'a TLS handshake span');
  assert.equal(hs.attributes['tls.protocol.version'], '1.3');
  assert.match(hs.attributes['tls.cipher'], /^TLS_/);
  assert.equal(hs.attributes['tls.server.subject'], 'CN=localhost');
  assert.ok(Date.parse(hs.attributes['tls.server.not_after']) > Date.now());
  assert.deepEqual(names(childrenOf(spans, secure)), ['dns lookup', 'tcp connect', 'tls handshake', 'send', 'wait', 'receive']);

  const fetched = clientSpan(spans, '/fetched?api_key=<redacted>&page=2');
  assert.equal(fetched.attributes['nettrace.client'], 'fetch');
  assert.ok(
    !JSON.stringify(spans, (k, v) => (typeof v === 'bigint' ? String(v) : v)).includes('abc123'),
    'the query secret is not exported',
  );

  // The redirect chain: one trace, each hop the child of the one before, with a link to it.
  const [r2, r1, final] = ['/r/2', '/r/1', '/final'].map((p) => clientSpan(spans, p));
  assert.equal(r1.traceId, r2.traceId);
  assert.equal(final.traceId, r2.traceId);
  assert.equal(r2.parentSpanId, '');
  assert.equal(r1.parentSpanId, r2.spanId);
  assert.equal(final.parentSpanId, r1.spanId);
  assert.deepEqual(
    r1.links.map((l) => l.spanId),
    [r2.spanId],
  );
  assert.equal(r2.attributes['http.response.status_code'], 302);
  assert.notEqual(plain.traceId, r2.traceId, 'unrelated requests are separate traces');

  const h2 = clientSpan(spans, '/h2');
  assert.equal(h2.attributes['network.protocol.version'], '2');
  assert.equal(childrenOf(spans, h2).find((s) => s.name === 'tls handshake').attributes['tls.next_protocol'], 'h2');

  const refused = clientSpan(spans, '/refused');
  assert.equal(refused.status.code, ERROR);
  assert.equal(refused.attributes['error.type'], 'ECONNREFUSED');
  assert.match(refused.attributes['nettrace.diagnosis'], /refused/i);
  const attempt = childrenOf(spans, refused).find((s) => s.name === 'tcp connect');
  assert.equal(attempt.status.code, ERROR);
  assert.equal(attempt.attributes['error.type'], 'ECONNREFUSED');

  const bad = clientSpan(spans, '/untrusted');
  assert.equal(bad.status.code, ERROR);
  assert.equal(bad.attributes['error.type'], 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  const badHs = childrenOf(spans, bad).find((s) => s.name === 'tls handshake');
  assert.equal(badHs.status.code, ERROR);
  assert.match(badHs.attributes['tls.server.issuer'], /untrusted-ca/);

  const stalled = clientSpan(spans, '/stall');
  assert.equal(stalled.status.code, ERROR);
  assert.equal(stalled.attributes['nettrace.error.timed_out'], true);
  const wait = childrenOf(spans, stalled).find((s) => s.name === 'wait');
  assert.equal(wait.status.code, ERROR);
  // The timeout (300 ms) runs from the request's start: the wait ends with it (on a loaded machine
  // the request may be sent late, so the wait itself can be shorter).
  assert.ok(Number(wait.endNs - stalled.startNs) / 1e6 >= 250, 'the wait lasted until the timeout');
}

describe('nettrace run --otlp', () => {
  for (const protocol of ['http/protobuf', 'http/json', 'grpc']) {
    test(`${protocol}: every request a CLIENT span with its phases as children`, async () => {
      const receiver = await startReceiver(protocol);
      try {
        const { trace } = await traced('otlp-cases.mjs', ['--otlp', receiver.url], {
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-team=net%20trace',
        });
        assert.deepEqual(receiver.state.errors, []);
        if (protocol !== 'grpc') {
          assert.equal(receiver.state.contentTypes[0], protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
          assert.equal(receiver.state.headers['x-team'], 'net trace');
        }
        checkCases(receiver.spans, trace);
        assert.equal(trace.stats.undeliveredSpans, undefined);
      } finally {
        await receiver.close();
      }
    });
  }

  test('OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', async () => {
    const receiver = await startReceiver('http/protobuf');
    try {
      await traced('otlp-cases.mjs', [`--otlp=${receiver.url}`], {
        OTEL_SERVICE_NAME: 'checkout',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging,service.name=ignored',
      });
      const resource = receiver.spans[0].resource;
      assert.equal(resource['service.name'], 'checkout');
      assert.equal(resource['deployment.environment.name'], 'staging');
    } finally {
      await receiver.close();
    }
  });

  test('live: a finished request is sent while the program still runs; the rest at the end', async () => {
    const receiver = await startReceiver('http/protobuf');
    try {
      const { app, trace } = await traced('otlp-live.mjs', ['--otlp', receiver.url]);
      const first = clientSpan(receiver.spans, '/live-1');
      const second = clientSpan(receiver.spans, '/live-2');
      assert.ok(
        first.receivedAt < app.endedAt - 1000,
        `the first request's span arrived ${app.endedAt - first.receivedAt} ms before the program ended`,
      );
      assert.ok(second.receivedAt >= first.receivedAt);
      assert.equal(receiver.spans.length, new Set(receiver.spans.map((s) => s.spanId)).size, 'no span sent twice');
      assert.equal(receiver.spans.filter((s) => s.kind === CLIENT).length, trace.httpRequests.length);
      assert.equal(trace.stats.undeliveredSpans, undefined);
    } finally {
      await receiver.close();
    }
  });

  test("a program using the OpenTelemetry SDK: Net Trace's spans join its traces under its own spans", async () => {
    const receiver = await startReceiver('http/protobuf');
    try {
      const { app, trace } = await traced('otlp-sdk.cjs', ['--otlp', receiver.url]);
      const work = app.find((s) => s.name === 'work');
      // http, and fetch, whose traceparent the undici instrumentation adds after undici published
      // the request (recorded when the headers are sent).
      for (const path of ['/sdk-http', '/sdk-fetch']) {
        const own = app.find((s) => s.url?.endsWith(path));
        assert.equal(own.parentSpanId, work.spanId);
        const sent = trace.httpRequests.find((r) => r.reqURL.endsWith(path)).reqHeaders.find(([n]) => n.toLowerCase() === 'traceparent');
        assert.ok(sent, `${path}: the trace records the traceparent the program sent`);
        assert.match(sent[1], new RegExp(`^00-${own.traceId}-${own.spanId}-`));
        const ours = clientSpan(receiver.spans, path);
        assert.equal(ours.traceId, own.traceId, `${path}: the same trace id`);
        assert.equal(ours.parentSpanId, own.spanId, `${path}: the program's span is the parent`);
        for (const child of childrenOf(receiver.spans, ours)) assert.equal(child.traceId, own.traceId);
        assert.ok(childrenOf(receiver.spans, ours).length >= 3);
      }
    } finally {
      await receiver.close();
    }
  });
});

/** A port nothing listens on. */
async function deadPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

describe('a backend that is dead or refuses', () => {
  test('dead: the program and its trace unchanged, every span counted undelivered with one warning', async () => {
    const baseline = await traced('otlp-cases.mjs');
    const port = await deadPort();
    const dead = await traced('otlp-cases.mjs', ['--otlp', `http://127.0.0.1:${port}`], { OTEL_EXPORTER_OTLP_TIMEOUT: '1500' });
    // The program's own time: it never waits for the export (which runs after it ended).
    assert.ok(dead.app.ms < baseline.app.ms + 1000, `program took ${dead.app.ms} ms, ${baseline.app.ms} ms untraced by OTLP`);
    assert.deepEqual({ ...dead.app, ms: 0 }, { ...baseline.app, ms: 0 });
    assert.deepEqual(
      dead.trace.httpRequests.map((r) => [r.reqURL.replace(/:\d+/, ''), r.respStatusCode, r.reqError?.code]),
      baseline.trace.httpRequests.map((r) => [r.reqURL.replace(/:\d+/, ''), r.respStatusCode, r.reqError?.code]),
    );
    // The whole run waited at most the exporter's timeout for the backend.
    assert.ok(dead.wallMs < baseline.wallMs + 1500 + 2500, `run took ${dead.wallMs} ms, ${baseline.wallMs} ms without --otlp`);
    const warnings = dead.trace.stats.warnings.filter((w) => /OpenTelemetry spans were not delivered/.test(w));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(dead.stderr, /OpenTelemetry spans were not delivered/);
    // Every span was lost: exporting the saved trace to a live backend delivers that many.
    const receiver = await startReceiver('http/protobuf');
    try {
      const res = await run(process.execPath, [cli, 'export', '--otlp', receiver.url, dead.out]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(receiver.spans.length, dead.trace.stats.undeliveredSpans);
      checkCases(receiver.spans, dead.trace, { host: false });
    } finally {
      await receiver.close();
    }
  });

  test('slow: a backend that never answers costs the run at most its timeouts; the spans counted undelivered', async () => {
    const receiver = await startReceiver('http/protobuf', { statuses: Array(20).fill('hang') });
    try {
      const t0 = performance.now();
      const { trace, app } = await traced('otlp-cases.mjs', ['--otlp', receiver.url], { OTEL_EXPORTER_OTLP_TIMEOUT: '1000' });
      const wall = performance.now() - t0;
      assert.ok(wall < app.ms + 1000 * 3 + 4000, `run took ${Math.round(wall)} ms, the program ${app.ms} ms`);
      assert.ok(trace.stats.undeliveredSpans >= trace.httpRequests.length * 2, JSON.stringify(trace.stats));
      assert.match(
        trace.stats.warnings.find((w) => /OpenTelemetry spans were not delivered/.test(w)),
        /timed out|did not answer/,
      );
      assert.ok(receiver.state.requests >= 1);
      assert.equal(receiver.spans.length, 0);
    } finally {
      await receiver.close();
    }
  });

  test('503 twice, then 200: retried with backoff, every span delivered', async () => {
    const receiver = await startReceiver('http/protobuf', { statuses: [503, 503] });
    try {
      const { trace } = await traced('otlp-cases.mjs', ['--otlp', receiver.url]);
      // The first two posts were refused; the live export may send the spans in more than one batch
      // (a busy machine spreads the program's requests over more of its flushes), so at least three
      // posts, and every span delivered once (checkCases): each refused batch was retried.
      assert.ok(receiver.state.requests >= 3, `${receiver.state.requests} posts`);
      assert.equal(trace.stats.undeliveredSpans, undefined);
      checkCases(receiver.spans, trace);
    } finally {
      await receiver.close();
    }
  });

  test('a batch refused past its deadline (grpc, retried): the rest delivered, the lost counted, none twice', async () => {
    const { out, trace } = await traced('otlp-cases.mjs');
    // The backend refuses, every time, any batch holding a span of the /plain request (whose trace
    // id is derived from the trace: src/otlp/mapping.ts stableId).
    const plainId = trace.httpRequests.find((r) => r.reqURL.endsWith('/plain?size=5')).traceID;
    const plainTrace = core.stableId(16, trace.traceBeginAt, 'trace', plainId);
    const receiver = await startReceiver('grpc', { refuse: (spans) => spans.some((s) => s.traceId === plainTrace) });
    try {
      const res = await run(process.execPath, [cli, 'export', '--otlp', receiver.url, out], {
        // A deadline long enough for one retry on a busy machine (at 1.5 s, a load of 25 on two cores
        // left no time for the second attempt).
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TIMEOUT: '4000', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '5' },
      });
      assert.equal(res.code, 1, 'exit 1: some spans were not delivered');
      const m = /(\d+) of (\d+) spans sent/.exec(res.stderr);
      assert.ok(m, res.stderr);
      const [delivered, total] = [Number(m[1]), Number(m[2])];
      const lost = Number(/(\d+) spans were not delivered/.exec(res.stderr)[1]);
      assert.ok(delivered > 0 && lost > 0 && lost <= 10, res.stderr);
      assert.equal(delivered + lost, total);
      assert.ok(receiver.state.refused >= 2, `the refused batch was retried (${receiver.state.refused} refusals)`);
      assert.equal(receiver.spans.length, delivered, 'no span delivered twice');
      assert.ok(!receiver.spans.some((s) => s.attributes['nettrace.request.id'] === plainId), 'the refused spans are not there');
      const ids = new Set(trace.httpRequests.map((r) => r.traceID));
      for (const s of receiver.spans.filter((x) => x.kind === CLIENT)) assert.ok(ids.has(s.attributes['nettrace.request.id']));
    } finally {
      await receiver.close();
    }
  });
});

describe('nettrace export', () => {
  test('a saved trace: the same spans every time; --otlp-file writes OTLP/JSON lines (0600)', async () => {
    const { out, trace } = await traced('otlp-cases.mjs');
    const a = await startReceiver('http/json');
    const b = await startReceiver('http/protobuf');
    try {
      for (const [receiver, protocol] of [
        [a, 'http/json'],
        [b, 'http/protobuf'],
      ]) {
        const res = await run(process.execPath, [cli, 'export', `--otlp=${receiver.url}`, out], {
          env: { OTEL_EXPORTER_OTLP_PROTOCOL: protocol },
        });
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stderr, new RegExp(`${trace.httpRequests.length} requests, (\\d+) of \\1 spans sent`));
      }
      checkCases(a.spans, trace, { host: false });
      const key = (s) => `${s.traceId} ${s.spanId} ${s.parentSpanId} ${s.name} ${s.startNs} ${s.endNs}`;
      assert.deepEqual(a.spans.map(key).sort(), b.spans.map(key).sort(), 'deterministic ids and times');
      const file = join(dir, 'spans.jsonl');
      const res = await run(process.execPath, [cli, 'export', '--otlp-file', file, out]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      const fromFile = lines.flatMap((l) => decodeJson(l));
      assert.deepEqual(fromFile.map(key).sort(), a.spans.map(key).sort());
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('bad input: a clear error naming what is wrong', async () => {
    const noDest = await run(process.execPath, [cli, 'export', join(dir, 'x.json')]);
    assert.equal(noDest.code, 2);
    assert.match(noDest.stderr, /say where the spans go/);
    const badProto = await run(process.execPath, [cli, 'export', '--otlp', 'http://127.0.0.1:1', join(dir, 'x.json')], {
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' },
    });
    assert.equal(badProto.code, 2);
    assert.match(badProto.stderr, /OTEL_EXPORTER_OTLP_PROTOCOL: "thrift" is not one of http\/protobuf, http\/json, grpc/);
    const missing = await run(process.execPath, [cli, 'export', '--otlp', 'http://127.0.0.1:1', join(dir, 'missing.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such file/);
  });
});

describe('VS Code: a session with the `otlp` launch attribute', () => {
  const ext = bundleTs([
    "export * from './src/extension/launchConfig';",
    "export * from './src/extension/traceStore';",
    "export { startCollector } from './src/collector/server';",
  ]);

  /** Prepares a session as the debug provider does, runs a program in it, ends it; returns the store's trace. */
  async function session(otlp) {
    const store = new ext.TraceStore({ startCollector: ext.startCollector, idleTimeoutMs: 3000 });
    try {
      const cfg = ext.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', program: 'x.js', otlp }, { headers: 'values', redact: [] });
      assert.equal(cfg.__nettrace.otlp, otlp);
      const { key, ipcPath } = await store.prepare('otlp session', { otlp: cfg.__nettrace.otlp });
      const resolved = ext.injectTracing(cfg, { preloadPath: join(root, 'dist', 'preload.cjs'), ipcPath, sessionId: key });
      const script = `require('node:http').get(${JSON.stringify(servers.urls.http + '/from-editor')}, (res) => res.resume());`;
      await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...resolved.env }, stdio: 'ignore' });
        child.on('error', reject);
        child.on('exit', resolve);
      });
      await store.end(key);
      return store.fullTrace(store.get(key));
    } finally {
      await store.dispose();
    }
  }

  test("its spans are sent when it ends; a dead backend's losses are counted in the session's trace", async () => {
    const receiver = await startReceiver('http/protobuf');
    try {
      const trace = await session(receiver.url);
      const span = clientSpan(receiver.spans, '/from-editor');
      assert.equal(span.attributes['http.response.status_code'], 200);
      assert.ok(childrenOf(receiver.spans, span).length >= 3);
      assert.equal(trace.stats.undeliveredSpans, undefined);
    } finally {
      await receiver.close();
    }
    const old = process.env.OTEL_EXPORTER_OTLP_TIMEOUT;
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '1000';
    try {
      const trace = await session(`http://127.0.0.1:${await deadPort()}`);
      assert.ok(trace.stats.undeliveredSpans >= 4, JSON.stringify(trace.stats));
      assert.equal(trace.stats.warnings.filter((w) => /OpenTelemetry spans were not delivered/.test(w)).length, 1);
    } finally {
      if (old === undefined) delete process.env.OTEL_EXPORTER_OTLP_TIMEOUT;
      else process.env.OTEL_EXPORTER_OTLP_TIMEOUT = old;
    }
  });
});
