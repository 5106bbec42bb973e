/**
 * What-if actions (issue 51): rules that change what the program receives — `fail`, `delay`,
 * `throttle`, `respond`, `override`. validateWhatIf checks every action and kind of the model
 * (docs/rules.md, "What-if actions") and returns its typed parameters; WHAT_IF_IMPLEMENTED is the
 * one table of what the preload does per client family, so a kind a family lacks is never silently
 * ignored (refused when no family has it; otherwise named in a warning, and the rule is not read
 * for that family's requests). A file of its own (types only from the trace format), so the
 * preload's what-if code reads it without the engine.
 */
import type { WhatIfDelay, WhatIfFail, WhatIfOverride, WhatIfRespond, WhatIfThrottle } from '../trace/contract/ruleTypes';

/** The actions that change what the program receives. */
export type WhatIfAction = 'fail' | 'delay' | 'throttle' | 'respond' | 'override';

/** Every what-if action, in the order the docs list them. */
export const WHAT_IF_ACTIONS: readonly WhatIfAction[] = ['fail', 'delay', 'throttle', 'respond', 'override'];

/** How a `fail` rule fails the request (docs/rules.md). */
export type FailKind = 'refused' | 'reset' | 'dns-notfound' | 'tls' | 'timeout' | 'status';

/** Every fail kind of the model. */
export const FAIL_KINDS: readonly FailKind[] = ['refused', 'reset', 'dns-notfound', 'tls', 'timeout', 'status'];

/** Where a `reset` cuts the connection. */
export const RESET_AT = ['before-response', 'mid-body'] as const;
/** What is wrong with the certificate of a `tls` failure. */
export const TLS_FAILURES = ['expired', 'wrong-host'] as const;
/** The phases a `delay` rule can hold back. */
export const DELAY_PHASES = ['connect', 'first-byte'] as const;

/** A `fail` rule's parameters, per kind (the trace format's type: a saved trace's rules carry them). */
export type FailSpec = WhatIfFail;
/** A `delay` rule's parameters: a fixed `ms`, or a random duration between `ms` and `maxMs`. */
export type DelaySpec = WhatIfDelay;
/** A `throttle` rule's parameters: a preset name or bytes per second (rateOf gives the number). */
export type ThrottleSpec = WhatIfThrottle;
/** A `respond` rule's answer (the server is not contacted): a body or a file to read it from. */
export type RespondSpec = WhatIfRespond;
/** An `override` rule's changes to the real response (`null` removes a header). */
export type OverrideSpec = WhatIfOverride;

/** A what-if rule's parameters, under the property named as its action (as the rule holds them). */
export type WhatIfSpec =
  { fail: FailSpec } | { delay: DelaySpec } | { throttle: ThrottleSpec } | { respond: RespondSpec } | { override: OverrideSpec };

/** A rule's what-if parameters as Rule carries them (one property set, named as the action). */
export interface WhatIfParams {
  fail?: FailSpec;
  delay?: DelaySpec;
  throttle?: ThrottleSpec;
  respond?: RespondSpec;
  override?: OverrideSpec;
}

/** DevTools' throttling presets, as download bytes per second (DevTools: 400 kbit/s and 9 Mbit/s less overhead). */
export const THROTTLE_PRESETS: Readonly<Record<string, number>> = { 'slow 3G': 50_000, 'fast 4G': 1_125_000 };

/** The properties a what-if rule may carry, one per action (named as the action). */
export const WHAT_IF_KEYS: readonly WhatIfAction[] = WHAT_IF_ACTIONS;

/** The client families the preload acts in: http/https ClientRequest, fetch/undici, http2. */
export type WhatIfFamily = 'http' | 'undici' | 'http2';

/** The family of each client (`client` of docs/rules.md). */
export const WHAT_IF_FAMILY: Readonly<Record<string, WhatIfFamily>> = {
  http: 'http',
  https: 'http',
  fetch: 'undici',
  undici: 'undici',
  http2: 'http2',
};

/** Names of what a rule does, as WHAT_IF_IMPLEMENTED lists them (whatIfKey). */
export type WhatIfKey =
  | 'fail refused'
  | 'fail dns-notfound'
  | 'fail reset'
  | 'fail reset mid-body'
  | 'fail tls expired'
  | 'fail tls wrong-host'
  | 'fail timeout'
  | 'fail status'
  | 'delay connect'
  | 'delay first-byte'
  | 'throttle'
  | 'respond'
  | 'override';

/**
 * THE table of what the preload implements, per family (one line each, so each family's work
 * changes its own line). A rule whose key no family has is refused; one some family lacks is named
 * in a warning (whatIfGaps) and not read for that family's requests (the engine: whatIfClients).
 */
export const WHAT_IF_IMPLEMENTED: Readonly<Record<WhatIfFamily, readonly WhatIfKey[]>> = {
  http: [
    'fail refused',
    'fail dns-notfound',
    'fail reset',
    'fail reset mid-body',
    'fail tls expired',
    'fail tls wrong-host',
    'fail timeout',
    'fail status',
    'delay connect',
    'delay first-byte',
    'throttle',
    'respond',
    'override',
  ],
  undici: [
    'fail refused',
    'fail dns-notfound',
    'fail reset',
    'fail reset mid-body',
    'fail tls expired',
    'fail tls wrong-host',
    'fail timeout',
    'fail status',
    'delay connect',
    'delay first-byte',
    'throttle',
    'respond',
    'override',
  ],
  http2: [
    'fail refused',
    'fail dns-notfound',
    'fail reset',
    'fail reset mid-body',
    'fail tls expired',
    'fail tls wrong-host',
    'fail timeout',
    'fail status',
    'delay connect',
    'delay first-byte',
    'throttle',
    'respond',
    'override',
  ],
};

/** The key of what a rule does (`fail reset mid-body`, `fail tls expired`, `delay connect`, `throttle`, …). */
export function whatIfKey(action: WhatIfAction, p: WhatIfParams): WhatIfKey {
  if (action === 'fail' && p.fail !== undefined) {
    const f = p.fail;
    if (f.kind === 'tls') return `fail tls ${f.tls}`;
    return (f.kind === 'reset' && f.at === 'mid-body' ? 'fail reset mid-body' : `fail ${f.kind}`) as WhatIfKey;
  }
  if (action === 'delay' && p.delay !== undefined) return `delay ${p.delay.phase}`;
  return action as WhatIfKey;
}

/** The families that implement a what-if rule. */
export function whatIfFamilies(action: WhatIfAction, p: WhatIfParams): WhatIfFamily[] {
  const key = whatIfKey(action, p);
  return (Object.keys(WHAT_IF_IMPLEMENTED) as WhatIfFamily[]).filter((f) => WHAT_IF_IMPLEMENTED[f].includes(key));
}

/** The clients (`http`, `fetch`, …) whose requests a what-if rule acts on. */
export function whatIfClients(action: WhatIfAction, p: WhatIfParams): Set<string> {
  const fams = whatIfFamilies(action, p);
  return new Set(Object.keys(WHAT_IF_FAMILY).filter((c) => fams.includes(WHAT_IF_FAMILY[c])));
}

const FAMILY_WORDS: Record<WhatIfFamily, string> = { http: 'http/https', undici: 'fetch/undici', http2: 'http2' };

/**
 * A warning for a what-if rule some family does not implement yet ("fail tls expired is not implemented
 * yet for fetch/undici, http2: the rule is not read for their requests"), or undefined.
 */
export function whatIfGaps(action: WhatIfAction, p: WhatIfParams): string | undefined {
  const fams = whatIfFamilies(action, p);
  const missing = (Object.keys(WHAT_IF_IMPLEMENTED) as WhatIfFamily[]).filter((f) => !fams.includes(f));
  if (missing.length === 0) return undefined;
  return `${whatIfKey(action, p)} is not implemented yet for ${missing.map((f) => FAMILY_WORDS[f]).join(', ')}: the rule is not read for their requests (see "What-if actions" in docs/rules.md)`;
}

/**
 * What a rule's `matched` counts: "TLS request" for a `fail tls` rule (read only for requests over
 * TLS: a plain request is neither matched nor counted), "request" for every other rule.
 */
export function matchedNoun(r: { action: string; fail?: { kind?: string } }): string {
  return r.action === 'fail' && r.fail?.kind === 'tls' ? 'TLS request' : 'request';
}

/** True for an action that changes what the program receives. */
export function isWhatIf(action: string): action is WhatIfAction {
  return (WHAT_IF_ACTIONS as readonly string[]).includes(action);
}

type Bad = (field: string, msg: string) => never;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const MAX_MS = 3_600_000;
/** The most a rule's body may be: `body`, characters; `bodyFile`, the file's bytes (1 MiB). */
export const MAX_BODY = 1_048_576;

/** What a `bodyFile` check reads of a file (node:fs Stats, from fstat on the descriptor opened for it). */
export interface BodyFileStat {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  size: number;
}

/**
 * Why a file cannot be a `respond` rule's body, in words that follow its path ("is a FIFO …"), or
 * undefined for a regular file of at most MAX_BODY bytes. `code`: the error opening it gave
 * (ELOOP: opened without following links, the path is a symbolic link). One wording for the CLI
 * and the preload, which open the file themselves (src/rules reads no file).
 */
export function bodyFileProblem(st: BodyFileStat | undefined, code?: string, message?: string): string | undefined {
  if (code === 'ELOOP') return 'is a symbolic link (name the file itself: a link is not followed)';
  if (code === 'ENOENT') return 'does not exist';
  if (code !== undefined || st === undefined) return `cannot be read (${message ?? code ?? 'unknown error'})`;
  if (st.isDirectory()) return 'is a directory, not a file';
  if (st.isFIFO()) return 'is a FIFO (a named pipe), not a regular file';
  if (!st.isFile()) return 'is not a regular file (a device or a socket)';
  if (st.size > MAX_BODY) return `is ${st.size} bytes, over the ${MAX_BODY} bytes (1 MiB) a body may have`;
  return undefined;
}

/** Checks the keys of a parameter object: only `allowed`. */
function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], field: string, what: string, bad: Bad): void {
  for (const key of Object.keys(o)) if (!allowed.includes(key)) bad(field, `${what} takes no "${key}" (it takes ${allowed.join(', ')})`);
}

function statusOf(v: unknown, field: string, bad: Bad): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 100 || v > 999)
    return bad(field, `"status" must be a whole number from 100 to 999`);
  return v;
}

function msOf(v: unknown, name: string, field: string, bad: Bad): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_MS)
    return bad(field, `"${name}" must be a number of milliseconds from 0 to ${MAX_MS}`);
  return v;
}

function bodyOf(v: unknown, field: string, bad: Bad): string {
  if (typeof v !== 'string' || v.length > MAX_BODY) return bad(field, `"body" must be a string of at most ${MAX_BODY} characters`);
  return v;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Response headers: names HTTP tokens, values strings without line breaks (null too when `nullable`). */
function headersOf(v: unknown, field: string, nullable: boolean, bad: Bad): Record<string, string | null> {
  if (!isObject(v)) return bad(field, `"headers" must be an object { "name": "value", … }`);
  const out: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(v)) {
    if (!TOKEN.test(name)) bad(field, `header name ${JSON.stringify(name)} is not a valid HTTP header name`);
    if (value === null && nullable) out[name] = null;
    else if (typeof value !== 'string' || /[\r\n\0]/.test(value))
      bad(field, `header ${JSON.stringify(name)} must be a string without line breaks${nullable ? ' (or null to remove it)' : ''}`);
    else out[name] = value;
  }
  return out;
}

function failSpec(value: unknown, bad: Bad): FailSpec {
  if (value === undefined) bad('fail', `a fail rule needs "fail": one of ${FAIL_KINDS.join(', ')} (or { "kind": … })`);
  const spec = typeof value === 'string' ? { kind: value } : value;
  if (!isObject(spec) || typeof spec.kind !== 'string')
    return bad('fail', `"fail" must be a kind (${FAIL_KINDS.join(', ')}) or an object { "kind": … }`);
  const kind = spec.kind;
  const what = `"fail" of kind "${kind}"`;
  switch (kind) {
    case 'refused':
    case 'dns-notfound':
    case 'timeout':
      onlyKeys(spec, ['kind'], 'fail', what, bad);
      return { kind };
    case 'reset': {
      onlyKeys(spec, ['kind', 'at', 'afterBytes'], 'fail', what, bad);
      const at = spec.at ?? (spec.afterBytes !== undefined ? 'mid-body' : 'before-response');
      if (!(RESET_AT as readonly unknown[]).includes(at)) bad('fail', `"at" must be one of ${RESET_AT.join(', ')}`);
      if (at === 'before-response') {
        if (spec.afterBytes !== undefined) bad('fail', '"afterBytes" applies only to a reset "at": "mid-body"');
        return { kind, at: 'before-response' };
      }
      const n = spec.afterBytes ?? 0;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) bad('fail', '"afterBytes" must be a whole number ≥ 0');
      return { kind, at: 'mid-body', afterBytes: n as number };
    }
    case 'tls':
      onlyKeys(spec, ['kind', 'tls'], 'fail', what, bad);
      if (!(TLS_FAILURES as readonly unknown[]).includes(spec.tls)) bad('fail', `"tls" must be one of ${TLS_FAILURES.join(', ')}`);
      return { kind, tls: spec.tls as (typeof TLS_FAILURES)[number] };
    case 'status': {
      onlyKeys(spec, ['kind', 'status', 'headers', 'body'], 'fail', what, bad);
      const out: FailSpec = { kind, status: statusOf(spec.status, 'fail', bad) };
      if (spec.headers !== undefined) out.headers = headersOf(spec.headers, 'fail', false, bad) as Record<string, string>;
      if (spec.body !== undefined) out.body = bodyOf(spec.body, 'fail', bad);
      return out;
    }
  }
  return bad('fail', `unknown fail kind "${kind}": one of ${FAIL_KINDS.join(', ')}`);
}

function delaySpec(value: unknown, bad: Bad): DelaySpec {
  const spec = typeof value === 'number' ? { ms: value } : value;
  if (!isObject(spec)) return bad('delay', '"delay" must be a number of milliseconds or { "phase", "ms", "maxMs" }');
  onlyKeys(spec, ['phase', 'ms', 'maxMs'], 'delay', '"delay"', bad);
  const phase = spec.phase ?? 'first-byte';
  if (!(DELAY_PHASES as readonly unknown[]).includes(phase)) bad('delay', `"phase" must be one of ${DELAY_PHASES.join(', ')}`);
  const out: DelaySpec = { phase: phase as DelaySpec['phase'], ms: msOf(spec.ms, 'ms', 'delay', bad) };
  if (spec.maxMs !== undefined) {
    out.maxMs = msOf(spec.maxMs, 'maxMs', 'delay', bad);
    if (out.maxMs < out.ms) bad('delay', '"maxMs" must be at least "ms"');
  }
  return out;
}

function throttleSpec(value: unknown, bad: Bad): ThrottleSpec {
  const spec = typeof value === 'string' || typeof value === 'number' ? { rate: value } : value;
  if (!isObject(spec)) return bad('throttle', '"throttle" must be a rate ("slow 3G", "fast 4G" or bytes a second) or { "rate": … }');
  onlyKeys(spec, ['rate'], 'throttle', '"throttle"', bad);
  const rate = spec.rate;
  if (typeof rate === 'string') {
    const preset = Object.keys(THROTTLE_PRESETS).find((p) => p.toLowerCase() === rate.trim().toLowerCase());
    if (preset === undefined) bad('throttle', `unknown rate ${JSON.stringify(rate)}: "slow 3G", "fast 4G" or a number of bytes a second`);
    return { rate: preset as ThrottleSpec['rate'] };
  }
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 1 || rate > 1e10)
    bad('throttle', '"rate" must be "slow 3G", "fast 4G" or a number of bytes a second from 1 to 10,000,000,000');
  return { rate: rate as number };
}

function respondSpec(value: unknown, bad: Bad): RespondSpec {
  const spec = typeof value === 'number' ? { status: value } : value;
  if (!isObject(spec)) return bad('respond', '"respond" must be a status or { "status", "headers", "body" | "bodyFile" }');
  onlyKeys(spec, ['status', 'headers', 'body', 'bodyFile'], 'respond', '"respond"', bad);
  const out: RespondSpec = { status: statusOf(spec.status, 'respond', bad) };
  if (spec.headers !== undefined) out.headers = headersOf(spec.headers, 'respond', false, bad) as Record<string, string>;
  if (spec.body !== undefined && spec.bodyFile !== undefined) bad('respond', '"respond" takes "body" or "bodyFile", not both');
  if (spec.body !== undefined) out.body = bodyOf(spec.body, 'respond', bad);
  if (spec.bodyFile !== undefined) {
    if (typeof spec.bodyFile !== 'string' || spec.bodyFile === '' || spec.bodyFile.length > 4096 || spec.bodyFile.includes('\0'))
      bad('respond', '"bodyFile" must be a file path');
    out.bodyFile = spec.bodyFile as string;
  }
  return out;
}

function overrideSpec(value: unknown, bad: Bad): OverrideSpec {
  const spec = typeof value === 'number' ? { status: value } : value;
  if (!isObject(spec)) return bad('override', '"override" must be a status or { "status", "headers", "body" }');
  onlyKeys(spec, ['status', 'headers', 'body'], 'override', '"override"', bad);
  const out: OverrideSpec = {};
  if (spec.status !== undefined) out.status = statusOf(spec.status, 'override', bad);
  if (spec.headers !== undefined) out.headers = headersOf(spec.headers, 'override', true, bad);
  if (spec.body !== undefined) out.body = bodyOf(spec.body, 'override', bad);
  if (Object.keys(out).length === 0) bad('override', '"override" changes nothing: give "status", "headers" or "body"');
  return out;
}

/**
 * Checks the parameter property of a what-if rule (`fail`, `delay`, …, named as its action) for
 * every kind of the model and returns it normalized, under that name; says nothing of what is
 * implemented (validateWhatIf does).
 */
export function parseWhatIf(action: WhatIfAction, value: unknown, bad: Bad): WhatIfSpec {
  switch (action) {
    case 'fail':
      return { fail: failSpec(value, bad) };
    case 'delay':
      return { delay: delaySpec(value, bad) };
    case 'throttle':
      return { throttle: throttleSpec(value, bad) };
    case 'respond':
      return { respond: respondSpec(value, bad) };
    default:
      return { override: overrideSpec(value, bad) };
  }
}

/**
 * parseWhatIf, and what no client family implements yet is an error naming it
 * (WHAT_IF_IMPLEMENTED). A parameter property on a rule of another action is checked by the caller.
 */
export function validateWhatIf(action: WhatIfAction, value: unknown, bad: Bad): WhatIfSpec {
  const spec = parseWhatIf(action, value, bad);
  if (whatIfFamilies(action, spec).length === 0)
    bad(
      action === 'fail' ? 'fail' : 'action',
      `${whatIfKey(action, spec)} is not implemented yet for any client (see "What-if actions" in docs/rules.md)`,
    );
  return spec;
}

/** Bytes a second of a throttle rate. */
export function rateOf(spec: ThrottleSpec): number {
  return typeof spec.rate === 'number' ? spec.rate : THROTTLE_PRESETS[spec.rate];
}

const STATUS_OPTION = /^\d{3}$/;

/**
 * The one-line form's what-if option as the rule property's value, or undefined when `key` is not
 * a what-if option (docs/rules.md): `fail=refused|dns-notfound|timeout|reset`, `fail=reset:N` (reset
 * after N body bytes), `fail=tls-expired|tls-wrong-host`, `fail=503`; `delay=200`, `delay=100-300`,
 * `delay=connect:200`; `throttle=slow-3G|fast-4G|50000` (or quoted `"slow 3G"`); `respond=503`,
 * `respond=200:@path` (the body from a file); `override=503`. A value it cannot read is handed to
 * validation as is, which words the error.
 */
export function whatIfOption(key: string, value: string): unknown {
  const v = value.replace(/^"(.*)"$/, '$1');
  switch (key) {
    case 'fail': {
      if (STATUS_OPTION.test(v)) return { kind: 'status', status: Number(v) };
      const reset = /^reset:(\d+)$/.exec(v);
      if (reset) return { kind: 'reset', at: 'mid-body', afterBytes: Number(reset[1]) };
      const tls = /^tls-(.+)$/.exec(v);
      if (tls) return { kind: 'tls', tls: tls[1] };
      return { kind: v };
    }
    case 'delay': {
      const m = /^(?:(connect|first-byte):)?(\d+(?:\.\d+)?)(?:ms)?(?:-(\d+(?:\.\d+)?)(?:ms)?)?$/.exec(v);
      if (!m) return v;
      const out: Record<string, unknown> = { phase: m[1] ?? 'first-byte', ms: Number(m[2]) };
      if (m[3] !== undefined) out.maxMs = Number(m[3]);
      return out;
    }
    case 'throttle':
      return { rate: /^\d+(\.\d+)?$/.test(v) ? Number(v) : v.replace(/-/g, ' ') };
    case 'respond': {
      const m = /^(\d{3})(?::@(.+))?$/.exec(v);
      if (!m) return v;
      return m[2] !== undefined ? { status: Number(m[1]), bodyFile: m[2] } : { status: Number(m[1]) };
    }
    case 'override':
      return STATUS_OPTION.test(v) ? { status: Number(v) } : v;
  }
  return undefined;
}

/** A short description of what a what-if rule does, for messages, the CLI and the trace ("fail refused", "delay first-byte 200 ms"). */
export function describeWhatIf(action: WhatIfAction, p: WhatIfParams | undefined): string {
  if (p === undefined) return action;
  switch (action) {
    case 'fail': {
      const f = p.fail;
      if (f === undefined) return action;
      if (f.kind === 'reset') return f.at === 'mid-body' ? `fail reset after ${f.afterBytes ?? 0} body bytes` : 'fail reset';
      if (f.kind === 'tls') return `fail tls ${f.tls}`;
      if (f.kind === 'status') return `fail status ${f.status}`;
      return `fail ${f.kind}`;
    }
    case 'delay': {
      const d = p.delay;
      if (d === undefined) return action;
      return `delay ${d.phase} ${d.ms}${d.maxMs !== undefined ? `–${d.maxMs}` : ''} ms`;
    }
    case 'throttle':
      return p.throttle === undefined
        ? action
        : `throttle ${typeof p.throttle.rate === 'number' ? `${p.throttle.rate} B/s` : p.throttle.rate}`;
    case 'respond':
      return p.respond === undefined ? action : `respond ${p.respond.status}${p.respond.bodyFile !== undefined ? ' from a file' : ''}`;
    default: {
      const o = p.override;
      if (o === undefined) return action;
      const parts = [o.status !== undefined ? `status ${o.status}` : '', o.headers ? 'headers' : '', o.body !== undefined ? 'body' : ''];
      return `override ${parts.filter(Boolean).join(', ')}`;
    }
  }
}

/** Copies a rule's what-if parameters (whichever property it has) onto `to`. */
export function copyWhatIf(from: WhatIfParams, to: WhatIfParams): void {
  for (const key of WHAT_IF_KEYS) {
    const v = from[key];
    if (v !== undefined) (to as Record<string, unknown>)[key] = JSON.parse(JSON.stringify(v));
  }
}
