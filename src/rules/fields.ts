/**
 * What a condition can look at: the facts of one request, as it starts and as it ends, and of
 * the process it runs in. The preload fills RequestStartView/RequestEndView from what its hooks
 * already hold; RequestFacts derives the rest (URL, path, query) only when a condition asks.
 */
import type { ErrorPhase, HttpClientKind } from '../trace/contract/types';

/** A request as it starts: what every hook knows before the request leaves. */
export interface RequestStartView {
  /** The method; compared case-insensitively (upper-cased here). */
  method: string;
  /** "http" or "https" ("ws"/"wss" for WebSocket clients that say so). */
  scheme: string;
  /** The host name or IP address, without port or IPv6 brackets. */
  host: string;
  /** The port, the scheme's default when the program gave none. */
  port: number;
  /** The request target as sent: path and query, e.g. "/v1/users?page=2". */
  target: string;
  client: HttpClientKind;
  /** A request header's value by lower-case name (several values joined with ", "), if any. */
  header?: (lowerName: string) => string | undefined;
  /** The full URL when the hook already has it; otherwise built from the parts on demand. */
  url?: string;
}

/** A request as it ends (absent fields: not known, e.g. no status for a failed request). */
export interface RequestEndView {
  status?: number;
  error?: { code?: string; phase?: ErrorPhase; timedOut?: boolean; aborted?: boolean } | null;
  /** From the program's start of the request to its end, in milliseconds. */
  durationMs?: number;
  /** Request body bytes sent. */
  reqSize?: number;
  /** Response body bytes received. */
  respSize?: number;
}

/** The process (or worker thread) a rule engine runs in; constant for its life. */
export interface ProcessFacts {
  pid: number;
  threadId: number;
  /** The command line, e.g. "node server.js --port 3000" (process.argv0 and argv[1..] joined). */
  command: string;
}

/** The facts of one request that conditions read; derived parts are computed once, on demand. */
export class RequestFacts {
  // Fields are assigned in the constructor only (`declare`: no class-field definitions), so every
  // instance has one shape and building one costs a few stores: the preload makes one per request.
  /** Tags given so far by `mark` rules (those decided at the start). */
  declare tags: string[] | null;
  declare end: RequestEndView | null;
  declare readonly start: RequestStartView;
  declare private methodValue: string | undefined;
  declare private hostValue: string | undefined;
  declare private pathValue: string | undefined;
  declare private queryValue: string | undefined;
  declare private schemeValue: string | undefined;
  declare private urlValue: string | undefined;

  constructor(start: RequestStartView) {
    this.start = start;
    this.tags = null;
    this.end = null;
    this.methodValue = undefined;
    this.hostValue = undefined;
    this.pathValue = undefined;
    this.queryValue = undefined;
    this.schemeValue = undefined;
    this.urlValue = undefined;
  }

  /** The method, upper-cased. */
  get method(): string {
    return (this.methodValue ??= toUpper(this.start.method));
  }

  /** The host, lower-cased. */
  get host(): string {
    return (this.hostValue ??= this.start.host.toLowerCase());
  }

  /** The scheme, lower-cased. */
  get scheme(): string {
    return (this.schemeValue ??= this.start.scheme.toLowerCase());
  }

  get url(): string {
    if (this.urlValue === undefined) {
      const s = this.start;
      if (s.url !== undefined) this.urlValue = s.url;
      else if (s.target[0] !== '/' && s.target.includes('://'))
        this.urlValue = s.target; // absolute-form (through a proxy)
      else {
        const host = this.host.includes(':') ? `[${this.host}]` : this.host;
        const defaultPort = (this.scheme === 'https' || this.scheme === 'wss' ? 443 : 80) === s.port;
        this.urlValue = `${this.scheme}://${host}${defaultPort ? '' : `:${s.port}`}${s.target.startsWith('/') ? '' : '/'}${s.target}`;
      }
    }
    return this.urlValue;
  }

  /** The target's path, without query or fragment. */
  get path(): string {
    if (this.pathValue === undefined) this.split();
    return this.pathValue as string;
  }

  /** The raw query string, without "?" ("" when none). */
  get query(): string {
    if (this.queryValue === undefined) this.split();
    return this.queryValue as string;
  }

  /**
   * The first value of a query parameter (decoded as URLSearchParams would: "+" is a space,
   * bad escapes kept), or undefined. Scans the query string: no URLSearchParams per request.
   */
  queryParam(key: string): string | undefined {
    const q = this.query;
    let at = 0;
    while (at <= q.length) {
      let amp = q.indexOf('&', at);
      if (amp === -1) amp = q.length;
      if (amp > at) {
        const eq = q.indexOf('=', at);
        const nameEnd = eq === -1 || eq > amp ? amp : eq;
        const name = q.slice(at, nameEnd);
        if (name === key || decodeQueryPart(name) === key) return nameEnd === amp ? '' : decodeQueryPart(q.slice(nameEnd + 1, amp));
      }
      at = amp + 1;
    }
    return undefined;
  }

  header(lowerName: string): string | undefined {
    const get = this.start.header;
    return get === undefined ? undefined : get(lowerName);
  }

  private split(): void {
    let t = this.start.target;
    // Absolute-form target ("http://host/path", an HTTP request through a proxy): the path starts after the authority.
    const scheme = t[0] === '/' ? -1 : t.indexOf('://');
    if (scheme !== -1) {
      const slash = t.indexOf('/', scheme + 3);
      const rest = slash === -1 ? '' : t.slice(slash);
      const other = t.slice(scheme + 3).search(/[?#]/);
      t = slash === -1 || (other !== -1 && other + scheme + 3 < slash) ? `/${other === -1 ? '' : t.slice(scheme + 3 + other)}` : rest;
    }
    const hash = t.indexOf('#');
    const q = t.indexOf('?');
    const stop = hash === -1 ? t.length : hash;
    if (q !== -1 && q < stop) {
      this.pathValue = t.slice(0, q);
      this.queryValue = t.slice(q + 1, stop);
    } else {
      this.pathValue = t.slice(0, stop);
      this.queryValue = '';
    }
  }
}

/**
 * `s.toUpperCase()`, skipped when there is nothing to change: for a 3–7 letter method the scan
 * is cheaper than the call (~50 ns on the benchmark's machine, even for an upper-case string).
 */
function toUpper(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 122) || c > 127) return s.toUpperCase();
  }
  return s;
}

/** Decodes one name or value of a query string ("+" as space; a malformed escape left as is). */
function decodeQueryPart(s: string): string {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s;
  const spaced = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/%[0-9a-fA-F]{2}/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
  }
}

/** The value kinds a field can have; they decide which operators apply. */
export type FieldType = 'string' | 'number' | 'bool' | 'statusClass' | 'tags';

/** When a field is known: at the start of a request, at its end, or for the whole process. */
export type FieldPhase = 'start' | 'end' | 'process';

/** One field of the condition language. */
export interface FieldDef {
  name: string;
  type: FieldType;
  phase: FieldPhase;
  /** Number fields that take a unit: durations (ms, s, m) or sizes (b, kb, kib, mb, mib, gb, gib). */
  unit?: 'duration' | 'size';
  /** Both sides are lower- or upper-cased before comparing (host, scheme, method, client). */
  fold?: 'lower' | 'upper';
  /** Reads the value; undefined when the request has none. */
  get(f: RequestFacts, p: ProcessFacts, slowMs: number): string | number | boolean | string[] | undefined;
  doc: string;
}

const end = (f: RequestFacts) => f.end ?? undefined;
const failed = (f: RequestFacts) => {
  const e = end(f);
  return e === undefined ? undefined : e.error !== undefined && e.error !== null;
};

/** Every plain field, by lower-case name (`query.<key>` and `header.<name>` are made by fieldFor). */
export const FIELDS: ReadonlyMap<string, FieldDef> = new Map(
  (
    [
      { name: 'method', type: 'string', phase: 'start', fold: 'upper', get: (f) => f.method, doc: 'GET, POST, … (any case)' },
      { name: 'url', type: 'string', phase: 'start', get: (f) => f.url, doc: 'the full URL, e.g. https://api.example.com/v1/users?page=2' },
      { name: 'scheme', type: 'string', phase: 'start', fold: 'lower', get: (f) => f.scheme, doc: 'http or https' },
      { name: 'host', type: 'string', phase: 'start', fold: 'lower', get: (f) => f.host, doc: 'host name or IP address, no port' },
      { name: 'port', type: 'number', phase: 'start', get: (f) => f.start.port, doc: 'the port (the default one when the URL has none)' },
      { name: 'path', type: 'string', phase: 'start', get: (f) => f.path, doc: 'the path, without the query' },
      { name: 'query', type: 'string', phase: 'start', get: (f) => f.query, doc: 'the raw query string, without "?"' },
      {
        name: 'client',
        type: 'string',
        phase: 'start',
        fold: 'lower',
        get: (f) => f.start.client,
        doc: 'http, https, fetch, undici or http2',
      },
      { name: 'tag', type: 'tags', phase: 'start', get: (f) => f.tags ?? undefined, doc: 'tags given by mark rules above this one' },
      { name: 'pid', type: 'number', phase: 'process', get: (_f, p) => p.pid, doc: 'the process id' },
      {
        name: 'threadid',
        type: 'number',
        phase: 'process',
        get: (_f, p) => p.threadId,
        doc: 'the worker thread id (0 on the main thread)',
      },
      { name: 'command', type: 'string', phase: 'process', get: (_f, p) => p.command, doc: 'the command line of the process' },
      {
        name: 'status',
        type: 'number',
        phase: 'end',
        get: (f) => end(f)?.status,
        doc: 'the response status code (none when the request failed before one)',
      },
      {
        name: 'statusclass',
        type: 'statusClass',
        phase: 'end',
        get: (f) => {
          const s = end(f)?.status;
          return s === undefined ? undefined : `${Math.floor(s / 100)}xx`;
        },
        doc: '1xx … 5xx',
      },
      { name: 'failed', type: 'bool', phase: 'end', get: failed, doc: 'the request failed (network error, abort, timeout)' },
      { name: 'errorcode', type: 'string', phase: 'end', get: (f) => end(f)?.error?.code, doc: 'the error code, e.g. ECONNREFUSED' },
      {
        name: 'errorphase',
        type: 'string',
        phase: 'end',
        fold: 'lower',
        get: (f) => end(f)?.error?.phase,
        doc: 'dns, connect, tls, request or response',
      },
      {
        name: 'timedout',
        type: 'bool',
        phase: 'end',
        get: (f) => (end(f) === undefined ? undefined : end(f)?.error?.timedOut === true),
        doc: 'the request ended by a timeout',
      },
      {
        name: 'aborted',
        type: 'bool',
        phase: 'end',
        get: (f) => (end(f) === undefined ? undefined : end(f)?.error?.aborted === true),
        doc: 'the program aborted the request',
      },
      {
        name: 'slow',
        type: 'bool',
        phase: 'end',
        get: (f, _p, slowMs) => {
          const e = end(f);
          if (e === undefined) return undefined;
          return !failed(f) && e.durationMs !== undefined && e.durationMs > slowMs;
        },
        doc: 'succeeded, and took longer than the slow threshold (slowThresholdMs, default 1000 ms)',
      },
      {
        name: 'duration',
        type: 'number',
        phase: 'end',
        unit: 'duration',
        get: (f) => end(f)?.durationMs,
        doc: 'from start to end, in ms (or with a unit: 250ms, 1.5s, 2m)',
      },
      {
        name: 'reqsize',
        type: 'number',
        phase: 'end',
        unit: 'size',
        get: (f) => end(f)?.reqSize,
        doc: 'request body bytes (or with a unit: 10kb, 1mib)',
      },
      { name: 'respsize', type: 'number', phase: 'end', unit: 'size', get: (f) => end(f)?.respSize, doc: 'response body bytes' },
    ] as FieldDef[]
  ).map((d) => [d.name, d]),
);

/** The field a name denotes (case-insensitive), including `query.<key>` and `header.<name>`; undefined when unknown. */
export function fieldFor(name: string): FieldDef | undefined {
  const lower = name.toLowerCase();
  const plain = FIELDS.get(lower);
  if (plain !== undefined) return plain;
  if (lower.startsWith('query.') && name.length > 6) return queryField(name.slice(6));
  if (lower.startsWith('header.') && name.length > 7) return headerField(lower.slice(7));
  return undefined;
}

/** The field `query.<key>` (key case-sensitive, as in URLs). */
export function queryField(key: string): FieldDef {
  return { name: `query.${key}`, type: 'string', phase: 'start', get: (f) => f.queryParam(key), doc: 'a query parameter' };
}

/** The field `header.<name>` (name case-insensitive). */
export function headerField(name: string): FieldDef {
  const lower = name.toLowerCase();
  return { name: `header.${lower}`, type: 'string', phase: 'start', get: (f) => f.header(lower), doc: 'a request header' };
}
