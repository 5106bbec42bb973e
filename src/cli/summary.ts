/**
 * The summary by route in the terminal: `nettrace show --summary` (and `--json`), and what
 * `nettrace show` leads with for a trace of more than SUMMARY_ABOVE requests (the summary, the
 * failures, the slowest; `--all` lists every row). A file is read streaming: the records other
 * than requests first, then the requests one at a time into a SummaryBuilder
 * (src/trace/summaryStream.ts), keeping only the few failures and slowest it lists.
 */

import { summarizeFile } from '../trace/summaryStream';
import type { TraceHead } from '../trace/formats/readTrace';
import {
  MAX_ROUTES,
  MEASURE_WORDS,
  OTHER_ROUTES,
  SummaryBuilder,
  type Measure,
  type RouteSummary,
  type ServedRouteSummary,
  type TraceSummary,
  type WhatIfShare,
} from '../trace/derive/summary';
import { isFailed, totalTime } from '../trace/derive/timings';
import type { Percentiles } from '../trace/derive/percentiles';
import type { HttpRequest, Trace } from '../trace/contract/types';
import { formatBytes, formatMs } from '../trace/diagnosis/sentence';
import { countRequest, frameFile, initiatorLine, statusLabel, type RequestTotals } from './render';
import { append, fit, paint, sanitize } from './text';

/** Past this many requests `nettrace show` leads with the summary, the failures and the slowest instead of every row. */
export const SUMMARY_ABOVE = 300;

/** Failures and slowest requests listed under the summary. */
export const SUMMARY_LIST = 10;

/** A trace file read into its summary. */
export interface FileSummary {
  /** The trace without its requests (`httpRequests` empty). */
  trace: Trace;
  summary: TraceSummary;
  /** The builder, with every route's samples (for `nettrace diff`). */
  builder: SummaryBuilder;
  totals: RequestTotals;
  /** The first SUMMARY_LIST failed requests, in file order (no headers or bodies). */
  failures: HttpRequest[];
  /** The SUMMARY_LIST slowest requests that did not fail, slowest first. */
  slowest: HttpRequest[];
}

/** A request without what the lists do not show (headers, bodies). */
function slim(r: HttpRequest): HttpRequest {
  const out: HttpRequest = { ...r };
  for (const k of ['reqHeaders', 'respHeaders', 'reqBody', 'respBody'] as const) out[k] = undefined;
  return out;
}

/** Reads a trace file streaming into its summary (summarizeFile, and the lists: see FileSummary); throws TraceFileError. */
export async function summarizeTraceFile(path: string, options: { slowThresholdMs?: number; head?: TraceHead } = {}): Promise<FileSummary> {
  const totals: RequestTotals = { requests: 0, failed: 0, reused: 0 };
  const failures: HttpRequest[] = [];
  const slowest: { r: HttpRequest; ms: number }[] = [];
  const { trace, builder } = await summarizeFile(path, {
    ...options,
    onRequest: (r) => {
      countRequest(totals, r);
      if (isFailed(r)) {
        if (failures.length < SUMMARY_LIST) failures.push(slim(r));
        return;
      }
      const ms = r.timings && r.respDoneAt !== undefined ? totalTime(r.timings) : undefined;
      if (ms === undefined || (slowest.length >= SUMMARY_LIST && ms <= slowest[slowest.length - 1].ms)) return;
      slowest.push({ r: slim(r), ms });
      slowest.sort((a, b) => b.ms - a.ms);
      if (slowest.length > SUMMARY_LIST) slowest.pop();
    },
  });
  return { trace, summary: builder.result(), builder, totals, failures, slowest: slowest.map((s) => s.r) };
}

/** "12 / 40 / 95 / 130": p50 / p95 / p99 / max in ms. */
function quad(p: Percentiles | undefined): string {
  return p ? `${formatMs(p.p50)} / ${formatMs(p.p95)} / ${formatMs(p.p99)} / ${formatMs(p.max)}` : '-';
}

/** A route's label with `*` when inferred from the paths, `†` for the group past MAX_ROUTES. */
function routeText(r: { label: string; inferred: boolean; other?: true }): string {
  return sanitize(r.label) + (r.inferred ? ' *' : '') + (r.other ? ' †' : '');
}

/** Whether some percentile of a route was read from a sample of its requests (Percentiles.sampled). */
function sampled(r: RouteSummary | ServedRouteSummary): boolean {
  return 'times' in r ? Object.values(r.times).some((p) => p?.sampled !== undefined) : r.duration?.sampled !== undefined;
}

/** "wait 150 / 160 / 170 / 171 · connect …": the phases that took time (p95 above 0), and the kernel's split. */
function phaseText(r: RouteSummary): string | undefined {
  const parts: string[] = [];
  for (const m of Object.keys(r.times) as Measure[]) {
    const p = r.times[m];
    if (m === 'total' || !p || p.p95 <= 0) continue;
    parts.push(`${MEASURE_WORDS[m]} ${quad(p)}`);
  }
  return parts.length ? parts.join(' · ') : undefined;
}

function countsText(map: Record<string, number>): string {
  return Object.entries(map)
    .map(([k, n]) => `${sanitize(k)} ${n}`)
    .join(', ');
}

/**
 * A route's requests what-if rules changed, set apart (summary.ts): `what if: 12 changed by rule
 * "slow-pay" (held back its response's first byte 800 ms), set apart: not in the times, failures,
 * statuses or connections above`.
 */
function whatIfLine(w: WhatIfShare): string {
  const rules = w.rules.map(
    (r) => `${w.rules.length > 1 ? `${r.count} ` : ''}by rule ${sanitize(JSON.stringify(r.name))} (${sanitize(r.words)})`,
  );
  return `what if: ${w.count} changed ${rules.join(', ')}, set apart: not in the times, failures, statuses or connections above (the rule's doing, not the server's)`;
}

/** The lines of the outgoing routes' table. */
function routeLines(routes: RouteSummary[], width: number, color: boolean): string[] {
  const routeW = Math.max(24, width - 62);
  const lines = [
    paint(
      `${fit('ROUTE', routeW)} ${'COUNT'.padStart(7)} ${'FAILED'.padStart(7)}  ${fit('TOTAL ms p50 / p95 / p99 / max', 34)} CONN new/reused`,
      1,
      color,
    ),
  ];
  for (const r of routes) {
    const conn = `${r.connections.opened}/${r.connections.reused}`;
    lines.push(
      `${fit(routeText(r), routeW)} ${String(r.count).padStart(7)} ${paint(String(r.failed).padStart(7), r.failed ? 31 : 0, color && r.failed > 0)}  ${fit(quad(r.times.total), 34)} ${conn}`,
    );
    const phases = phaseText(r);
    if (phases) lines.push(`    ${phases} ms`);
    const facts = [`status ${countsText(r.status)}`];
    if (Object.keys(r.errors).length) facts.push(`errors ${countsText(r.errors)}`);
    if (r.resetAfterIdle) facts.push(`${r.resetAfterIdle.count} reset on connections idle ≥ ${formatMs(r.resetAfterIdle.minIdleMs)} ms`);
    if (r.bytes.sent || r.bytes.received) facts.push(`${formatBytes(r.bytes.sent)} sent, ${formatBytes(r.bytes.received)} received`);
    lines.push(`    ${facts.join(' · ')}`);
    if (r.whatIf) lines.push(paint(`    ${whatIfLine(r.whatIf)}`, 35, color));
    if (r.lines.length)
      lines.push(
        paint(`    from ${r.lines.map((l) => `${sanitize(frameFile(l.file))}:${sanitize(l.line)} (${l.count})`).join(', ')}`, 90, color),
      );
  }
  return lines;
}

/** The lines of the served routes' table. */
function servedLines(routes: ServedRouteSummary[], width: number, color: boolean): string[] {
  const routeW = Math.max(24, width - 50);
  const lines = [
    paint(`${fit('SERVED ROUTE', routeW)} ${'COUNT'.padStart(7)} ${'FAILED'.padStart(7)}  ${fit('p50 / p95 ms', 16)} STATUS`, 1, color),
  ];
  for (const r of routes) {
    const p = r.duration ? `${formatMs(r.duration.p50)} / ${formatMs(r.duration.p95)}` : '-';
    lines.push(
      `${fit(routeText(r), routeW)} ${String(r.count).padStart(7)} ${String(r.failed).padStart(7)}  ${fit(p, 16)} ${countsText(r.status)}`,
    );
    for (const c of r.calls.slice(0, 5)) lines.push(`    calls ${sanitize(c.label)} ×${c.perRequest} per request (${c.count})`);
  }
  return lines;
}

/** The summary by route as text for a terminal: served routes first (a server's trace), then the requests made. */
export function renderRouteSummary(summary: TraceSummary, options: { width?: number; color?: boolean } = {}): string {
  const width = Math.max(60, options.width ?? 120);
  const color = options.color ?? false;
  const lines: string[] = [];
  if (summary.servedRoutes.length) {
    lines.push(paint(`Served: ${summary.served} request${summary.served === 1 ? '' : 's'} by route`, 1, color));
    append(lines, servedLines(summary.servedRoutes, width, color));
    lines.push('');
  }
  lines.push(
    paint(
      `Requests made: ${summary.requests} by route (the most time spent first)${summary.whatIf ? `; ${summary.whatIf} changed by what-if rules, set apart` : ''}`,
      1,
      color,
    ),
  );
  if (summary.routes.length) append(lines, routeLines(summary.routes, width, color));
  else lines.push('  none');
  const notes: string[] = [];
  const both = (test: (r: RouteSummary | ServedRouteSummary) => boolean) => summary.routes.some(test) || summary.servedRoutes.some(test);
  if (both((r) => r.inferred)) notes.push('* route inferred from the paths (numbers, ids, hashes, dates as :id)');
  if (both((r) => !!r.other))
    notes.push(
      `† ${OTHER_ROUTES}: the requests on any route after the first ${MAX_ROUTES.toLocaleString('en')} of a kind, counted together`,
    );
  if (both(sampled))
    notes.push(
      'p50, p95 and p99 of a route of thousands of requests are read from a random sample of them (--json: `sampled`); counts and max are exact',
    );
  if (notes.length) lines.push('', ...notes);
  return lines.join('\n') + '\n';
}

/** A short list of requests: number, method, status, time, URL, and the diagnosis and line under each. */
function requestList(title: string, requests: HttpRequest[], width: number, color: boolean): string[] {
  if (requests.length === 0) return [];
  const lines = ['', paint(title, 1, color)];
  for (const r of requests) {
    const ms = r.timings ? `${formatMs(totalTime(r.timings))} ms` : '-';
    lines.push(`  ${fit(`${sanitize(r.reqMethod)} ${statusLabel(r)} ${ms} ${sanitize(r.reqURL)}`, Math.max(20, width - 4)).trimEnd()}`);
    if (r.diagnosis) lines.push(`     ${paint(sanitize(r.diagnosis), isFailed(r) ? 31 : 33, color)}`);
    const at = initiatorLine(r);
    if (at) lines.push(`     ${paint(at, 90, color)}`);
  }
  return lines;
}

/** What `nettrace show` prints of a large trace: the summary, the first failures, the slowest, and how to list all. */
export function renderLargeTrace(file: FileSummary, options: { width?: number; color?: boolean; summaryLine: string }): string {
  const width = Math.max(60, options.width ?? 120);
  const color = options.color ?? false;
  const lines = [renderRouteSummary(file.summary, options).trimEnd()];
  const failed = file.totals.failed;
  lines.push(...requestList(`Failures (the first ${file.failures.length} of ${failed})`, file.failures, width, color));
  lines.push(...requestList(`Slowest ${file.slowest.length}`, file.slowest, width, color));
  lines.push(
    '',
    options.summaryLine,
    `(${file.totals.requests} requests: \`nettrace show --all\` lists every row, \`--json\` prints them all)`,
  );
  return lines.join('\n') + '\n';
}
