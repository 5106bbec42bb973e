// covers: src/preload/dns/programLookup.ts
// needs: the build (dist/core.cjs)
// Issue 49 item 5: a program's own caching `lookup` function (as npm's agents have) is recorded as
// the program's lookup, not as DNS. Five requests on five connections to a host name, through an
// http Agent's `lookup`, a request's `lookup` option and undici's `connect.lookup`: Node's resolver
// was asked once (the cache's miss), and the trace has exactly that one DNS lookup; the others
// are the program's function answering from its cache, with no DNS time in the timings or the HAR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { apps, nodeBinaries, root, runTraced } from './harness.mjs';

const { toHar } = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const app = join(apps, 'program-lookup.cjs');

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a program's own caching lookup: one DNS lookup, the cache hits recorded as the program's`, async () => {
    const { code, trace, stdout, stderr } = await runTraced(bin, 'program-lookup.cjs');
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout);
    assert.deepEqual(
      out,
      { statuses: [200, 200, 200, 200, 200, 200], blocked: 'ENOTFOUND', lookups: 7, resolverCalls: 2 },
      'the program asked its resolver twice: the cache once, the deferred function once (test setup)',
    );
    // The function that refused a name: the program's lookup failed, no DNS lookup happened.
    const blocked = trace.httpRequests.find((r) => r.reqURL.includes('/blocked/'));
    const blockedDial = trace.dials.find((d) => d.traceID === blocked.dial);
    assert.deepEqual(blockedDial.dnsLookups, []);
    assert.equal(blockedDial.programLookup.function, 'blockedLookup');
    assert.equal(blockedDial.programLookup.error, 'ENOTFOUND');
    assert.equal(blocked.reqError.phase, 'dns');
    assert.equal(blocked.timings.dns, -1);
    assert.match(
      blocked.diagnosis,
      /^the program's own lookup function blockedLookup failed to look up blocked\.test: name not found \(ENOTFOUND\) after [\d.]+ ms$/,
    );
    const all = trace.httpRequests.filter((r) => r.reqURL.startsWith('http://localhost:'));
    assert.equal(all.length, 6);
    const dialOf = (r) => trace.dials.find((d) => d.traceID === r.dial);
    assert.ok(all.every(dialOf), 'each request has its own dial');
    assert.equal(new Set(all.map(dialOf)).size, 6);
    // Exactly the resolver's two lookups: the cache's miss, and the deferred function's, each on its dial.
    assert.equal(all.flatMap((r) => dialOf(r).dnsLookups).length, out.resolverCalls);
    const deferred = dialOf(all.find((r) => r.reqURL.includes('/deferred/')));
    assert.equal(deferred.programLookup.function, 'deferredLookup');
    assert.equal(deferred.dnsLookups.length, 1, `the deferred function's lookup is its dial's: ${JSON.stringify(deferred)}`);
    assert.ok(deferred.dnsLookups[0].beginAt >= deferred.programLookup.beginAt);
    assert.ok(deferred.dnsLookups[0].endAt <= deferred.programLookup.endAt);
    const reqs = all.filter((r) => !r.reqURL.includes('/deferred/'));
    const dials = reqs.map(dialOf);
    const [first, ...hits] = dials;
    assert.equal(first.dnsLookups.length, 1);
    const miss = first.dnsLookups[0];
    assert.equal(miss.host, 'localhost');
    assert.ok(miss.addresses.length > 0 && miss.error === null, JSON.stringify(miss));
    assert.ok(miss.beginAt >= first.programLookup.beginAt && miss.endAt <= first.programLookup.endAt, 'the miss is inside the function');
    for (const [i, d] of dials.entries()) {
      const own = d.programLookup;
      const where = `${reqs[i].reqURL}: ${JSON.stringify(d)}`;
      assert.ok(own, `no programLookup: ${where}`);
      assert.equal(own.function, 'cachedLookup', where);
      assert.equal(own.module, app, where);
      assert.equal(own.host, 'localhost', where);
      assert.equal(own.error, null, where);
      assert.ok(own.addresses.includes(d.connectAttempts.at(-1).address), `it returned the address connected to: ${where}`);
      assert.ok(own.endAt >= own.beginAt && own.endAt <= d.connectAttempts.at(-1).beginAt, where);
    }
    for (const d of hits) assert.deepEqual(d.dnsLookups, [], 'a cache hit is no DNS lookup');
    // Timings, HAR and diagnosis: no DNS time for a cache hit (HAR 1.2: -1, the timing does not apply).
    assert.ok(reqs[0].timings.dns >= 0);
    const har = toHar(trace);
    for (const [i, r] of reqs.entries()) {
      if (i > 0) assert.equal(r.timings.dns, -1, `${r.reqURL}: timings ${JSON.stringify(r.timings)}`);
      const entry = har.log.entries.find((e) => e.request.url === r.reqURL);
      assert.equal(entry.timings.dns, i === 0 ? r.timings.dns : -1, `${r.reqURL}: HAR timings ${JSON.stringify(entry.timings)}`);
      assert.doesNotMatch(r.diagnosis ?? '', /DNS/, r.diagnosis);
    }
  });
}
