/**
 * What a `details` rule turns on, each kind's bit in a decision's mask, and the decision that
 * records a request with nothing added. A file of its own with no imports, so the preload's
 * hooks read them without loading the rule engine (which the preload loads only when a session has
 * rules: src/preload/rules/preloadRules.ts).
 */

/** What a `details` rule turns on for its requests (names as the preload's options). */
export type DetailKind = 'bodies' | 'sockTrace' | 'dnsTrace';

/** Every detail kind. */
export const DETAIL_KINDS: readonly DetailKind[] = ['bodies', 'sockTrace', 'dnsTrace'];

/** Bit of each detail kind in a decision's `details` mask. */
export const DETAIL_BIT: Readonly<Record<DetailKind, number>> = { bodies: 1, sockTrace: 2, dnsTrace: 4 };

/**
 * The shared decision that records a request with nothing added (no rule acts on it): a
 * StartDecision (src/rules/engine.ts), typed by its shape so this file imports nothing.
 */
export const TRACE_ALL = Object.freeze({
  record: true,
  details: 0,
  breakRule: null,
  whatIf: null,
  tags: null,
  rule: null,
  pending: false,
  facts: null,
  undecided: null,
  definiteDetails: 0,
});
