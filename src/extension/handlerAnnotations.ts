/**
 * The index behind the route handlers' CodeLens: which source lines handled which incoming
 * requests (`incomingRequests[].handler`), and the text shown for them, e.g.
 * `served 50 · median 120 ms · POST /checkout/:id`. Pure (no `vscode`), fed incrementally from
 * the session's change events like the request lines' index (annotations.ts).
 */

import { formatMs } from '../trace/diagnosis/sentence';
import { fileKey, framePath, pathSystem, type PathSystem } from '../trace/formats/filePath';
import type { IncomingRequest } from '../trace/contract/incoming';

/** One incoming request as a handler's lens counts it. */
export interface ServedRequest {
  traceID: string;
  /** 0-based line of the handler. */
  line: number;
  /** `POST /checkout/:id`: the method and the route (else the path). */
  label: string;
  /** From the head received to the response's end; absent while open, for an aborted or incomplete one. */
  durationMs?: number;
  /** A 5xx, aborted by its client, an error, or incomplete. */
  failed: boolean;
}

/** The incoming requests one handler line served. */
export interface HandlerLine {
  /** 0-based line. */
  line: number;
  served: ServedRequest[];
}

/** `POST /checkout/:id`, or the path without its query when there is no route. */
function labelOf(inc: IncomingRequest): string {
  let what = inc.route;
  if (what === undefined) {
    try {
      what = new URL(inc.reqURL).pathname;
    } catch {
      what = inc.reqURL;
    }
  }
  // Control characters would break the one-line label.
  return `${inc.reqMethod} ${what}`.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 80);
}

/** How long a finished incoming request took, ms; undefined while open, or when it did not finish. */
export function servedDuration(inc: IncomingRequest): number | undefined {
  const end = inc.respDoneAt;
  if (end === undefined || inc.reqRecvAt === undefined || inc.aborted || inc.incomplete) return undefined;
  return Math.max(0, end - inc.reqRecvAt);
}

/** Index of incoming requests per handler file and line, updated as they change. */
export class HandlerIndex {
  private readonly byFile = new Map<string, Map<string, ServedRequest>>();
  private readonly fileOf = new Map<string, string>();

  constructor(private readonly system: PathSystem = pathSystem()) {}

  /** Adds or replaces an incoming request (one without a handler is dropped from the index). */
  upsert(inc: IncomingRequest): void {
    const h = inc.handler;
    const path = h ? framePath(h.file, this.system) : undefined;
    const key = path === undefined ? undefined : fileKey(path, this.system);
    const previous = this.fileOf.get(inc.traceID);
    if (previous !== undefined && previous !== key) this.byFile.get(previous)?.delete(inc.traceID);
    if (!h || key === undefined) {
      this.fileOf.delete(inc.traceID);
      return;
    }
    let m = this.byFile.get(key);
    if (!m) this.byFile.set(key, (m = new Map()));
    const status = inc.respStatusCode;
    m.set(inc.traceID, {
      traceID: inc.traceID,
      line: Math.max(0, h.line - 1),
      label: labelOf(inc),
      durationMs: servedDuration(inc),
      failed: !!inc.aborted || !!inc.error || !!inc.incomplete || (typeof status === 'number' && status >= 500),
    });
    this.fileOf.set(inc.traceID, key);
  }

  /** Forgets everything. */
  clear(): void {
    this.byFile.clear();
    this.fileOf.clear();
  }

  /** The handler lines of a file (a path as the editor gives it), in line order. */
  lines(path: string): HandlerLine[] {
    const m = this.byFile.get(fileKey(path, this.system));
    if (!m) return [];
    const byLine = new Map<number, ServedRequest[]>();
    for (const r of m.values()) {
      const list = byLine.get(r.line);
      if (list) list.push(r);
      else byLine.set(r.line, [r]);
    }
    return [...byLine.entries()].sort((a, b) => a[0] - b[0]).map(([line, served]) => ({ line, served }));
  }
}

/** The median of a list of numbers (the mean of the middle two for an even count); undefined when empty. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1]! + s[mid]!) / 2;
}

/** The CodeLens title of a handler line: `served 50 · median 120 ms · 2 failed · POST /checkout/:id`. */
export function handlerLensTitle(a: HandlerLine): string {
  const n = a.served.length;
  const parts = [`served ${n}`];
  const mid = median(a.served.flatMap((r) => (r.durationMs === undefined ? [] : [r.durationMs])));
  if (mid !== undefined) parts.push(`median ${formatMs(mid)} ms`);
  const failed = a.served.filter((r) => r.failed).length;
  if (failed > 0) parts.push(`${failed} failed`);
  const labels = new Set(a.served.map((r) => r.label));
  parts.push(labels.size === 1 ? [...labels][0]! : `${labels.size} routes`);
  // `$(name)` in a CodeLens title renders an icon: keep network text from doing that.
  return parts.join(' · ').replace(/\$\(/g, '$\u200b(');
}
