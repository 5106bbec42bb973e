// covers: src/otlp/sink.ts, src/otlp/exportTrace.ts, src/otlp/config.ts
// OTLP backends that trickle, and endpoints with credentials (issue 48, items 2 and 3). A backend
// that answers 200 and then sends one byte every 500 ms (HTTP/1.1 for http/protobuf and
// http/json; an HTTP/2 server sending gRPC headers and then single bytes for grpc): `nettrace run
// --otlp`, `nettrace export` and the extension's export (sendTrace) end within the exporter's
// deadline (OTEL_EXPORTER_OTLP_TIMEOUT), say what happened, write the trace, and leave no
// connection open. An endpoint's user, password and secret query parameters are nowhere in the
// trace, stdout or stderr.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, run } from './harness.mjs';
import { bundleTs } from '../lib/bundleTs.mjs';

const TIMEOUT_MS = 1000;

let dir;
let target;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nettrace-otlp-deadline-'));
  target = http.createServer((req, res) => res.end('ok'));
  await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  target.closeAllConnections();
  await new Promise((resolve) => target.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A backend that takes an export, answers 200 at once and then sends one byte every 500 ms for as
 * long as the client stays. `open` counts its connections not closed yet.
 */
async function startTrickle(protocol) {
  const state = { requests: 0, open: 0, timers: new Set() };
  const drip = (write, done) => {
    const t = setInterval(() => write(), 500);
    state.timers.add(t);
    done(() => {
      clearInterval(t);
      state.timers.delete(t);
    });
  };
  let server;
  if (protocol === 'grpc') {
    server = http2.createServer();
    server.on('stream', (stream) => {
      state.requests++;
      stream.on('error', () => {});
      stream.on('data', () => {});
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      // A gRPC message's 5-byte prefix and body, one byte at a time: never a whole message.
      drip(
        () => stream.destroyed || stream.write(Buffer.from([0])),
        (stop) => stream.on('close', stop),
      );
    });
  } else {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        state.requests++;
        res.writeHead(200, { 'content-type': protocol === 'http/json' ? 'application/json' : 'application/x-protobuf' });
        drip(
          () => res.write(' '),
          (stop) => res.on('close', stop),
        );
      });
    });
  }
  server.on('connection', (socket) => {
    state.open++;
    socket.on('close', () => state.open--);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    close: async () => {
      for (const t of state.timers) clearInterval(t);
      if (protocol !== 'grpc') server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Waits up to `ms` for the backend's connections to close; returns how many are open. */
async function openAfter(state, ms) {
  const end = Date.now() + ms;
  while (state.open > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return state.open;
}

let runs = 0;
/** `nettrace run` of one GET to the test's server, with `cliArgs`; the result, the wall time, the trace's text. */
async function tracedGet(cliArgs, env = {}) {
  const out = join(dir, `trace-${++runs}.json`);
  const t0 = performance.now();
  const res = await run(
    process.execPath,
    [cli, 'run', '--quiet', '--helper', 'off', '--out', out, ...cliArgs, '--', process.execPath, join(apps, 'one-get.cjs')],
    { env: { NT_URL: `http://127.0.0.1:${target.address().port}/get`, ...env }, timeoutMs: 60000 },
  );
  const wallMs = performance.now() - t0;
  return { ...res, out, wallMs, text: existsSync(out) ? readFileSync(out, 'utf8') : undefined };
}

/** What the backend did, as the warning must say it. */
const WHAT = {
  'http/protobuf': /the backend answered 200 but did not finish its answer within 1000 ms/,
  'http/json': /the backend answered 200 but did not finish its answer within 1000 ms/,
  grpc: /did not answer within 1000 ms|Deadline exceeded/i,
};

describe('a backend that trickles', () => {
  let baselineMs;
  before(async () => {
    const base = await tracedGet([]);
    assert.equal(base.code, 0, base.stderr);
    baselineMs = base.wallMs;
  });

  for (const protocol of ['http/protobuf', 'http/json', 'grpc']) {
    test(`${protocol}: nettrace run --otlp and nettrace export end within the deadline, say why, write the trace`, async () => {
      const backend = await startTrickle(protocol);
      const env = { OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_EXPORTER_OTLP_TIMEOUT: String(TIMEOUT_MS) };
      try {
        const res = await tracedGet(['--otlp', backend.url], env);
        assert.equal(res.signal, null, `nettrace run was killed after ${Math.round(res.wallMs)} ms: it did not exit`);
        assert.equal(res.code, 0, res.stderr);
        assert.ok(backend.state.requests >= 1, 'the backend got the export');
        // The program's exit waited at most the export's deadline (and the live export's, a few
        // timeouts at most: src/otlp/sink.ts), not the backend (which would hold it for ever);
        // the slack is for a loaded machine.
        assert.ok(
          res.wallMs < baselineMs + TIMEOUT_MS * 4 + 8000,
          `run took ${Math.round(res.wallMs)} ms, ${Math.round(baselineMs)} without --otlp`,
        );
        const trace = JSON.parse(res.text);
        assert.equal(trace.httpRequests.length, 1, 'the trace is written whole');
        const warning = trace.stats.warnings.find((w) => /OpenTelemetry spans were not delivered/.test(w));
        assert.ok(warning, JSON.stringify(trace.stats.warnings));
        assert.match(warning, WHAT[protocol]);
        assert.ok(trace.stats.undeliveredSpans > 0);
        assert.match(res.stderr, /OpenTelemetry spans were not delivered/);
        assert.equal(await openAfter(backend.state, 2000), 0, 'no connection to the backend is left open');

        // The saved trace, one span per export: every export ends at its deadline, and after three
        // the backend is given up.
        const before = backend.state.requests;
        const t0 = performance.now();
        const exp = await run(process.execPath, [cli, 'export', '--otlp', backend.url, res.out], {
          env: { ...env, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1' },
          timeoutMs: 60000,
        });
        const expMs = performance.now() - t0;
        assert.equal(exp.signal, null, `nettrace export was killed after ${Math.round(expMs)} ms: it did not exit`);
        assert.equal(exp.code, 1, exp.stderr);
        assert.ok(expMs < TIMEOUT_MS * 5 + 8000, `export took ${Math.round(expMs)} ms`);
        assert.match(exp.stderr, /spans were not delivered: spans could not be sent to/);
        assert.match(exp.stderr, WHAT[protocol]);
        assert.ok(backend.state.requests > before);
        assert.equal(await openAfter(backend.state, 2000), 0, 'no connection to the backend is left open');
      } finally {
        await backend.close();
      }
    });
  }

  test("the extension's export (sendTrace): returns within the deadline and closes its connection", async () => {
    const { sendTrace, resolveOtlpConfig } = bundleTs([
      "export { sendTrace } from './src/otlp/exportTrace';",
      "export { resolveOtlpConfig } from './src/otlp/config';",
    ]);
    const saved = await tracedGet([]);
    const trace = JSON.parse(saved.text);
    const backend = await startTrickle('http/protobuf');
    try {
      const config = resolveOtlpConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: String(TIMEOUT_MS) }, backend.url);
      const t0 = performance.now();
      const result = await sendTrace(trace, config);
      assert.ok(performance.now() - t0 < TIMEOUT_MS * 2 + 5000);
      assert.equal(result.undelivered, result.spans);
      assert.match(result.warning, WHAT['http/protobuf']);
      assert.equal(await openAfter(backend.state, 2000), 0, 'the extension host keeps no connection to the backend');
    } finally {
      await backend.close();
    }
  });
});

describe("an endpoint's credentials", () => {
  /** A backend that refuses every export (400: not retried), so that the endpoint is named in a warning. */
  async function refusing() {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(400).end());
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: server.address().port, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  const SECRETS = /PASSWORD_Zq7|APIKEY_Zq7|user_Zq7/;

  test('OTEL_EXPORTER_OTLP_ENDPOINT with user:password and --otlp with ?api-key=: redacted in the trace, stdout and stderr', async () => {
    const backend = await refusing();
    try {
      const cases = [
        { args: ['--otlp'], env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://user_Zq7:PASSWORD_Zq7@127.0.0.1:${backend.port}` } },
        { args: ['--otlp', `http://127.0.0.1:${backend.port}/?api-key=APIKEY_Zq7`], env: {} },
        { args: ['--otlp', `http://user_Zq7:PASSWORD_Zq7@127.0.0.1:${backend.port}/v1/traces?api-key=APIKEY_Zq7`], env: {} },
      ];
      for (const c of cases) {
        const res = await tracedGet(c.args, { OTEL_EXPORTER_OTLP_TIMEOUT: String(TIMEOUT_MS), ...c.env });
        assert.equal(res.code, 0, res.stderr);
        const trace = JSON.parse(res.text);
        const warning = trace.stats.warnings.find((w) => /spans could not be sent to/.test(w));
        assert.ok(warning, `the endpoint is named: ${JSON.stringify(trace.stats.warnings)}`);
        assert.match(warning, new RegExp(`127\\.0\\.0\\.1:${backend.port}`));
        assert.match(warning, /REDACTED|<redacted>/);
        assert.doesNotMatch(res.text, SECRETS, 'the trace file');
        assert.doesNotMatch(res.stderr, SECRETS, 'stderr');
        assert.doesNotMatch(res.stdout, SECRETS, 'stdout');

        const exp = await run(process.execPath, [cli, 'export', ...c.args, res.out], {
          env: { OTEL_EXPORTER_OTLP_TIMEOUT: String(TIMEOUT_MS), ...c.env },
        });
        assert.equal(exp.code, 1, exp.stderr);
        assert.match(exp.stderr, new RegExp(`spans could not be sent to http://[^ ]*127\\.0\\.0\\.1:${backend.port}`));
        assert.doesNotMatch(exp.stderr + exp.stdout, SECRETS, 'nettrace export');
      }
      // A wrong endpoint's error names it redacted too.
      const bad = await run(process.execPath, [
        cli,
        'export',
        '--otlp=ftp://user_Zq7:PASSWORD_Zq7@127.0.0.1/?api-key=APIKEY_Zq7',
        join(dir, 'x.json'),
      ]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /is not an http:\/\/ or https:\/\/ URL/);
      assert.doesNotMatch(bad.stderr, SECRETS);
    } finally {
      await backend.close();
    }
  });
});
