/**
 * What a what-if rule that acted leaves in the trace (issue 51, docs/rules.md "What-if actions"):
 * the record's `whatIf` mark, the milliseconds a `delay` rule drew, and, for a rule that acts only
 * if the response lets it, the mark and the `acted` count held until that is known. Shared by the
 * http, undici and http2 what-ifs (each in its client's folder; what they do to a socket:
 * whatIfSocket.ts).
 *
 * Never throws into the program: every entry point catches, warns once and lets the request go.
 */
import type { Rule, StartDecision } from '../../rules';
import { rateOf, type DelaySpec } from '../../rules/whatIfActions';
import type { Tracer } from '../tracer';
import type { WhatIf } from '../../trace/contract/ruleTypes';
import { releaseWhatIf } from './preloadRules';

/** What the trace records of a what-if rule that acted: the record's `whatIf` (one definition, the trace's). */
export type WhatIfMark = WhatIf;

const drawn = new WeakMap<object, number>();

/** The milliseconds a `delay` rule holds this request back: `ms`, or drawn once between `ms` and `maxMs`. */
export function delayMsOf(d: StartDecision, spec: DelaySpec): number {
  let ms = drawn.get(d);
  if (ms === undefined) {
    ms = spec.maxMs === undefined ? spec.ms : Math.round(spec.ms + Math.random() * (spec.maxMs - spec.ms));
    drawn.set(d, ms);
  }
  return ms;
}

/** The `whatIf` field for a request a what-if rule acted on, or undefined. */
export function whatIfMark(d: StartDecision | undefined | null): WhatIfMark | undefined {
  const r = d?.whatIf;
  if (d === null || d === undefined || r === null || r === undefined) return undefined;
  const m: WhatIfMark = { rule: r.id, action: r.action };
  if (r.fail !== undefined) {
    m.kind = r.fail.kind;
    if (r.fail.kind === 'status') m.status = r.fail.status;
    if (r.fail.kind === 'reset' && r.fail.at === 'mid-body') m.afterBytes = r.fail.afterBytes ?? 0;
  } else if (r.delay !== undefined) {
    m.kind = r.delay.phase;
    m.ms = delayMsOf(d, r.delay);
  } else if (r.throttle !== undefined) m.rate = rateOf(r.throttle);
  else if (r.respond !== undefined) m.status = r.respond.status;
  else if (r.override?.status !== undefined) m.status = r.override.status;
  return m;
}

/**
 * A what-if rule that acts only if the response lets it (`reset` after N body bytes: a response
 * that ends within them goes through as sent): until it is known, the request's record gets no
 * `whatIf` (ruleStartFields asks startMark) and the rule's `acted` count waits to be kept
 * (markActed) or taken back (notActed). Holds the tracer and the record's id, never the program's objects.
 */
interface HeldMark {
  state: 'waiting' | 'acted' | 'not';
  t: Tracer;
  id: string | undefined;
}
const held = new WeakMap<StartDecision, HeldMark>();

/** True for a rule whose acting is known only from the response (`fail reset` mid-body). */
export function actsOnResponse(rule: Rule | null): boolean {
  return rule?.fail?.kind === 'reset' && rule.fail.at === 'mid-body';
}

/** The decision's what-if rule may not act (actsOnResponse): its mark waits for markActed or notActed. */
export function holdMark(t: Tracer, d: StartDecision): void {
  if (!held.has(d)) held.set(d, { state: 'waiting', t, id: undefined });
}

/** The held rule acted: its mark goes into the request's record (now, or with its first update). */
export function markActed(d: StartDecision): void {
  const h = held.get(d);
  if (h === undefined || h.state !== 'waiting') return;
  h.state = 'acted';
  try {
    if (h.id !== undefined) h.t.record('httpRequests', h.id, { whatIf: whatIfMark(d) });
  } catch {
    // The transport never throws.
  }
}

/** The held rule did not act (the response ended first, or never came): no mark, and its `acted` count is taken back. */
export function notActed(d: StartDecision): void {
  const h = held.get(d);
  if (h === undefined || h.state !== 'waiting') return;
  h.state = 'not';
  releaseWhatIf(d);
}

/** The decision's what-if rule turned out not to act before the request's record began: no mark, not counted. */
export function didNotAct(t: Tracer, d: StartDecision): void {
  holdMark(t, d);
  notActed(d);
}

/**
 * The `whatIf` of a request's first record update (`id`: the record's id), or undefined while its
 * rule may still not act (held: markActed writes it then) or after it did not.
 */
export function startMark(d: StartDecision, id: string | undefined): WhatIfMark | undefined {
  const h = held.get(d);
  if (h === undefined || h.state === 'acted') return whatIfMark(d);
  if (h.state === 'waiting') h.id = id;
  return undefined;
}

let warned = false;
/** Warns once per process that a what-if rule could not act (the request goes on unchanged). */
export function warnOnce(t: Tracer, err: unknown): void {
  if (warned) return;
  warned = true;
  try {
    t.warn(`nettrace: a what-if rule could not act; the request goes on unchanged: ${String((err as Error)?.message ?? err)}`);
  } catch {
    // The transport never throws.
  }
}
