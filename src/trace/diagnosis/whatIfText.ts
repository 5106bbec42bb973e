/**
 * The words for what a what-if rule did to a request (`HttpRequest.whatIf`, docs/rules.md
 * "What-if actions"), one definition for `nettrace show`, the HAR's comment and the panel.
 */
import type { WhatIf } from '../contract/ruleTypes';

const FAIL_WORDS: Record<string, string> = {
  refused: 'connection refused',
  reset: 'connection reset',
  'dns-notfound': 'host name not found',
  tls: 'TLS failure',
  timeout: 'no answer (timeout)',
  status: 'an HTTP status',
};

/** The short tag on a row: "what-if". */
export const WHAT_IF_TAG = 'what-if';

/**
 * One sentence: `What if: rule "down" made this request fail (connection refused); the network and
 * the server had no part in it.` Quotes the rule id as JSON (it is user text: callers sanitize for
 * a terminal).
 */
export function whatIfSentence(w: WhatIf): string {
  return `What if: rule ${JSON.stringify(w.rule)} ${whatIfWords(w)}; the network and the server had no part in it.`;
}

/** What the rule did, in words: "made this request fail (connection refused)" (the panel's badge and detail too). */
export function whatIfWords(w: WhatIf): string {
  return w.action === 'fail'
    ? `made this request fail (${w.kind !== undefined ? (FAIL_WORDS[w.kind] ?? w.kind) : 'fail'})`
    : `acted on it (${w.action})`;
}
