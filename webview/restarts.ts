/**
 * Restarts in the request list: when the program was started again (`node --watch`, nodemon, a
 * debug session with `restart: true`) its new process continues the same trace and its requests
 * carry the restart's number (`httpRequests[].restart`, docs/trace-format.md). The list marks the
 * first request of each restarted process ("restarted · pid N · HH:MM:SS") and the detail says
 * which restart made a request. DOM-free (test/unit/webviewRestarts.test.mjs).
 */

import type { HttpRequest } from '../src/trace/contract/types';

/** Where a restarted process's requests begin in the list: its restart number, pid and first request's start (ms since the trace began). */
export interface RestartMark {
  restart: number;
  pid: number;
  start: number;
}

/**
 * The first request (by start time, then arrival) of each restarted process: its traceID → its
 * mark. Requests of the first run (no `restart`) get none.
 */
export function restartMarks(rows: ReadonlyArray<{ req: HttpRequest; start: number; seq: number }>): Map<string, RestartMark> {
  const first = new Map<string, { traceID: string; mark: RestartMark; seq: number }>();
  for (const row of rows) {
    const { restart, pid } = row.req;
    if (restart === undefined) continue;
    const key = `${pid}:${restart}`;
    const had = first.get(key);
    if (had && (had.mark.start < row.start || (had.mark.start === row.start && had.seq < row.seq))) continue;
    first.set(key, { traceID: row.req.traceID, mark: { restart, pid, start: row.start }, seq: row.seq });
  }
  const out = new Map<string, RestartMark>();
  for (const { traceID, mark } of first.values()) out.set(traceID, mark);
  return out;
}

/** The wall-clock time (local, HH:MM:SS) `ms` after the trace began (`traceBeginAt`, ISO-8601). */
export function clockAt(traceBeginAt: string, ms: number): string {
  const t = new Date(Date.parse(traceBeginAt) + ms);
  if (Number.isNaN(t.getTime())) return '';
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`;
}

/** The list's separator text on a restarted process's first request: `↻ restarted · pid 4321 · 10:31:02` (the arrow first: it tells even when cut short). */
export function restartLabel(mark: RestartMark, traceBeginAt: string): string {
  const at = clockAt(traceBeginAt, mark.start);
  return `↻ restarted · pid ${mark.pid}${at ? ` · ${at}` : ''}`;
}

/** Its tooltip: which restart, and what the rows from there on are. */
export function restartTitle(mark: RestartMark): string {
  return `Restart ${mark.restart} of the program: pid ${mark.pid} started again (node --watch, nodemon, restart: true) and continues this trace; this is its first request.`;
}

/** What the detail says of the process that made a request: `pid 4321 · restart 2`, or `pid 4321`. */
export function processLabel(req: Pick<HttpRequest, 'pid' | 'restart'>): string {
  return req.restart === undefined ? `pid ${req.pid}` : `pid ${req.pid} · restart ${req.restart}`;
}
