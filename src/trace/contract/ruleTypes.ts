/**
 * The trace rules section of a trace (`traceRules`, docs/trace-format.md and docs/rules.md). Part of the
 * trace contract: imports nothing.
 */

/** The session's trace rules when the trace was taken, with their counters (docs/rules.md). */
export interface TraceRules {
  /** The rule set's version (0: never changed during the session). */
  version: number;
  /** What happened to requests no trace/skip rule decided. */
  defaultAction: 'trace' | 'skip';
  /** In order: the first trace/skip rule that matches decides. */
  rules: TraceRule[];
}

/** One trace rule and what it did, added up over every process and thread of the session. */
export interface TraceRule {
  id: string;
  name: string;
  /** The condition's source text. */
  condition: string;
  action: 'trace' | 'skip' | 'details' | 'break' | 'mark' | 'fail' | 'delay' | 'throttle' | 'respond' | 'override';
  /** Requests acted on per process or thread (per session with `limitPer`); null: no limit. */
  limit: number | null;
  /** `"session"`: `limit` counted over all of the session's processes and threads together. */
  limitPer?: 'session';
  enabled: boolean;
  /** `mark`: the tag given. */
  tag?: string;
  /** `details`: what was captured. */
  details?: Array<'bodies' | 'sockTrace' | 'dnsTrace'>;
  /** The what-if parameters, under the action's name (docs/rules.md, "What-if actions"). */
  fail?: WhatIfFail;
  delay?: WhatIfDelay;
  throttle?: WhatIfThrottle;
  respond?: WhatIfRespond;
  override?: WhatIfOverride;
  /** Requests the rule was read for whose condition held. */
  matched: number;
  /** Requests it acted on. */
  acted: number;
  /** It reached its limit in at least one process or thread (per session: in all of them together). */
  limitReached: boolean;
}

/** What a what-if rule did to a request (`HttpRequest.whatIf`, docs/rules.md "What-if actions"). */
export interface WhatIf {
  /** The rule's id. */
  rule: string;
  /**
   * The rule's name (the title the Rules view shows), when it is not its id: added by the
   * collector from the session's rules as the update reaches it (the preload sends the id only).
   */
  name?: string;
  /** `fail`, `delay`, `throttle`, `respond` or `override`. */
  action: string;
  /** For `fail`: `refused`, `reset`, `dns-notfound`, `tls`, `timeout`, `status`; for `delay`: the phase (`connect`, `first-byte`). */
  kind?: string;
  /** For `fail` `reset` mid-body: the body bytes the program got before the reset. */
  afterBytes?: number;
  /** For `delay`: the milliseconds waited (the drawn value, for a random delay). */
  ms?: number;
  /** For `throttle`: the body's rate, bytes a second. */
  rate?: number;
  /** For `fail` status, `respond` and an `override` of the status: the status the program received. */
  status?: number;
}

/** A `fail` rule's parameters, per kind (src/rules/whatIfActions.ts validates them). */
export type WhatIfFail =
  | { kind: 'refused' | 'dns-notfound' | 'timeout' }
  | { kind: 'reset'; at: 'before-response' | 'mid-body'; afterBytes?: number }
  | { kind: 'tls'; tls: 'expired' | 'wrong-host' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string };

/** A `delay` rule's parameters: a fixed `ms`, or a random duration between `ms` and `maxMs`. */
export interface WhatIfDelay {
  phase: 'connect' | 'first-byte';
  ms: number;
  maxMs?: number;
}

/** A `throttle` rule's parameters: a preset name or bytes per second. */
export interface WhatIfThrottle {
  rate: 'slow 3G' | 'fast 4G' | number;
}

/** A `respond` rule's answer (the server is not contacted): a body or a file to read it from. */
export interface WhatIfRespond {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  bodyFile?: string;
}

/** An `override` rule's changes to the real response (`null` removes a header). */
export interface WhatIfOverride {
  status?: number;
  headers?: Record<string, string | null>;
  body?: string;
}
