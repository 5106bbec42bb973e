/**
 * The hooks' side of the trace rules (docs/rules.md, "Consulting rules in the preload's hot
 * path"): one start question and one end question, shared by the http/https, undici/fetch and
 * http2 hooks. A hook reads `preloadRules.mode` itself (one field read: 'all' runs today's code);
 * only in 'none' or 'rules' does it build a start view and call `ruleStart`.
 */

import { F, type RecordWriter } from '../../protocol/recordWriter';
import type { HttpClientKind } from '../../trace/contract/types';
import type { EndDecision, RequestEndView, RequestStartView, StartDecision } from '../../rules';
import { DETAIL_BIT, TRACE_ALL } from '../../rules/details';
import { preloadRules } from './preloadRules';
import { breakOnRequest } from './breakOnRequest';
import { startMark } from './whatIfMarks';
import type { Tracer } from '../tracer';

/**
 * The start decision for a request, or null when it is not to be recorded (mode 'none', or a
 * `skip`). Call only when `preloadRules.mode !== 'all'`; `view` undefined (the hook could not
 * build one) records the request. Never throws: on a failure the request is recorded (today's
 * behaviour) and a warning says why. `breakDecided`: the break rules were decided (and acted on)
 * at an earlier observation point (ruleBreakEarly).
 */
export function ruleStart(t: Tracer, view: RequestStartView | undefined, breakDecided = false): StartDecision | null {
  if (preloadRules.mode === 'none') return null;
  if (view === undefined) return TRACE_ALL;
  try {
    const d = preloadRules.decideStart(view, breakDecided);
    // A `break` rule pauses here, before the request leaves (recorded or not).
    if (d.breakRule !== null) breakOnRequest(t, d, view);
    return d.record ? d : null;
  } catch (err) {
    warnOnce(t, err);
    return TRACE_ALL;
  }
}

/**
 * ruleStart's decision whole (record or not), for an observation point that may have to take its
 * count back because the request is not made after all (PreloadRules.uncountStart). Call only in
 * mode 'rules' while `preloadRules.countsUndoable` (no break rule then). Never throws.
 */
export function ruleStartUndoable(t: Tracer, view: RequestStartView): StartDecision {
  try {
    return preloadRules.decideStart(view);
  } catch (err) {
    warnOnce(t, err);
    return TRACE_ALL;
  }
}

/**
 * The break rules, decided at an observation point earlier than the one that decides the rest
 * (the global fetch() wrapper, where the program's call is still on the stack): pauses here when
 * one acts. True when they were decided (pass `breakDecided` to the later ruleStart). Call only in
 * mode 'rules'. Never throws.
 */
export function ruleBreakEarly(t: Tracer, view: RequestStartView): boolean {
  if (!preloadRules.hasBreak) return false;
  try {
    const d = preloadRules.decideBreak(view);
    if (d !== null) breakOnRequest(t, d, view);
    return true;
  } catch (err) {
    warnOnce(t, err);
    return false;
  }
}

/**
 * The fields a recorded request's first record gets from its start decision (`marks`, `whatIf`),
 * written to its update (`id`: the record's, for a what-if mark that comes later: whatIfMarks.ts
 * startMark). Cheap when no mark rule matched.
 */
export function ruleStartFields(d: StartDecision | undefined, w: RecordWriter, id?: string): void {
  if (d !== undefined && d.tags !== null && d.tags.length > 0) w.any(F.marks, d.tags.slice());
  if (d !== undefined && d.whatIf !== null && d.whatIf !== undefined) {
    const mark = startMark(d, id);
    if (mark !== undefined) w.any(F.whatIf, mark);
  }
}

/**
 * True when a request's bodies are to be captured: the `bodies` option, or a `details` rule with
 * `bodies` that acts on it (decided, or pending: captured while in flight, see ruleEnd).
 */
export function wantsBodies(t: Tracer, d: StartDecision | undefined): boolean {
  return t.config.bodies || (d !== undefined && (d.details & DETAIL_BIT.bodies) !== 0);
}

/**
 * Asks the rules what to keep of a request that ends, when its start decision was `pending`, and
 * adds to `fields` what follows: `marks` given at the end, or `ruleDropped: true` when the request
 * is not to be kept (the collector removes such a record; see docs/rules.md). Never throws.
 */
export function ruleEnd(
  t: Tracer,
  d: StartDecision | undefined,
  view: RequestEndView,
  fields: Record<string, unknown>,
): EndDecision | undefined {
  if (d === undefined || !d.pending) return undefined;
  try {
    const e = preloadRules.decideEnd(d, view);
    if (!e.keep) fields.ruleDropped = true;
    // Bodies captured for a pending `details` rule that did not match at the end: the response's
    // is not sent (the request's went with its first record).
    else if (!t.config.bodies && (e.details & DETAIL_BIT.bodies) === 0) delete fields.respBody;
    if (e.keep && e.tags !== null && e.tags.length > 0 && e.tags !== d.tags) fields.marks = e.tags.slice();
    return e;
  } catch (err) {
    warnOnce(t, err);
    return undefined;
  }
}

/** The scheme's default port. */
function defaultPort(scheme: string): number {
  return scheme === 'https' || scheme === 'wss' ? 443 : 80;
}

/**
 * A start view from an absolute URL string (undici, fetch, http2 origins), or undefined when the
 * URL does not parse (the request is then recorded as today).
 */
export function viewFromUrl(
  method: string,
  url: string,
  client: HttpClientKind,
  header: ((lowerName: string) => string | undefined) | undefined,
): RequestStartView | undefined {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd <= 0) return undefined;
  const scheme = url.slice(0, schemeEnd).toLowerCase();
  const authStart = schemeEnd + 3;
  let pathStart = url.indexOf('/', authStart);
  const q = url.indexOf('?', authStart);
  if (q !== -1 && (pathStart === -1 || q < pathStart)) pathStart = q;
  if (pathStart === -1) pathStart = url.length;
  let authority = url.slice(authStart, pathStart);
  const at = authority.lastIndexOf('@');
  if (at !== -1) authority = authority.slice(at + 1);
  let host = authority;
  let port = defaultPort(scheme);
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    host = authority.slice(1, close === -1 ? undefined : close);
    const rest = close === -1 ? '' : authority.slice(close + 1);
    if (rest.startsWith(':') && rest.length > 1) port = Number(rest.slice(1)) || port;
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon !== -1) {
      host = authority.slice(0, colon);
      if (colon + 1 < authority.length) port = Number(authority.slice(colon + 1)) || port;
    }
  }
  let target = url.slice(pathStart);
  if (target === '' || target[0] === '?') target = '/' + target;
  const hash = target.indexOf('#');
  if (hash !== -1) target = target.slice(0, hash);
  return { method, scheme, host, port, target, client, header, url };
}

/** A header lookup into a flat [name, value, ...] list (undici's form) or a header block string. */
export function flatLookup(raw: unknown): ((lowerName: string) => string | undefined) | undefined {
  if (Array.isArray(raw)) {
    return (name) => {
      let out: string | undefined;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        if (String(raw[i]).toLowerCase() !== name) continue;
        const v = String(raw[i + 1]);
        out = out === undefined ? v : `${out}, ${v}`;
      }
      return out;
    };
  }
  if (typeof raw === 'string') {
    return (name) => {
      let out: string | undefined;
      for (const line of raw.split('\r\n')) {
        const c = line.indexOf(':');
        if (c <= 0 || line.slice(0, c).trim().toLowerCase() !== name) continue;
        const v = line.slice(c + 1).trim();
        out = out === undefined ? v : `${out}, ${v}`;
      }
      return out;
    };
  }
  return undefined;
}

/** A header lookup into an object of headers (http2's, or Node's getHeader()). */
export function objectLookup(get: (name: string) => unknown): (lowerName: string) => string | undefined {
  return (name) => {
    const v = get(name);
    if (v === undefined || v === null) return undefined;
    return Array.isArray(v) ? v.join(', ') : String(v);
  };
}

/** What httpView reads of a ClientRequest. */
interface ClientRequestLike {
  method: string;
  host?: string;
  path?: string;
  protocol?: string;
  agent?: { protocol?: string };
  getHeader(name: string): unknown;
}

/**
 * The trace rules' view of an http/https request, once http.request() built it. ClientRequest
 * keeps no port: it comes from the Host header Node wrote (host:port when not the default).
 * Each field is read from the request when a condition first asks for it (RequestFacts reads
 * them lazily too): a rule set that decides without it (`skip true`, a `method` rule) costs no
 * header lookup, regex or string built per request.
 */
class HttpStartView implements RequestStartView {
  declare private readonly req: ClientRequestLike;
  declare private schemeValue: string | undefined;
  declare private hostValue: string | undefined;
  declare private portValue: number | undefined;
  declare private headerFn: ((lowerName: string) => string | undefined) | undefined;

  constructor(req: ClientRequestLike) {
    this.req = req;
    this.schemeValue = undefined;
    this.hostValue = undefined;
    this.portValue = undefined;
    this.headerFn = undefined;
  }

  get method(): string {
    return this.req.method;
  }

  get scheme(): 'http' | 'https' {
    return (this.schemeValue ??= (this.req.protocol ?? this.req.agent?.protocol ?? 'http:') === 'https:' ? 'https' : 'http') as
      'http' | 'https';
  }

  get client(): HttpClientKind {
    return this.scheme;
  }

  get host(): string {
    return (this.hostValue ??= String(this.req.host ?? 'localhost').replace(/^\[|\]$/g, ''));
  }

  get port(): number {
    if (this.portValue === undefined) {
      let port = this.scheme === 'https' ? 443 : 80;
      const hostHeader = this.req.getHeader('host');
      if (typeof hostHeader === 'string') {
        const m = /:(\d+)$/.exec(hostHeader);
        if (m) port = Number(m[1]);
      }
      this.portValue = port;
    }
    return this.portValue;
  }

  get target(): string {
    return this.req.path ?? '/';
  }

  get header(): (lowerName: string) => string | undefined {
    const req = this.req;
    return (this.headerFn ??= objectLookup((name) => req.getHeader(name)));
  }

  get url(): undefined {
    return undefined;
  }
}

/** The trace rules' view of an http/https request (see HttpStartView). */
export function httpView(req: ClientRequestLike): RequestStartView {
  return new HttpStartView(req);
}

let warned = false;

function warnOnce(t: Tracer, err: unknown): void {
  if (warned) return;
  warned = true;
  try {
    t.warn(`nettrace: a trace rule could not be evaluated; the request is recorded: ${String((err as Error)?.message ?? err)}`);
  } catch {
    // The transport never throws.
  }
}
