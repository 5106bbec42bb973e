// Issue 65, decision 1: what each field of a request costs the trace file, in bytes and in the
// writer's CPU, to decide field by field what the file holds. Each recorded stream
// (test/fixtures/streams: BENCH_STREAMS, default mixed,gateway) is replayed into a Session of
// dist/ (test/lib/replayStream.mjs) and snapshotted (every derived field worked out); its requests,
// repeated to BENCH_N (9,000) elements, are stringified in the writer's batches of 32 as a whole
// and without one field at a time (without all derived fields last), compact (format version 2)
// and indented (version 1). Prints per request: the bytes each field adds to the compact text and
// the CPU µs its stringify and UTF-8 encoding add (median of BENCH_ROUNDS, default 7, alternating
// with and without), and the whole text's cost. CPU time: the load moves the figures; the bytes
// are exact. Prints only.
//   node bench/tools/trace-fields.mjs
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readStream, replay } from '../../test/lib/replayStream.mjs';
import { root } from '../lib/common.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const N = Number(process.env.BENCH_N ?? 9000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const STREAMS = (process.env.BENCH_STREAMS ?? 'mixed,gateway').split(',');
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const buf = Buffer.allocUnsafe(1 << 22);

/** CPU µs and bytes of the requests' text in the writer's batches, each request through `shape`. */
function cost(reqs, shape, indent) {
  const rows = reqs.map(shape);
  const t = cpu();
  let bytes = 0;
  for (let i = 0; i < rows.length; i += 32) bytes += buf.write(JSON.stringify(rows.slice(i, i + 32), null, indent), 0);
  return { us: cpu() - t, bytes };
}

/**
 * A request without `fields`: a copy made field by field, the whole one too (`fields` empty), so
 * that the two texts compared come from objects made alike (a spread copy or the snapshot's own
 * objects stringify at another speed).
 */
const without = (fields) => (r) => {
  const o = {};
  for (const k in r) if (!fields.includes(k)) o[k] = r[k];
  return o;
};

for (const name of STREAMS) {
  const { trace } = await replay(core, readStream(join(root, 'test', 'fixtures', 'streams', `${name}.json.gz`)));
  const one = trace.httpRequests;
  const reqs = Array.from({ length: N }, (_, i) => one[i % one.length]);
  const derived = [...core.DERIVED_REQUEST_FIELDS];
  // The fields of the stream's requests, those that carry bytes first.
  const fields = [...new Set(one.flatMap((r) => Object.keys(r)))];
  const cases = [
    ['(all fields, compact)', [], undefined],
    ['(all fields, indented: version 1)', [], 1],
    ...fields.map((f) => [f, [f], undefined]),
    ['all derived fields', derived, undefined],
    ['all derived fields, indented', derived, 1],
  ];
  const base = { compact: cost(reqs, without([]), undefined), indented: cost(reqs, without([]), 1) };
  const results = new Map(cases.map(([label]) => [label, { us: [], bytes: 0 }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, drop, indent] of round % 2 ? [...cases].reverse() : cases) {
      // Each case against the whole text measured right beside it (the load drifts).
      const whole = cost(reqs, without([]), indent);
      const part = cost(reqs, without(drop), indent);
      const r = results.get(label);
      r.us.push(drop.length ? (whole.us - part.us) / N : whole.us / N);
      r.bytes = drop.length ? (whole.bytes - part.bytes) / N : whole.bytes / N;
    }
  }
  console.log(
    `\n${name}: ${one.length} requests repeated to ${N.toLocaleString('en-US')}; compact ${(base.compact.bytes / N).toFixed(0)} B per request, indented ${(base.indented.bytes / N).toFixed(0)} B`,
  );
  console.log('| field | in requests | bytes per request | CPU µs per request | derived |');
  console.log('|---|---:|---:|---:|---|');
  const rows = cases.map(([label, drop]) => {
    const r = results.get(label);
    const share = drop.length === 1 ? one.filter((q) => q[drop[0]] !== undefined).length / one.length : 1;
    return { label, share, bytes: r.bytes, us: median(r.us), derived: drop.length === 1 && derived.includes(drop[0]) };
  });
  const [head, rest] = [rows.slice(0, 2), rows.slice(2)];
  for (const r of [...head, ...rest.sort((a, b) => b.bytes - a.bytes)])
    console.log(`| ${r.label} | ${(r.share * 100).toFixed(0)}% | ${r.bytes.toFixed(1)} | ${r.us.toFixed(2)} | ${r.derived ? 'yes' : ''} |`);
}
