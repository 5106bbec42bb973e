/**
 * Text rendering of a trace for a terminal: a request table with a waterfall column on a shared
 * time axis, a legend, the diagnosis of each failed or slow request, and a summary line.
 * Everything that came from the network is sanitised before it is printed.
 */

import { NO_PROGRAM_FRAME } from '../trace/derive/initiatorLine';
import { diagnoseLoopBlocked } from '../trace/diagnosis/loopDiagnosis';
import { formatBytes, formatMs } from '../trace/diagnosis/sentence';
import { WHAT_IF_TAG } from '../trace/diagnosis/whatIfText';
import { replayCountsOf, replayCountsText, replaySentence, replayTag } from '../trace/diagnosis/replayText';
import {
  blockedPortOf,
  DEFAULT_SLOW_THRESHOLD_MS,
  isFailed,
  isStreaming,
  requestStartAt,
  totalTime,
  type Phase,
  type PhaseSegment,
} from '../trace/derive/timings';
import { segmentsAt, timeBudget } from '../trace/derive/timeBudget';
import type { HttpRequest, Trace } from '../trace/contract/types';
import type { WebSocketSession } from '../trace/contract/webSocket';
import type { RecordedExchange, RecordingInfo } from '../trace/contract/recording';
import { connectionState } from '../trace/derive/labels';
import { CONNECTION_WORDS, PHASE_WORDS } from '../trace/derive/words';
import { renderIncoming, servedFailed } from './renderIncoming';
import { renderKernel } from './renderKernel';
import { ANSI_SEQUENCE, SURROGATE, append, fit, paint, sanitize } from './text';

/** Options of renderTrace(). */
export interface RenderOptions {
  /** Terminal width in columns (default 120). */
  width?: number;
  /** Use ANSI colours (default false; see shouldUseColor). */
  color?: boolean;
  /**
   * The trace's requests are only the first of more (a very large trace, see `nettrace show`):
   * the totals of all of them, for the summary, and how many are not listed.
   */
  totals?: RequestTotals;
  /** Incoming requests at least this slow (ms) get a diagnosis (default DEFAULT_SLOW_THRESHOLD_MS). */
  slowThresholdMs?: number;
  /**
   * Requests listed in the table and in the failures at most (default: all): the failed and
   * diagnosed ones first, then the earliest, each under its number among all; a line counts the rest.
   */
  maxRows?: number;
  /** Where to see the requests not listed (default: `nettrace show --json` prints all). */
  moreHint?: string;
}

/** The line counting the requests the table does not list (see RenderOptions.maxRows), or undefined. */
function omittedLine(rows: readonly Row[], listed: readonly number[], options: RenderOptions): string | undefined {
  const omitted = (options.totals ? options.totals.requests : rows.length) - listed.length;
  if (omitted <= 0) return undefined;
  let which = `the first ${rows.length} are`;
  if (listed.length < rows.length) {
    const noteworthy = rows.reduce((n, row) => n + (row.req.diagnosis ? 1 : 0), 0);
    which =
      noteworthy > listed.length
        ? `listed: the first ${listed.length} of ${noteworthy} with a diagnosis`
        : `listed: every one with a diagnosis${noteworthy < listed.length ? ', then the earliest' : ''}`;
  }
  return `… ${omitted} more request${omitted === 1 ? '' : 's'} not listed (${which}; ${options.moreHint ?? '`nettrace show --json` prints all'})`;
}

/** The indexes of the rows the table lists (see RenderOptions.maxRows), in order. */
function listedRows(rows: readonly Row[], maxRows: number | undefined): number[] {
  const all = rows.map((_, i) => i);
  if (maxRows === undefined || rows.length <= maxRows) return all;
  const picked = all.filter((i) => rows[i].req.diagnosis).slice(0, maxRows);
  const taken = new Set(picked);
  for (let i = 0; picked.length < maxRows; i++) if (!taken.has(i)) picked.push(i);
  return picked.sort((a, b) => a - b);
}

/** Counts over all requests of a trace, for renderSummary when not all of them are at hand. */
export interface RequestTotals {
  requests: number;
  failed: number;
  reused: number;
}

/** Adds one request to running totals (see RequestTotals). */
export function countRequest(totals: RequestTotals, req: HttpRequest): void {
  totals.requests++;
  if (isFailed(req)) totals.failed++;
  if (reusedRow(req)) totals.reused++;
}

/** A request counted as reused: as its Conn column says (a what-if stand-in on a kept-alive socket is not). */
function reusedRow(req: HttpRequest): boolean {
  return req.reusedConn === true && connectionState(req) === 'reused';
}

/** The waterfall character of each phase. */
export const PHASE_CHARS: Record<Phase, string> = {
  blocked: '·',
  dns: 'd',
  connect: 'c',
  ssl: 's',
  send: '>',
  wait: '░',
  receive: '█',
};

const PHASE_COLORS: Record<Phase, number> = {
  blocked: 90,
  dns: 36,
  connect: 33,
  ssl: 35,
  send: 32,
  wait: 34,
  receive: 32,
};

/** Character marking where a failed request stopped. */
const FAIL_CHAR = 'x';

/** True when output to this stream should be coloured: a TTY and NO_COLOR unset. */
export function shouldUseColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return !!stream.isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

function padStart(text: string, width: number): string {
  const len = SURROGATE.test(text) ? [...text].length : text.length;
  return len >= width ? text : ' '.repeat(width - len) + text;
}

/** The STATUS column: the HTTP status, else the error code. */
export function statusLabel(req: HttpRequest): string {
  if (req.reqError) {
    const e = req.reqError;
    if (e.timedOut) return 'TIMEOUT';
    if (e.aborted) return 'ABORTED';
    if (!e.code && !e.cause?.code && blockedPortOf(req) !== undefined) return 'BAD PORT';
    return sanitize(e.code ?? e.cause?.code ?? 'ERROR');
  }
  if (req.respStatusCode !== undefined) {
    // A file's requests are checked as read (a status is a number); a live peer's record is not: printed escaped.
    const status = sanitize(req.respStatusCode);
    if (req.webSocket) return `${status} websocket`;
    if (isStreaming(req)) return `${status} streaming`;
    return status;
  }
  return req.incomplete ? 'INCOMPLETE' : 'pending';
}

/** "open 1.2 s, closed 4000 "bye" by the client; sent 2 messages (33 B), received 2 (21 B)". */
export function webSocketLine(ws: WebSocketSession): string {
  const life = ws.closeAt !== undefined ? `open ${formatMs(ws.closeAt - ws.openAt)} ms` : 'still open';
  const close =
    ws.closedBy !== undefined
      ? `, closed ${ws.closeCode ?? 'without a code'}${ws.closeReason ? ` "${sanitize(ws.closeReason)}"` : ''} by the ${ws.closedBy}`
      : ws.closeAt !== undefined
        ? ', dropped without a close frame'
        : '';
  return `${life}${close}; sent ${ws.sentMessages} message${ws.sentMessages === 1 ? '' : 's'} (${formatBytes(ws.sentBytes)}), received ${ws.recvMessages} (${formatBytes(ws.recvBytes)})`;
}

function statusColor(req: HttpRequest): number {
  if (req.reqError) return 31;
  const s = req.respStatusCode;
  if (s === undefined) return 90;
  if (s >= 500) return 31;
  if (s >= 400) return 33;
  if (s >= 300) return 36;
  return 32;
}

interface Row {
  req: HttpRequest;
  start?: number;
  total: number;
}

/** Cells each phase a request spent time in gets at least (a 60 ms request on a 5 s axis stays legible). */
export const MIN_PHASE_CELLS = 2;
/** Phases shorter than this (ms) draw nothing: rounding noise, not time spent. */
const MIN_PHASE_MS = 0.05;
/** Below this terminal width every request gets a phase line under it instead of relying on the bar. */
export const NARROW_WIDTH = 80;

/** A request's waterfall cells, and whether every phase it spent time in got MIN_PHASE_CELLS. */
interface Bar {
  text: string;
  /** False when the phases did not fit at MIN_PHASE_CELLS each (the caller adds a phase line). */
  legible: boolean;
}

/**
 * Lays the request's phases on `width` columns of the axis [axisStart, axisStart+span]. The bar
 * starts where the request started; each phase it spent time in takes its share of the axis but
 * at least MIN_PHASE_CELLS cells, so short requests read as phases rather than a dot. A bar that
 * would run past the end is moved left; one that cannot fit at all falls back to the axis scale
 * (its longest phase where it starts when shorter than a cell) and is not `legible`.
 */
function waterfall(row: Row, axisStart: number, span: number, width: number, color: boolean): Bar {
  // Its time budget, read when drawn: a row keeps none (a table may have 100,000 rows).
  const budget = row.req.timings && timeBudget({ request: row.req });
  if (row.start === undefined || !budget) return { text: ' '.repeat(width), legible: true };
  const segments = segmentsAt(budget, row.start).filter((s) => s.endAt - s.beginAt >= MIN_PHASE_MS);
  const scale = span / width;
  let cells: (Phase | null)[] = new Array(width).fill(null);
  const counts = phaseCells(
    segments.map((s) => (s.endAt - s.beginAt) / scale),
    width,
  );
  const needed = counts.reduce((a, b) => a + b, 0);
  const legible = segments.length * MIN_PHASE_CELLS <= width;
  const startCol = Math.min(width - 1, Math.max(0, Math.floor((row.start - axisStart) / scale)));
  let endCol = -1;
  if (segments.length > 0 && legible) {
    let col = Math.min(startCol, width - needed);
    segments.forEach((s, i) => {
      for (let k = 0; k < counts[i]!; k++) cells[col++] = s.phase;
    });
    endCol = col;
  } else if (segments.length > 0) {
    cells = proportionalCells(segments, axisStart, scale, width);
    if (!cells.some((c) => c !== null)) {
      // Too short for a column: show its longest phase where it starts.
      const longest = segments.reduce((a, b) => (b.endAt - b.beginAt > a.endAt - a.beginAt ? b : a));
      cells[startCol] = longest.phase;
    }
    endCol = Math.min(width - 1, Math.max(0, Math.floor((row.start + row.total - axisStart) / scale)));
  }
  let failCol = -1;
  if (isFailed(row.req) && row.req.reqError) {
    failCol = Math.min(width - 1, Math.max(0, endCol >= 0 ? endCol : startCol));
    if (cells[failCol] !== null && failCol + 1 < width && cells[failCol + 1] === null) failCol++;
  }
  // One painted run per phase (a table of 100,000 rows is built in one go: one string per run,
  // not one per cell).
  let out = '';
  for (let i = 0; i < width;) {
    if (i === failCol) {
      out += paint(FAIL_CHAR, 31, color);
      i++;
      continue;
    }
    const p = cells[i];
    let j = i + 1;
    while (j < width && j !== failCol && cells[j] === p) j++;
    out += p ? paint(PHASE_CHARS[p].repeat(j - i), PHASE_COLORS[p], color) : ' '.repeat(j - i);
    i = j;
  }
  return { text: out, legible };
}

/**
 * Cells per phase: its length on the axis (`cells[i]`, fractional), at least MIN_PHASE_CELLS; when
 * that overflows `width`, each keeps MIN_PHASE_CELLS and the rest of the width is shared by what
 * the phases have beyond it (largest remainders first).
 */
function phaseCells(cells: number[], width: number): number[] {
  const wanted = cells.map((c) => Math.max(MIN_PHASE_CELLS, Math.round(c)));
  if (wanted.reduce((a, b) => a + b, 0) <= width) return wanted;
  const extra = Math.max(0, width - MIN_PHASE_CELLS * cells.length);
  const over = cells.map((c) => Math.max(0, c - MIN_PHASE_CELLS));
  const sum = over.reduce((a, b) => a + b, 0) || 1;
  const shares = over.map((o) => (o / sum) * extra);
  const out = shares.map((x) => MIN_PHASE_CELLS + Math.floor(x));
  let left = extra - shares.reduce((a, x) => a + Math.floor(x), 0);
  const order = shares.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i]!++;
    left--;
  }
  return out;
}

/** Each column gets the phase that covers most of it (the axis to scale). */
function proportionalCells(segments: PhaseSegment[], axisStart: number, scale: number, width: number): (Phase | null)[] {
  const cells: (Phase | null)[] = new Array(width).fill(null);
  for (let i = 0; i < width; i++) {
    const c0 = axisStart + i * scale;
    const c1 = c0 + scale;
    let bestOverlap = 0;
    for (const s of segments) {
      const overlap = Math.min(c1, s.endAt) - Math.max(c0, s.beginAt);
      if (overlap > bestOverlap) {
        bestOverlap = overlap;
        cells[i] = s.phase;
      }
    }
  }
  return cells;
}

/** Splits `text` at `sep` into lines of at most `width` visible columns, each indented. */
function wrapParts(text: string, sep: string, indent: number, width: number): string[] {
  const pad = ' '.repeat(indent);
  const visible = (t: string): number => [...t.replace(ANSI_SEQUENCE, '')].length;
  const out: string[] = [];
  let line = '';
  for (const part of text.split(sep)) {
    const next = line ? line + sep + part : part;
    if (line && indent + visible(next) > width) {
      out.push(pad + line + sep.trimEnd());
      line = part;
    } else line = next;
  }
  if (line) out.push(pad + line);
  return out;
}

/**
 * The phase line under a request: "d dns 6.0 · c connect 10.0 · s tls 18.0 · ░ wait 22.0 ms",
 * each phase it spent time in with its duration (`connect` without its TLS part); a phase during
 * which the program's event loop was blocked says for how long of it ("░ wait 480.0 (loop
 * blocked 350.0)", `loopBlocked`).
 */
export function phaseLine(req: HttpRequest, color: boolean, budget = req.timings && timeBudget({ request: req })): string | undefined {
  if (!budget) return undefined;
  const parts: string[] = [];
  for (const s of budget.drawn) {
    const ms = s.endAt - s.beginAt;
    if (ms < MIN_PHASE_MS) continue;
    const blocked = budget.phases[s.phase].loop;
    const loop = blocked >= MIN_PHASE_MS ? ` (loop blocked ${blocked.toFixed(1)})` : '';
    parts.push(`${paint(PHASE_CHARS[s.phase], PHASE_COLORS[s.phase], color)} ${PHASE_WORDS[s.phase].word} ${ms.toFixed(1)}${loop}`);
  }
  return parts.length ? `${parts.join(' · ')} ms` : undefined;
}

/** Shows a frame's file as a path when it is a file:// URL (ESM). */
export function frameFile(file: unknown): string {
  if (typeof file !== 'string') return '?';
  if (!file.startsWith('file://')) return file;
  try {
    return decodeURIComponent(new URL(file).pathname);
  } catch {
    return file;
  }
}

/**
 * "at loadUsers (/app/users.ts:14:9) ← main (/app/index.ts:3:1)": the first two of the program's
 * frames (never a library's: a stack without the program's frames says so), "started
 * asynchronously from" when they were found through the async context.
 */
export function initiatorLine(req: HttpRequest): string | undefined {
  const frames = req.initiator?.frames;
  if (!Array.isArray(frames) || frames.length === 0) return undefined;
  // A saved trace may come from anywhere: a frame that is not an object is skipped, not a crash.
  const user = frames.filter((f) => f !== null && typeof f === 'object' && !f.library);
  if (user.length === 0) return `initiator: ${NO_PROGRAM_FRAME}`;
  const parts = user.slice(0, 2).map((f) => {
    const loc = `${sanitize(frameFile(f.file))}:${sanitize(f.line)}:${sanitize(f.column)}`;
    return f.function ? `${sanitize(f.function)} (${loc})` : loc;
  });
  return `${req.initiator?.async ? 'started asynchronously from' : 'at'} ${parts.join(' ← ')}`;
}

/** Orders the trace's requests by start time with their total durations. */
function rowsOf(trace: Trace): Row[] {
  // A row's start reads the request and its dial (requestStartAt), its total the request's timings
  // (what its time budget would say): neither needs the request's whole context.
  const dials = new Map(trace.dials.map((d) => [d.traceID, d]));
  const rows = trace.httpRequests.map((req): Row => {
    const start = requestStartAt({ request: req, dial: req.dial ? dials.get(req.dial) : undefined });
    return { req, start, total: req.timings ? totalTime(req.timings) : 0 };
  });
  rows.sort((a, b) => (a.start ?? Infinity) - (b.start ?? Infinity));
  return rows;
}

/** The summary line: "12 requests, 3 failed, 5 connections, 4 reused". */
export function renderSummary(trace: Trace, totals?: RequestTotals): string {
  const n = totals?.requests ?? trace.httpRequests.length;
  const failed = totals?.failed ?? trace.httpRequests.filter(isFailed).length;
  const reused = totals?.reused ?? trace.httpRequests.filter(reusedRow).length;
  const conns = trace.tcpConns.filter((c) => c.connected).length;
  let s = `${n} request${n === 1 ? '' : 's'}, ${failed} failed, ${conns} connection${conns === 1 ? '' : 's'}, ${reused} reused`;
  // A server's trace: what it served first, then what it made (`0 requests` alone would say nothing happened).
  const served = trace.incomingRequests ?? [];
  if (served.length > 0) {
    const k = served.length;
    const bad = served.filter(servedFailed).length;
    s = `${k} request${k === 1 ? '' : 's'} served${bad > 0 ? ` (${bad} failed)` : ''}; ${n} request${n === 1 ? '' : 's'} made, ${s.slice(s.indexOf(', ') + 2)}`;
  }
  // Requests whose failure or answer a what-if rule made (docs/rules.md): said in every summary, --quiet too.
  const whatIf = trace.httpRequests.reduce((k, r) => k + (r.whatIf ? 1 : 0), 0);
  if (whatIf > 0) s += `; ${whatIf} changed by what-if rules`;
  // A replay's requests (docs/replay.md): answered from the recording, or not in it.
  const replayed = replayCountsText(trace.replay?.counts ?? replayCountsOf(trace.httpRequests));
  if (replayed) s += `; ${replayed}`;
  const { droppedEvents, untracedRequests } = trace.stats;
  if (untracedRequests > 0) s += `; ${untracedRequests} request${untracedRequests === 1 ? '' : 's'} not traced`;
  if (droppedEvents > 0) s += `; ${droppedEvents} event${droppedEvents === 1 ? '' : 's'} dropped`;
  const skipped = trace.stats.skippedInitiators ?? 0;
  if (skipped > 0) s += `; ${skipped} without initiator stack (sampled)`;
  const { droppedRecords = 0, droppedBlobs = 0 } = trace.stats;
  if (droppedRecords > 0) s += `; ${droppedRecords} record${droppedRecords === 1 ? '' : 's'} over the collector's cap dropped`;
  if (droppedBlobs > 0) s += `; ${droppedBlobs} captured bod${droppedBlobs === 1 ? 'y' : 'ies'} dropped`;
  if (trace.exchanges) s += `; ${recordingSummary(trace.exchanges, trace.recording)}`;
  return s;
}

/** "recorded for replay: 42 exchanges, 3.1 MB of bodies, 1 body cut at the 4 MiB cap" (the bytes kept: every body's size less what the caps cut). */
export function recordingSummary(exchanges: readonly RecordedExchange[], info: RecordingInfo | undefined): string {
  let size = 0;
  const cut = { body: 0, run: 0 };
  for (const e of exchanges) {
    size += (e.reqBody?.size ?? 0) + (e.body?.size ?? 0) + (e.messages ?? []).reduce((n, m) => n + m.data.size, 0);
    if (e.over) cut[e.over]++;
  }
  const cap = (n = 0) => (n % 1048576 === 0 ? `${n / 1048576} MiB` : formatBytes(n));
  let s = `recorded for replay: ${exchanges.length} exchange${exchanges.length === 1 ? '' : 's'}, ${formatBytes(Math.max(0, size - (info?.cutBytes ?? 0)))} of bodies`;
  if (cut.body > 0) s += `, ${cut.body} bod${cut.body === 1 ? 'y' : 'ies'} cut at the ${cap(info?.maxBodyBytes)} cap`;
  if (cut.run > 0) s += `, ${cut.run} cut at the run's ${cap(info?.maxRunBytes)} cap`;
  return s;
}

/** The incoming requests' section (renderIncoming), the calls numbered as `rows`. */
function incomingSection(trace: Trace, rows: Row[], width: number, color: boolean, options: RenderOptions): string[] {
  const slowThresholdMs = options.slowThresholdMs ?? DEFAULT_SLOW_THRESHOLD_MS;
  return renderIncoming(
    trace,
    rows.map((r) => r.req),
    { width, color, slowThresholdMs, sanitize, maxRows: options.maxRows },
  );
}

/**
 * Renders a trace whose requests have `timings` and `diagnosis` (see enrichTrace): table with
 * waterfall, legend, failures, summary. Returns lines joined by "\n" with a final newline.
 */
export function renderTrace(trace: Trace, options: RenderOptions = {}): string {
  const chunks: string[] = [];
  writeTrace(trace, options, (text) => chunks.push(text));
  return chunks.join('');
}

/** Lines of the table handed to `write` at a time (a long table is not held whole, nor its lines). */
const CHUNK_LINES = 512;

/** renderTrace's text handed to `write` in pieces (whole lines) as it is made; their concatenation is renderTrace's. */
export function writeTrace(trace: Trace, options: RenderOptions, write: (text: string) => void): void {
  const width = Math.max(60, options.width ?? 120);
  const color = options.color ?? false;
  const rows = rowsOf(trace);
  const lines: string[] = [];
  if (rows.length === 0) {
    lines.push(trace.incomingRequests?.length ? 'The program made no HTTP requests.' : 'No HTTP requests were traced.');
    append(lines, incomingSection(trace, [], width, color, options));
    const kernel = renderKernel(trace, [], width, color);
    if (kernel.length) lines.push(...kernel, '');
    lines.push(renderSummary(trace, options.totals));
    write(lines.join('\n') + '\n');
    return;
  }
  let axisStart = Infinity;
  let axisEnd = -Infinity;
  for (const r of rows) {
    if (r.start === undefined) continue;
    axisStart = Math.min(axisStart, r.start);
    axisEnd = Math.max(axisEnd, r.start + r.total);
  }
  if (!Number.isFinite(axisStart)) {
    axisStart = 0;
    axisEnd = 1;
  }
  const span = Math.max(axisEnd - axisStart, 0.001);
  const tcpConns = new Map(trace.tcpConns.map((c) => [c.traceID, c]));

  const numW = Math.max(2, String(rows.length).length);
  const fixed = numW + 1 + 7 + 1 + 13 + 1 + 6 + 1 + 9 + 1 + 8 + 1 + 7 + 1;
  const wfW = Math.max(10, Math.min(40, Math.floor(width * 0.22)));
  const narrow = (options.width ?? 120) < NARROW_WIDTH;
  const urlW = Math.max(16, width - fixed - wfW - 2);

  const head =
    padStart('#', numW) +
    ' ' +
    fit('METHOD', 7) +
    ' ' +
    fit('STATUS', 13) +
    ' ' +
    fit('CLIENT', 6) +
    ' ' +
    padStart('TIME ms', 9) +
    ' ' +
    padStart('SIZE', 8) +
    ' ' +
    fit('CONN', 7) +
    ' ' +
    fit('URL', urlW) +
    ' |' +
    fit(`0 … ${formatMs(span)} ms`, wfW);
  lines.push(paint(head, 1, color));

  const listed = listedRows(rows, options.maxRows);
  for (const i of listed) {
    const row = rows[i];
    const r = row.req;
    const state = connectionState(r, r.tcpConn ? tcpConns.get(r.tcpConn) : undefined);
    const conn = state ? CONNECTION_WORDS[state] : '-';
    const status = fit(statusLabel(r), 13);
    const bar = waterfall(row, axisStart, span, wfW, color);
    lines.push(
      padStart(String(i + 1), numW) +
        ' ' +
        fit(sanitize(r.reqMethod), 7) +
        ' ' +
        paint(status, statusColor(r), color) +
        ' ' +
        fit(sanitize(r.client), 6) +
        ' ' +
        padStart(row.start === undefined ? '-' : row.total.toFixed(1), 9) +
        ' ' +
        padStart(r.respContentLen === undefined ? '-' : formatBytes(r.respContentLen), 8) +
        ' ' +
        fit(conn, 7) +
        ' ' +
        fit(
          (r.replay ? `[${replayTag(r.replay)}] ` : '') +
            (r.whatIf ? `[${WHAT_IF_TAG} ${sanitize(r.whatIf.action)}] ` : '') +
            sanitize(r.reqURL),
          urlW,
        ) +
        ' |' +
        bar.text,
    );
    // Narrow terminal, or a bar that could not give each phase its cells: the phases in words.
    const phases = narrow || !bar.legible ? phaseLine(r, color) : undefined;
    if (phases) lines.push(...wrapParts(phases, ' · ', numW + 1, width));
    if (lines.length >= CHUNK_LINES) {
      write(lines.join('\n') + '\n');
      lines.length = 0;
    }
  }

  const more = omittedLine(rows, listed, options);
  if (more) lines.push(more);

  const legend = (Object.keys(PHASE_CHARS) as Phase[])
    .map((p) => `${paint(PHASE_CHARS[p], PHASE_COLORS[p], color)} ${PHASE_WORDS[p].word}`)
    .join('  ');
  lines.push('');
  lines.push(`${legend}  ${paint(FAIL_CHAR, 31, color)} failed`);

  // A request the replay answered as recorded, and nothing more to say of it, is no failure (its row says [replay]).
  const said = (r: HttpRequest) => !!r.diagnosis && !(r.replay?.outcome === 'replayed' && r.diagnosis === replaySentence(r.replay, r));
  const noted = listed.map((i) => ({ row: rows[i], n: i + 1 })).filter(({ row }) => said(row.req));
  if (noted.length > 0) {
    lines.push('');
    lines.push(
      paint(
        // The heading names what the notes below hold: the listed rows, not every row of a long trace.
        noted.some(({ row }) => row.req.timings && diagnoseLoopBlocked(row.req, timeBudget({ request: row.req })))
          ? 'Failures, slow requests and blocked event loops'
          : 'Failures and slow requests',
        1,
        color,
      ),
    );
    for (const { row, n } of noted) {
      const r = row.req;
      const where = `#${n} ${sanitize(r.reqMethod)} ${sanitize(r.reqURL)}`;
      lines.push(`  ${fit(where, Math.max(20, width - 4)).trimEnd()}`);
      if (r.diagnosis) lines.push(`     ${paint(sanitize(r.diagnosis), isFailed(r) ? 31 : 33, color)}`);
      const where2 = initiatorLine(r);
      if (where2) lines.push(`     ${paint(where2, 90, color)}`);
    }
  }
  const sockets = rows.map((row, i) => ({ row, n: i + 1 })).filter(({ row }) => row.req.webSocket);
  if (sockets.length > 0) {
    lines.push('');
    lines.push(paint('WebSockets', 1, color));
    for (const { row, n } of sockets) {
      lines.push(`  ${fit(`#${n} ${sanitize(row.req.reqURL)}`, Math.max(20, width - 4)).trimEnd()}`);
      lines.push(`     ${sanitize(webSocketLine(row.req.webSocket!))}`);
    }
  }
  append(lines, incomingSection(trace, rows, width, color, options));
  append(lines, renderKernel(trace, rows, width, color));
  const warnings = trace.stats.warnings;
  if (warnings.length > 0) {
    lines.push('');
    lines.push(paint('Warnings', 1, color));
    for (const w of warnings.slice(0, 10)) lines.push(`  ${sanitize(w)}`);
    if (warnings.length > 10) lines.push(`  … ${warnings.length - 10} more in the trace file`);
  }
  lines.push('');
  lines.push(renderSummary(trace, options.totals));
  write(lines.join('\n') + '\n');
}
