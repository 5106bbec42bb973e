/**
 * `nettrace diff A.json B.json [--json] [--all]`: what changed between two saved traces, route by
 * route (src/trace/derive/compare.ts). Each file is streamed into its summary by route
 * (src/cli/summary.ts), then the groups are compared: the origins paired across ports by their
 * routes, the notable changes as sentences, the routes new in B or gone from it, and a table of
 * every route in both with the change of its count, error rate, reuse and total (with `--all`:
 * of every phase too).
 */

import { compareRoutes, type MeasureChange, type RouteChange, type TraceDiff } from '../trace/derive/compare';
import { MAX_ROUTES, MEASURE_WORDS, OTHER_ROUTES } from '../trace/derive/summary';
import { formatMs } from '../trace/diagnosis/sentence';
import { summarizeTraceFile } from './summary';
import { fit, paint, sanitize } from './text';

/** Options of diffTraceFiles(). */
export interface DiffFileOptions {
  slowThresholdMs?: number;
  minMs?: number;
}

/** Both files' summaries compared (see the module's comment); throws TraceFileError. */
export async function diffTraceFiles(
  a: string,
  b: string,
  options: DiffFileOptions = {},
): Promise<TraceDiff & { requestsA: number; requestsB: number }> {
  // Only the first file's route samples are kept while the second is read (not its records or builder).
  const first = async () => {
    const fa = await summarizeTraceFile(a, options);
    return { samples: fa.builder.routeSamples(), requests: fa.totals.requests };
  };
  const { samples: samplesA, requests: requestsA } = await first();
  const fb = await summarizeTraceFile(b, options);
  const diff = compareRoutes(samplesA, fb.builder.routeSamples(), options.minMs !== undefined ? { minMs: options.minMs } : {});
  return { ...diff, requestsA, requestsB: fb.totals.requests };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const signed = (ms: number) => `${ms >= 0 ? '+' : '−'}${formatMs(Math.abs(ms))}`;

/** "+150 / +160 / +170" (Δ p50 / p95 / p99) and the verdict's mark: `!` notable, `?` too few to tell. */
function deltaText(m: MeasureChange | undefined): string {
  if (!m) return '-';
  const mark = m.verdict === 'notable' ? ' !' : m.verdict === 'too few' ? ' ?' : '';
  return `${signed(m.delta.p50)} / ${signed(m.delta.p95)} / ${signed(m.delta.p99)}${mark}`;
}

function routeRow(c: RouteChange, routeW: number): string {
  const err = `${pct(c.errorRate.a)}→${pct(c.errorRate.b)}${c.errorRate.verdict === 'notable' ? ' !' : ''}`;
  // A side with no request that had a connection (a replay's: docs/replay.md) has no rate: `-`.
  const rate = (v: number, n: number): string => (n > 0 ? pct(v) : '-');
  const reuse = c.reuse ? `${rate(c.reuse.a, c.reuse.nA)}→${rate(c.reuse.b, c.reuse.nB)}${c.reuse.verdict === 'notable' ? ' !' : ''}` : '-';
  const total = c.tooFew ? 'too few to tell' : deltaText(c.measures.find((m) => m.measure === 'total'));
  return `${fit(sanitize(c.label) + (c.inferred ? ' *' : ''), routeW)} ${fit(`${c.countA}→${c.countB}`, 13)} ${fit(err, 11)} ${fit(reuse, 11)} ${total}`;
}

/** The comparison as text for a terminal. */
export function renderDiff(
  diff: TraceDiff & { requestsA: number; requestsB: number },
  names: [string, string],
  options: { width?: number; color?: boolean; all?: boolean } = {},
): string {
  const width = Math.max(60, options.width ?? 120);
  const color = options.color ?? false;
  const lines = [
    `Comparing ${sanitize(names[0])} (${diff.requestsA} requests) with ${sanitize(names[1])} (${diff.requestsB} requests)`,
    '',
  ];
  if (diff.paired.length) {
    lines.push(paint('Paired by their routes (the same host on another port)', 1, color));
    for (const p of diff.paired)
      lines.push(
        `  ${sanitize(p.a)} ↔ ${sanitize(p.b)}, paired by their routes (${p.common} in both; ${p.routesA} in ${sanitize(names[0])}, ${p.routesB} in ${sanitize(names[1])})`,
      );
    lines.push('');
  }
  const notable = diff.routes.filter((r) => r.sentence);
  lines.push(paint(notable.length ? 'What changed' : 'No notable change: every route in both is within the noise', 1, color));
  for (const r of notable) lines.push(`  ${sanitize(r.sentence)}`);
  const tooFew = diff.routes.filter((r) => r.tooFew);
  if (tooFew.length)
    lines.push(`  ${tooFew.length} route${tooFew.length === 1 ? '' : 's'} with fewer than 8 requests in one trace: too few to tell`);
  if (diff.added.length) {
    lines.push('', paint(`New in ${sanitize(names[1])}`, 1, color));
    for (const r of diff.added) lines.push(`  ${sanitize(r.label)} (${r.count})`);
  }
  if (diff.gone.length) {
    lines.push('', paint(`Gone from ${sanitize(names[1])}`, 1, color));
    for (const r of diff.gone) lines.push(`  ${sanitize(r.label)} (${r.count})`);
  }
  if (diff.otherRoutes) {
    const { a, b } = diff.otherRoutes;
    lines.push(
      '',
      `${OTHER_ROUTES}: ${a} request${a === 1 ? '' : 's'} in ${sanitize(names[0])} and ${b} in ${sanitize(names[1])} on routes after the first ${MAX_ROUTES.toLocaleString('en')} of each, counted together, not compared`,
    );
  }
  if (diff.routes.length) {
    const routeW = Math.max(24, width - 80);
    lines.push(
      '',
      paint(`${fit('ROUTE', routeW)} ${fit('COUNT', 13)} ${fit('FAILED', 11)} ${fit('REUSED', 11)} TOTAL Δ ms p50 / p95 / p99`, 1, color),
    );
    for (const r of diff.routes) {
      lines.push(routeRow(r, routeW));
      const phases = r.measures.filter((m) => m.measure !== 'total' && (options.all || m.verdict === 'notable'));
      for (const m of phases)
        lines.push(`    ${fit(MEASURE_WORDS[m.measure], 14)} ${formatMs(m.a.p50)} → ${formatMs(m.b.p50)} ms p50, Δ ${deltaText(m)}`);
    }
    lines.push(
      '',
      '! notable: significant on the two samples (Mann–Whitney U, Fisher; p < 0.01) and large enough to matter · ? too few to tell',
    );
  }
  return lines.join('\n') + '\n';
}
