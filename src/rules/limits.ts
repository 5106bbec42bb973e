/**
 * What a rule's `limit` counts (docs/rules.md, "Limits and counters"): by default the requests each
 * preload instance (a process, a worker thread) acted on; with `limitPer` "session", those of all
 * the session's instances together. The collector counts each instance's acts and sends them with
 * the set (the protocol's SessionActed); an instance then acts up to the limit less the others'.
 */
import type { Rule } from './rule';

/** Per rule whose limit counts per session: each instance's acts the collector counted (the protocol's SessionActed). */
export type SessionActs = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** A rule whose limit counts per session, turned on again: its counts start anew (docs/rules.md, "Limits and counters"). */
export function restarts(old: Rule, now: Rule): boolean {
  return now.limitPer === 'session' && now.enabled && !old.enabled;
}

/**
 * The limit an instance acts up to: the rule's, or for one counted per session, the rule's less
 * what the other instances acted on (`acts`, from the collector: its own entry is its `acted`).
 */
export function limitOf(rule: Rule, acts: Readonly<Record<string, number>> | undefined, instance: string | undefined): number | null {
  if (rule.limit === null || rule.limitPer !== 'session' || acts === undefined) return rule.limit;
  let others = 0;
  for (const [who, n] of Object.entries(acts)) if (who !== instance && typeof n === 'number' && n > 0) others += n;
  return Math.max(0, rule.limit - others);
}
