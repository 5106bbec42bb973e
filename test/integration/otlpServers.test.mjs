// covers: src/otlp/serverSpans.ts, src/otlp/mapping.ts
// OpenTelemetry export of servers (issue 38 with issue 37's record): each incoming request a
// SERVER span, the calls made while handling it its CLIENT children, and a call another traced
// process served the parent of that process's SERVER span: a gateway and two services it starts,
// all traced by one `nettrace run --otlp`, are one trace per gateway request. The saved trace
// exported again (`nettrace export`, streaming) gives the same spans.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReceiver } from './otlpReceiver.mjs';
import { apps, cli, run } from './harness.mjs';

const SERVER = 2; // OTLP span kinds: 1 INTERNAL, 2 SERVER, 3 CLIENT
const CLIENT = 3;
const ERROR = 2;

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nettrace-otlp-servers-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const key = (s) => `${s.traceId} ${s.spanId} ${s.parentSpanId} ${s.kind} ${s.name} ${s.startNs} ${s.endNs}`;

test('a gateway and two services: SERVER spans, their calls as children, each call the parent of the request it became', async () => {
  const receiver = await startReceiver('http/protobuf');
  const out = join(dir, 'services.json');
  try {
    const res = await run(process.execPath, [
      cli,
      'run',
      '--quiet',
      '--out',
      out,
      '--otlp',
      receiver.url,
      '--',
      process.execPath,
      join(apps, 'services-parent.cjs'),
    ]);
    assert.equal(res.code, 0, res.stderr);
    const trace = JSON.parse(readFileSync(out, 'utf8'));
    const ports = JSON.parse(res.stdout).ports;
    const spans = receiver.spans;
    assert.deepEqual(receiver.state.errors, []);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const servers = spans.filter((s) => s.kind === SERVER);
    assert.equal(servers.length, trace.incomingRequests.length, 'one SERVER span per incoming request');

    // The gateway's eight requests: each a trace holding its SERVER span, a's and b's, and the calls.
    const gatewayServers = servers.filter((s) => s.attributes['server.port'] === ports.gateway);
    assert.equal(gatewayServers.length, 8);
    for (const gs of gatewayServers) {
      assert.equal(gs.attributes['http.request.method'], 'GET');
      assert.equal(gs.attributes['http.response.status_code'], 200);
      assert.match(gs.attributes['url.path'], /^\/\d$/);
      assert.equal(gs.attributes['client.address'], '127.0.0.1');
      assert.equal(typeof gs.attributes['client.port'], 'number');
      assert.equal(gs.attributes['nettrace.server'], 'http');
      // Its parent: the CLIENT span of the parent process's own request to it (same process, linked by 4-tuple).
      const caller = byId.get(gs.parentSpanId);
      assert.ok(caller, 'the request that reached the gateway is its parent');
      assert.equal(caller.kind, CLIENT);
      assert.ok(caller.attributes['url.full'].endsWith(gs.attributes['url.path']));
      const inTrace = spans.filter((s) => s.traceId === gs.traceId);
      const calls = inTrace.filter((s) => s.kind === CLIENT && s.parentSpanId === gs.spanId);
      assert.deepEqual(
        calls.map((c) => new URL(c.attributes['url.full']).pathname).sort(),
        ['/a', '/b'],
        'the gateway calls a and b under its span',
      );
      const n = gs.attributes['url.path'].slice(1);
      for (const call of calls) {
        assert.equal(new URL(call.attributes['url.full']).searchParams.get('n'), n);
        const served = inTrace.filter((s) => s.kind === SERVER && s.parentSpanId === call.spanId);
        assert.equal(served.length, 1, `${call.attributes['url.full']}: the service's SERVER span is its child`);
        assert.notEqual(served[0].resource['process.pid'], gs.resource['process.pid'], 'served by another process');
        if (call.attributes['url.full'].includes('/a?')) {
          // a calls b while serving: that call under a's SERVER span, b's SERVER span under it.
          const chained = inTrace.find((s) => s.kind === CLIENT && s.parentSpanId === served[0].spanId);
          assert.ok(chained, "a's call to b is under a's SERVER span");
          assert.match(chained.attributes['url.full'], /\/chained\?n=/);
          assert.equal(inTrace.filter((s) => s.kind === SERVER && s.parentSpanId === chained.spanId).length, 1);
        }
      }
      // Every span of this request's trace has its parent in the trace, but the root: the parent's request.
      for (const s of inTrace) if (s !== caller && s.parentSpanId) assert.ok(byId.has(s.parentSpanId), `${s.name}: its parent was sent`);
      assert.equal(gs.status.code === ERROR, false);
    }

    // The saved trace exported again, streaming: the same spans, ids and parents.
    const again = await startReceiver('http/protobuf');
    try {
      const exp = await run(process.execPath, [cli, 'export', `--otlp=${again.url}`, out]);
      assert.equal(exp.code, 0, exp.stderr);
      const live = spans
        .filter((s) => s.kind === SERVER || s.kind === CLIENT)
        .map(key)
        .sort();
      const saved = again.spans
        .filter((s) => s.kind === SERVER || s.kind === CLIENT)
        .map(key)
        .sort();
      assert.deepEqual(saved, live);
    } finally {
      await again.close();
    }
  } finally {
    await receiver.close();
  }
});
