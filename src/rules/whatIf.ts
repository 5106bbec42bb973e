/**
 * What-if actions (issue 51): rules that change what the program receives — `fail`, `delay`,
 * `throttle`, `respond`, `override`. The model covers them all (docs/rules.md, "What-if
 * actions"); validateWhatIf accepts only the kinds the preload implements so far and names the
 * others in a clear error. A file of its own with no imports, so the preload's what-if code reads
 * the types without the engine.
 */

/** The actions that change what the program receives. */
export type WhatIfAction = 'fail' | 'delay' | 'throttle' | 'respond' | 'override';

/** Every what-if action, in the order the docs list them. */
export const WHAT_IF_ACTIONS: readonly WhatIfAction[] = ['fail', 'delay', 'throttle', 'respond', 'override'];

/** How a `fail` rule fails the request (docs/rules.md). */
export type FailKind = 'refused' | 'reset' | 'dns-notfound' | 'tls' | 'timeout' | 'status';

/** Every fail kind of the model. */
export const FAIL_KINDS: readonly FailKind[] = ['refused', 'reset', 'dns-notfound', 'tls', 'timeout', 'status'];

/** The fail kinds the preload implements so far (the others are refused by validateWhatIf). */
export const FAIL_KINDS_DONE: readonly FailKind[] = ['refused', 'dns-notfound'];

/** The what-if actions the preload implements so far. */
export const WHAT_IF_DONE: readonly WhatIfAction[] = ['fail'];

/** A `fail` rule's parameters. */
export interface FailSpec {
  kind: FailKind;
  /** reset: `before-response` (default) or `mid-body` (after `afterBytes` bytes of the body). */
  at?: 'before-response' | 'mid-body';
  afterBytes?: number;
  /** tls: what is wrong with the certificate. */
  tls?: 'expired' | 'wrong-host';
  /** status: the status code, headers and body of the answer. */
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A `delay` rule's parameters: a fixed `ms`, or a random duration between `ms` and `maxMs`. */
export interface DelaySpec {
  phase: 'connect' | 'first-byte';
  ms: number;
  maxMs?: number;
}

/** A `throttle` rule's parameters: a preset name or bytes per second. */
export interface ThrottleSpec {
  rate: 'slow 3G' | 'fast 4G' | number;
}

/** A `respond` rule's answer (the server is not contacted). */
export interface RespondSpec {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  bodyFile?: string;
}

/** An `override` rule's changes to the real response. */
export interface OverrideSpec {
  status?: number;
  headers?: Record<string, string | null>;
  body?: string;
}

/** DevTools' throttling presets, as download bytes per second (DevTools: 400 kbit/s and 9 Mbit/s less overhead). */
export const THROTTLE_PRESETS: Readonly<Record<string, number>> = { 'slow 3G': 50_000, 'fast 4G': 1_125_000 };

/** The properties a what-if rule may carry, one per action (named as the action). */
export const WHAT_IF_KEYS: readonly string[] = WHAT_IF_ACTIONS;

/** True for an action that changes what the program receives. */
export function isWhatIf(action: string): action is WhatIfAction {
  return (WHAT_IF_ACTIONS as readonly string[]).includes(action);
}

type Bad = (field: string, msg: string) => never;

function notYet(what: string, bad: Bad, field: string): never {
  return bad(
    field,
    `${what} is not implemented yet (implemented so far: fail with ${FAIL_KINDS_DONE.join(', ')}; see "What-if actions" in docs/rules.md)`,
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Checks the parameter property of a what-if rule (`fail`, `delay`, …, named as its action) and
 * returns it normalized. A kind the model has but the preload does not implement yet is an error
 * naming it; so is a parameter property on a rule of another action (checked by the caller).
 */
export function validateWhatIf(action: WhatIfAction, value: unknown, bad: Bad): FailSpec {
  if (!(WHAT_IF_DONE as readonly string[]).includes(action)) notYet(`the "${action}" action`, bad, 'action');
  // Only `fail` is implemented: its parameter is a kind ("refused") or { kind, … }.
  if (value === undefined) bad('fail', `a fail rule needs "fail": one of ${FAIL_KINDS.join(', ')} (or { "kind": … })`);
  const spec = typeof value === 'string' ? { kind: value } : value;
  if (!isObject(spec) || typeof spec.kind !== 'string')
    return bad('fail', `"fail" must be a kind (${FAIL_KINDS.join(', ')}) or an object { "kind": … }`);
  const kind = spec.kind;
  if (!(FAIL_KINDS as readonly string[]).includes(kind)) bad('fail', `unknown fail kind "${kind}": one of ${FAIL_KINDS.join(', ')}`);
  if (!(FAIL_KINDS_DONE as readonly string[]).includes(kind)) notYet(`the fail kind "${kind}"`, bad, 'fail');
  for (const key of Object.keys(spec)) if (key !== 'kind') bad('fail', `"fail" of kind "${kind}" takes no "${key}"`);
  return { kind: kind as FailKind };
}

/**
 * The one-line form's what-if option (`fail=refused`) as the rule property's value, or undefined
 * when the option is not one. Only `fail=KIND` so far.
 */
export function whatIfOption(key: string, value: string): unknown {
  return key === 'fail' ? { kind: value } : undefined;
}

/** A short description of what a what-if rule does, for messages, the CLI and the trace ("fail refused"). */
export function describeWhatIf(action: WhatIfAction, spec: FailSpec | undefined): string {
  return spec === undefined ? action : `${action} ${spec.kind}`;
}
