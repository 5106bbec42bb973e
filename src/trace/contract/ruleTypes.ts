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
  /** Requests acted on per process or thread; null: no limit. */
  limit: number | null;
  enabled: boolean;
  /** `mark`: the tag given. */
  tag?: string;
  /** `details`: what was captured. */
  details?: Array<'bodies' | 'sockTrace' | 'dnsTrace'>;
  /** `fail`: how the requests were failed (docs/rules.md, "What-if actions"); its other parameters as written. */
  fail?: { kind: 'refused' | 'reset' | 'dns-notfound' | 'tls' | 'timeout' | 'status'; [key: string]: unknown };
  /** `delay`, `throttle`, `respond`, `override`: the what-if rule's parameters (docs/rules.md). */
  delay?: { phase: string; ms: number; maxMs?: number };
  throttle?: { rate: string | number };
  respond?: { status: number; headers?: Record<string, string>; body?: string; bodyFile?: string };
  override?: { status?: number; headers?: Record<string, string | null>; body?: string };
  /** Requests the rule was read for whose condition held. */
  matched: number;
  /** Requests it acted on. */
  acted: number;
  /** It reached its limit in at least one process or thread. */
  limitReached: boolean;
}

/** What a what-if rule did to a request (`HttpRequest.whatIf`, docs/rules.md "What-if actions"). */
export interface WhatIf {
  /** The rule's id. */
  rule: string;
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
