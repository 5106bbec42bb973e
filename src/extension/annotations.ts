/**
 * The index behind the editor annotations (CodeLens and hover): which source lines made which
 * requests, and the text shown for them, e.g. `GET /api/users · 200 · 124 ms · 3 calls`. Pure
 * (no `vscode`), fed incrementally from the session's change events.
 */

import { formatMs } from '../trace/diagnosis/sentence';
import { fileKey, framePath, pathSystem, type PathSystem } from '../trace/formats/filePath';
import { requestLine } from '../trace/derive/initiatorLine';
import { totalTime } from '../trace/derive/timings';
import type { HttpRequest } from '../trace/contract/types';
import type { StackFrame } from '../trace/contract/incoming';

/** One request as the annotations need it. */
export interface AnnotatedRequest {
  traceID: string;
  /** 0-based line and column in the file. */
  line: number;
  column: number;
  method: string;
  url: string;
  /** HTTP status or error code, "pending" while in flight. */
  status: string;
  failed: boolean;
  /** Total time in ms, when finished. */
  durationMs?: number;
  /** How much of it a breakpoint held the program (`debuggerPaused`), when any. */
  pausedMs?: number;
  /** Start time (ms since trace begin), for ordering. */
  startAt: number;
}

/** Aggregate of one line. */
export interface LineAnnotation {
  /** 0-based line. */
  line: number;
  /** Requests of the line, most recent last. */
  requests: AnnotatedRequest[];
}

/** The first frame of the program's own code; none (no CodeLens) when only library frames were recorded. */
export function userFrame(req: HttpRequest): StackFrame | undefined {
  return requestLine(req);
}

/** The status text of a request: HTTP status, else the error code, else "pending". */
export function statusText(req: HttpRequest): string {
  const e = req.reqError;
  if (e) {
    if (e.timedOut) return 'TIMEOUT';
    if (e.aborted) return 'ABORTED';
    return e.code ?? e.cause?.code ?? 'ERROR';
  }
  if (typeof req.respStatusCode === 'number') return String(req.respStatusCode);
  return 'pending';
}

/** `/api/users?x=1` from a URL (the URL itself when it does not parse), at most `max` chars. */
export function shortUrl(url: string, max = 60): string {
  let s = url;
  try {
    const u = new URL(url);
    s = `${u.pathname}${u.search}`;
  } catch {
    // keep as is
  }
  // Control characters would break the one-line label.
  s = s.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * Index of annotated requests per file, updated as requests change. Files are matched by
 * fileKey() of `system` (on Windows a frame's `C:\app\x.ts` is the editor's `c:\app\x.ts`).
 */
export class AnnotationIndex {
  /** Per fileKey(): the requests of the file. */
  private readonly byFile = new Map<string, Map<string, AnnotatedRequest>>();
  /** Per fileKey(): the path as the first frame of the file gave it. */
  private readonly paths = new Map<string, string>();
  /** Per request: the fileKey() of its file. */
  private readonly fileOf = new Map<string, string>();
  private version = 0;

  constructor(private readonly system: PathSystem = pathSystem()) {}

  /** Adds or replaces a request; returns the file it belongs to (if any). */
  upsert(req: HttpRequest): string | undefined {
    const frame = userFrame(req);
    const path = frame ? framePath(frame.file, this.system) : undefined;
    const key = path === undefined ? undefined : fileKey(path, this.system);
    const previous = this.fileOf.get(req.traceID);
    if (previous && previous !== key) this.byFile.get(previous)?.delete(req.traceID);
    if (!frame || !path || !key) return previous === undefined ? undefined : this.paths.get(previous);
    let m = this.byFile.get(key);
    if (!m) {
      this.byFile.set(key, (m = new Map()));
      this.paths.set(key, path);
    }
    m.set(req.traceID, {
      traceID: req.traceID,
      line: Math.max(0, frame.line - 1),
      column: Math.max(0, frame.column - 1),
      method: req.reqMethod,
      url: req.reqURL,
      status: statusText(req),
      failed: !!req.reqError || (typeof req.respStatusCode === 'number' && req.respStatusCode >= 400),
      durationMs:
        req.timings && (req.reqEndAt !== undefined || req.respDoneAt !== undefined || req.reqError) ? totalTime(req.timings) : undefined,
      ...(typeof req.debuggerPaused === 'number' && req.debuggerPaused >= 1 ? { pausedMs: req.debuggerPaused } : {}),
      startAt: req.reqStartAt ?? 0,
    });
    this.fileOf.set(req.traceID, key);
    this.version++;
    return path;
  }

  /** Forgets everything. */
  clear(): void {
    this.byFile.clear();
    this.paths.clear();
    this.fileOf.clear();
    this.version++;
  }

  /** Bumped on every change (for cheap "did anything change" checks). */
  get changeCount(): number {
    return this.version;
  }

  /** Files that have annotations. */
  files(): string[] {
    return [...this.byFile.keys()].map((k) => this.paths.get(k) ?? k);
  }

  /** The annotated lines of a file (a path as the editor gives it), in line order. */
  lines(path: string): LineAnnotation[] {
    const m = this.byFile.get(fileKey(path, this.system));
    if (!m) return [];
    const byLine = new Map<number, AnnotatedRequest[]>();
    for (const r of m.values()) {
      let list = byLine.get(r.line);
      if (!list) byLine.set(r.line, (list = []));
      list.push(r);
    }
    return [...byLine.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([line, requests]) => ({ line, requests: requests.sort((a, b) => a.startAt - b.startAt) }));
  }
}

/**
 * The CodeLens title of a line: `GET /api/users · 200 · 124 ms · 3 calls` (latest request); a
 * request a breakpoint held says how much: `2911 ms, 2641 at a breakpoint`.
 */
export function lensTitle(a: LineAnnotation): string {
  const last = a.requests[a.requests.length - 1];
  const parts = [`${last.method} ${shortUrl(last.url)}`, last.status];
  const time = timeText(last);
  if (time) parts.push(time);
  const n = a.requests.length;
  parts.push(n === 1 ? '1 call' : `${n} calls`);
  const failed = a.requests.filter((r) => r.failed).length;
  if (failed > 0 && n > 1) parts.push(`${failed} failed`);
  // `$(name)` in a CodeLens title renders an icon: keep network text from doing that.
  return parts.join(' · ').replace(/\$\(/g, '$\u200b(');
}

/** Escapes text for a Markdown string (hover), so network text cannot add links or markup. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>&~$:]/g, (c) => `\\${c}`);
}

/** A `command:` URI with JSON arguments, for a trusted Markdown link. */
export function commandUri(command: string, args: unknown): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify([args]))}`;
}

/** "124 ms", or "2911 ms, 2641 at a breakpoint" for a request a breakpoint held; undefined while it runs. */
function timeText(r: AnnotatedRequest): string | undefined {
  if (r.durationMs === undefined) return undefined;
  return `${formatMs(r.durationMs)} ms${r.pausedMs !== undefined ? `, ${formatMs(r.pausedMs)} at a breakpoint` : ''}`;
}

/**
 * The hover Markdown of a line: the most recent requests (newest first), each a link that
 * selects it in the panel.
 */
export function hoverMarkdown(a: LineAnnotation, traceKey: string, command: string, max = 10): string {
  const recent = a.requests.slice(-max).reverse();
  const lines = [`**Net Trace** — ${a.requests.length === 1 ? '1 request' : `${a.requests.length} requests`} from this line`, ''];
  for (const r of recent) {
    const label = `${r.method} ${shortUrl(r.url, 80)}`;
    const detail = [r.status, timeText(r)].filter(Boolean).join(' · ');
    lines.push(
      `- [${escapeMarkdown(label)}](${commandUri(command, { traceKey, traceID: r.traceID })} "Show in the Net Trace panel") ${escapeMarkdown(detail)}`,
    );
  }
  if (a.requests.length > max) lines.push('', `…and ${a.requests.length - max} earlier`);
  return lines.join('\n');
}
