/**
 * The words for what a what-if rule did to a request (`HttpRequest.whatIf`, docs/rules.md
 * "What-if actions"), one definition for `nettrace show`, the HAR's comment and the panel.
 */
import type { WhatIf } from '../contract/ruleTypes';
import type { TcpConn } from '../contract/types';

/** A fail kind in words (the detail's sentence, the names of rules made from the panel's menu). */
export const FAIL_WORDS: Readonly<Record<string, string>> = {
  refused: 'connection refused',
  reset: 'connection reset',
  'dns-notfound': 'host name not found',
  tls: 'TLS failure',
  timeout: 'no answer (timeout)',
  status: 'an HTTP status',
};

/**
 * True when what the program received for this request was made with no contact with the server
 * (a `fail` other than `tls` and `reset` mid-body, or `respond`): its connection's DNS, connect and
 * TLS phases, if any were recorded, are not its own.
 */
export function whatIfWithoutNetwork(w: WhatIf | undefined): boolean {
  if (w === undefined) return false;
  if (w.action === 'respond') return true;
  return w.action === 'fail' && w.kind !== 'tls' && w.afterBytes === undefined;
}

/**
 * True when a what-if rule answered on a connection the program's own code made for this request
 * (an agent whose createConnection connects by itself, as npm's does): its DNS, connect and TLS
 * happened and are the request's, though no byte of the request was sent.
 */
export function whatIfOnRealConnection(conn: TcpConn | undefined, reused: boolean | undefined): boolean {
  return conn?.connected === true && conn.whatIf !== true && reused !== true;
}

/** The short tag on a row: "what-if". */
export const WHAT_IF_TAG = 'what-if';

/** What the rule did, in words: "made this request fail (connection refused)", "held back its first byte 200 ms" (the panel's badge and detail too). */
export function whatIfWords(w: WhatIf): string {
  switch (w.action) {
    case 'fail':
      if (w.kind === 'status') return `answered ${w.status ?? 'a status'} in the server's place`;
      if (w.kind === 'reset' && w.afterBytes !== undefined) return `reset its connection after ${w.afterBytes} bytes of the response body`;
      return `made this request fail (${w.kind !== undefined ? (FAIL_WORDS[w.kind] ?? w.kind) : 'fail'})`;
    case 'delay':
      return `held back its ${w.kind === 'connect' ? 'connection' : "response's first byte"}${w.ms !== undefined ? ` ${w.ms} ms` : ''}`;
    case 'throttle':
      return `gave its response body at ${w.rate !== undefined ? `${w.rate} bytes a second` : 'a throttled rate'}`;
    case 'respond':
      return `answered it${w.status !== undefined ? ` (${w.status})` : ''} without contacting the server`;
    case 'override':
      return `changed the server's answer${w.status !== undefined ? ` (status ${w.status})` : ''}`;
    default:
      return `acted on it (${w.action})`;
  }
}

/**
 * One sentence: `What if: rule "down" made this request fail (connection refused); the network and
 * the server had no part in it.` Quotes the rule id as JSON (it is user text: callers sanitize for
 * a terminal).
 */
export function whatIfSentence(w: WhatIf, conn?: TcpConn, reused?: boolean): string {
  const made = whatIfWithoutNetwork(w) && whatIfOnRealConnection(conn, reused);
  const tail = !whatIfWithoutNetwork(w)
    ? '.'
    : made
      ? '; the server had no part in it (the program made its connection, the rule answered before anything was sent on it).'
      : '; the network and the server had no part in it.';
  return `What if: rule ${JSON.stringify(w.rule)} ${whatIfWords(w)}${tail}`;
}
