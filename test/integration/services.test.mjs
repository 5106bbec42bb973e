// covers: src/trace/derive/incomingLinks.ts
// needs: the build (dist/core.cjs)
// One waterfall across services (issue 37): a gateway that starts two services as child
// processes, all traced; every call between them is linked (linkServed, by the connection's
// 4-tuple) to the incoming request it became, and no header was added (the services' received
// headers are the same traced and untraced). `nettrace show` nests each service's request under
// the call that made it. With --add-traceparent, each service receives the same headers plus one
// valid traceparent of Net Trace's own, and the calls link by it without the 4-tuple.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, nodeBinaries, run, runPlain, runTraced } from './harness.mjs';

const { linkServed } = createRequire(import.meta.url)('../../dist/core.cjs');

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: calls between traced processes link to the requests they became, no header added`, async () => {
    const plain = await runPlain(bin, 'services-parent.cjs');
    assert.equal(plain.code, 0, plain.stderr);
    const { code, trace, stdout, stderr } = await runTraced(bin, 'services-parent.cjs');
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout);
    // What the services received, traced and untraced: the same headers.
    const received = (o) =>
      JSON.parse(o)
        .seen.map((s) => [s.n, s.a.headers, s.a.chained, s.b.headers])
        .sort();
    assert.deepEqual(received(stdout), received(plain.stdout));

    const pids = new Set(trace.incomingRequests.map((i) => i.pid));
    assert.equal(pids.size, 3, 'the gateway and both services served requests');
    const links = linkServed(trace.httpRequests, trace.tcpConns, trace.incomingRequests);
    const incoming = new Map(trace.incomingRequests.map((i) => [i.traceID, i]));
    const calls = trace.httpRequests.filter((r) => /\/(a|b|chained)\?n=/.test(r.reqURL));
    assert.equal(calls.length, 8 * 3, 'each gateway request: a, b, and a → b');
    for (const call of calls) {
      const served = incoming.get(links.get(call.traceID));
      assert.ok(served, `${call.reqURL} is linked`);
      assert.equal(
        new URL(served.reqURL).pathname + new URL(served.reqURL).search,
        new URL(call.reqURL).pathname + new URL(call.reqURL).search,
      );
      assert.notEqual(served.pid, call.pid, 'served by another process');
      assert.equal(served.respStatusCode, call.respStatusCode);
      // The call that a → b made was caused by a's incoming request, itself the gateway's call.
      if (call.reqURL.includes('/chained')) {
        const cause = incoming.get(call.causedBy);
        assert.match(cause.reqURL, /\/a\?n=/);
        assert.equal(new URL(cause.reqURL).searchParams.get('n'), new URL(call.reqURL).searchParams.get('n'));
      } else {
        assert.match(incoming.get(call.causedBy).reqURL, new RegExp(`:${out.ports.gateway}/\\d$`));
      }
    }
    // The gateway's clients' requests are served by the gateway itself: linked within one process.
    const clientCalls = trace.httpRequests.filter((r) => r.reqURL.includes(`:${out.ports.gateway}/`));
    for (const c of clientCalls) assert.equal(incoming.get(links.get(c.traceID))?.pid, c.pid);

    // nettrace show: a's request under the gateway's call, b's under a's call.
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-services-'));
    try {
      const file = join(dir, 't.json');
      writeFileSync(file, JSON.stringify(trace));
      const shown = await run(process.execPath, [cli, 'show', file], { env: { COLUMNS: '200' } });
      assert.equal(shown.code, 0, shown.stderr);
      const lines = shown.stdout.split('\n');
      const i = lines.findIndex((l) => /^ {6}#\d+ GET http:\/\/127\.0\.0\.1:\d+\/a\?n=3 /.test(l));
      assert.ok(i > 0, shown.stdout.slice(-3000));
      assert.match(lines[i + 1], /^ {6}↳ served by pid \d+: in-\d+ GET http:\/\/127\.0\.0\.1:\d+\/a\?n=3 {2}200/);
      assert.match(lines[i + 2], /^ {10}#\d+ GET http:\/\/127\.0\.0\.1:\d+\/chained\?n=3 /);
      assert.match(lines[i + 3], /^ {10}↳ served by pid \d+: in-\d+ GET http:\/\/127\.0\.0\.1:\d+\/chained\?n=3 {2}200/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: --add-traceparent: each service receives its headers plus one valid traceparent, and the calls link by it alone`, async () => {
    const plain = await runPlain(bin, 'services-parent.cjs');
    assert.equal(plain.code, 0, plain.stderr);
    const { code, trace, stdout, stderr } = await runTraced(bin, 'services-parent.cjs', { cliArgs: ['--add-traceparent'] });
    assert.equal(code, 0, stderr);
    const VALID = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;
    // [n, headers without the traceparent, the traceparent] of what a, a's call to b, and b received.
    const split = (headers) => {
      const at = headers.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'traceparent');
      return at < 0 ? [headers, undefined] : [headers.filter((_, i) => i !== at && i !== at + 1), headers[at + 1]];
    };
    const seenPlain = new Map(JSON.parse(plain.stdout).seen.map((s) => [s.n, s]));
    for (const s of JSON.parse(stdout).seen) {
      const p = seenPlain.get(s.n);
      for (const [got, untraced] of [
        [s.a.headers, p.a.headers],
        [s.a.chained, p.a.chained],
        [s.b.headers, p.b.headers],
      ]) {
        const [rest, tp] = split(got);
        assert.deepEqual(rest, untraced, 'the same headers otherwise, in the same order');
        assert.match(tp, VALID);
        assert.equal(split(untraced)[1], undefined, 'untraced: none');
      }
      // a's call to b continues the trace a's request belongs to.
      assert.equal(split(s.a.chained)[1].slice(3, 35), split(s.a.headers)[1].slice(3, 35));
    }
    // Linked without the connections' 4-tuples: by the traceparent alone.
    const links = linkServed(trace.httpRequests, [], trace.incomingRequests);
    const incoming = new Map(trace.incomingRequests.map((i) => [i.traceID, i]));
    const calls = trace.httpRequests.filter((r) => /\/(a|b|chained)\?n=/.test(r.reqURL));
    assert.equal(calls.length, 8 * 3);
    for (const call of calls) {
      const served = incoming.get(links.get(call.traceID));
      assert.ok(served, `${call.reqURL} is linked`);
      assert.equal(new URL(served.reqURL).search, new URL(call.reqURL).search);
      assert.equal(new URL(served.reqURL).pathname, new URL(call.reqURL).pathname);
      assert.notEqual(served.pid, call.pid);
      assert.match(served.traceparent, VALID);
    }
  });
}
