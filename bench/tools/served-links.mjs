// What linking a service's calls to the requests another traced process served costs
// (src/trace/derive/incomingLinks.ts linkServed: `nettrace run`'s table, the panel's grouping,
// the OpenTelemetry export): BENCH_CALLS (20,000) calls in sequence on one kept-alive connection,
// each served in its flight, the server's records listed newest first; the time of one call of
// linkServed, median of BENCH_ROUNDS (3), and whether every call got its own served request.
// `node bench/tools/served-links.mjs [dist dir …]` (default: this build's dist/). Prints only.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { root } from '../lib/common.mjs';
import { keptAliveCalls, rightLinks } from '../../test/lib/servedCalls.mjs';

const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const { requests, tcpConns, incoming } = keptAliveCalls(CALLS);
const dists = process.argv.length > 2 ? process.argv.slice(2) : [resolve(root, 'dist')];
for (const dist of dists) {
  const { linkServed } = createRequire(import.meta.url)(resolve(dist, 'core.cjs'));
  const times = [];
  let right = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    const links = linkServed(requests, tcpConns, incoming);
    times.push(performance.now() - t0);
    right = rightLinks(links);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${dist}: ${CALLS.toLocaleString('en-US')} calls, ${right.toLocaleString('en-US')} linked to their own; ${times[times.length >> 1].toFixed(0)} ms (median of ${ROUNDS})`,
  );
}
