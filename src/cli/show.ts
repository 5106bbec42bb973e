/** `nettrace show FILE [--json]`: prints a saved trace as a table, or as enriched JSON. */

import { replayLines } from './replayLines';
import { once } from 'node:events';
import { isAbsolute, relative, resolve } from 'node:path';
import { jsonPieces } from '../trace/formats/jsonStream';
import { forEachDerivedRequest, readTraceHead, type TraceHead } from '../trace/formats/readTrace';
import { countRequest, renderSummary, renderTrace, shouldUseColor, type RequestTotals } from './render';
import { renderLargeTrace, renderRouteSummary, summarizeTraceFile, SUMMARY_ABOVE } from './summary';
import type { HttpRequest } from '../trace/contract/types';
import { escapeJsonForTerminal } from './text';

/** Options of showTrace(). */
export interface ShowOptions {
  json?: boolean;
  slowThresholdMs?: number;
  /** The summary by route (src/cli/summary.ts) instead of the requests; with `json`, as JSON. */
  summary?: boolean;
  /** Every row even past SUMMARY_ABOVE requests (else a large trace leads with its summary). */
  all?: boolean;
}

/** Buffers text for stdout and writes it in pieces of about 1 MiB, waiting when the pipe is full. */
class Out {
  private buf: string[] = [];
  private size = 0;

  async add(text: string): Promise<void> {
    this.buf.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    const text = escapeJsonForTerminal(this.buf.join(''));
    this.buf = [];
    this.size = 0;
    if (text && !process.stdout.write(text)) await once(process.stdout, 'drain');
  }
}

/**
 * Rows of the table of `nettrace show` (a table of a million rows helps no one and would need
 * gigabytes); the rest are counted in the summary, and `--json` prints them all.
 */
export const SHOW_MAX_ROWS = 100_000;

/**
 * Requests the table at the end of `nettrace run` lists at most: a few screens, the failed and
 * diagnosed ones first (a run of thousands would scroll the program's own output away);
 * `nettrace show` lists every one.
 */
export const RUN_TABLE_ROWS = 200;

/**
 * The `nettrace show` command line for a trace file written at `out`, to paste into the shell
 * `cwd` is in: the path relative to it when the file is below it, else absolute (not
 * `../../tmp/t.json`), quoted for a POSIX shell when it holds anything but plain characters.
 */
export function showCommandFor(out: string, cwd: string): string {
  const abs = resolve(cwd, out);
  const rel = relative(cwd, abs);
  const path = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
  return `nettrace show ${/^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`}`;
}

/**
 * Prints a trace file of any format version; throws TraceFileError for bad files. The file is
 * read twice, streaming, through the one reader (src/trace/formats/readTrace.ts): first
 * everything but the requests (and the proxy CONNECTs they may refer to), its served requests
 * derived, then the requests one at a time, each with its derived fields (timings, diagnosis…)
 * worked out and written out (--json: the records as a version 1 file held them, derived fields
 * included) or kept with what the table shows (no headers or bodies).
 */
export async function showTrace(path: string, options: ShowOptions = {}): Promise<void> {
  const head = readTraceHead(path, options.json === true);
  const { trace } = head;
  if (options.summary || (!options.json && !options.all && head.requests > SUMMARY_ABOVE)) return showSummary(path, head, options);
  const each = (fn: (r: HttpRequest) => void | Promise<void>) =>
    forEachDerivedRequest(path, head, fn, { slowThresholdMs: options.slowThresholdMs });
  if (options.json) {
    const out = new Out();
    const keys = Object.keys(trace).filter((k) => (trace as unknown as Record<string, unknown>)[k] !== undefined);
    await out.add('{');
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      await out.add(`\n ${JSON.stringify(key)}: `);
      if (key === 'httpRequests') {
        let n = 0;
        await each(async (r) => {
          await out.add((n++ === 0 ? '[\n  ' : ',\n  ') + JSON.stringify(r, null, 1).replace(/\n/g, '\n  '));
        });
        await out.add(n === 0 ? '[]' : '\n ]');
      } else {
        for (const piece of jsonPieces((trace as unknown as Record<string, unknown>)[key], 2, 1)) await out.add(piece);
      }
      if (i < keys.length - 1) await out.add(',');
    }
    await out.add('\n}\n');
    await out.flush();
    return;
  }
  // The table lists the first SHOW_MAX_ROWS requests; the summary counts all of them.
  const requests: HttpRequest[] = [];
  const totals: RequestTotals = { requests: 0, failed: 0, reused: 0 };
  await each((e) => {
    countRequest(totals, e);
    if (requests.length >= SHOW_MAX_ROWS) return;
    // The table shows no headers or bodies: a copy without them (`delete` would leave a slower,
    // larger dictionary-mode object).
    const slim: HttpRequest = { ...e };
    for (const k of ['reqHeaders', 'respHeaders', 'reqBody', 'respBody'] as const) slim[k] = undefined;
    requests.push(slim);
  });
  trace.httpRequests = requests;
  const stream = process.stdout;
  stream.write(
    renderTrace(trace, { width: stream.columns ?? 120, color: shouldUseColor(stream), totals, slowThresholdMs: options.slowThresholdMs }),
  );
  // A replayed run: its counts, and each request the recording had no answer for (docs/replay.md).
  if (trace.replay) stream.write(replayLines(trace, Infinity));
}

/** `nettrace show --summary` (text or `--json`), and a large trace's default view (the summary, the failures, the slowest). */
async function showSummary(path: string, head: TraceHead, options: ShowOptions): Promise<void> {
  const file = await summarizeTraceFile(path, { slowThresholdMs: options.slowThresholdMs, head });
  const stream = process.stdout;
  const out = new Out();
  const replay = file.trace.replay;
  if (options.json)
    await out.add(
      JSON.stringify(
        replay ? { ...file.summary, replay: { file: replay.file, ...replay.counts, unused: replay.unused } } : file.summary,
        null,
        1,
      ) + '\n',
    );
  else {
    const view = { width: stream.columns ?? 120, color: shouldUseColor(stream) };
    await out.add(
      options.summary
        ? renderRouteSummary(file.summary, view)
        : renderLargeTrace(file, { ...view, summaryLine: renderSummary(file.trace, file.totals) }),
    );
    if (replay) await out.add(replayLines({ ...file.trace, httpRequests: [] }));
  }
  await out.flush();
}
