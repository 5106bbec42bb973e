/**
 * How a HAR entry failed, as a RecordedEnd a replay reproduces. A HAR has no field for failures:
 * Chromium's DevTools export writes the network error's name in `response._error`
 * (`net::ERR_CONNECTION_REFUSED`, status 0), Playwright's `recordHar` in `response._failureText`
 * (status -1), and Net Trace's own HAR export an error object in the entry's `_error`. Only the
 * names below are reproduced; any other failure (a request the browser blocked, a policy of its
 * own) has no Node equivalent and its entry is left out, counted.
 */

import { closedInOrder, type RecordedEnd } from '../trace/contract/recording';
import { isRecord } from './shape';

/**
 * Chromium's network errors (net/base/net_error_list.h) and the end a Node client sees for the
 * same cause, with the error code Node gives it. `reset` after a response head is a reset after
 * the body bytes the HAR holds.
 */
const CHROMIUM: Record<string, RecordedEnd> = {
  'net::ERR_CONNECTION_REFUSED': { kind: 'refused', code: 'ECONNREFUSED' },
  'net::ERR_CONNECTION_TIMED_OUT': { kind: 'refused', code: 'ETIMEDOUT' },
  'net::ERR_ADDRESS_UNREACHABLE': { kind: 'refused', code: 'EHOSTUNREACH' },
  'net::ERR_NETWORK_UNREACHABLE': { kind: 'refused', code: 'ENETUNREACH' },
  'net::ERR_INTERNET_DISCONNECTED': { kind: 'refused', code: 'ENETUNREACH' },
  'net::ERR_NAME_NOT_RESOLVED': { kind: 'dns', code: 'ENOTFOUND' },
  'net::ERR_NAME_RESOLUTION_FAILED': { kind: 'dns', code: 'EAI_AGAIN' },
  // Chromium says DATE_INVALID for a certificate expired or not yet valid; Node tells them apart:
  // the commoner, expired, is replayed.
  'net::ERR_CERT_DATE_INVALID': { kind: 'tls', code: 'CERT_HAS_EXPIRED' },
  'net::ERR_CERT_AUTHORITY_INVALID': { kind: 'tls', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
  'net::ERR_CERT_COMMON_NAME_INVALID': { kind: 'tls', code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
  'net::ERR_CERT_REVOKED': { kind: 'tls', code: 'CERT_REVOKED' },
  'net::ERR_CERT_INVALID': { kind: 'tls', code: 'CERT_REJECTED' },
  'net::ERR_SSL_PROTOCOL_ERROR': { kind: 'tls', code: 'EPROTO' },
  'net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH': { kind: 'tls', code: 'EPROTO' },
  'net::ERR_CONNECTION_RESET': { kind: 'reset' },
  'net::ERR_CONNECTION_CLOSED': { kind: 'closed' },
  'net::ERR_CONNECTION_ABORTED': { kind: 'reset' },
  // The server closed the connection in order: before any answer, or before the body was whole.
  'net::ERR_EMPTY_RESPONSE': { kind: 'closed' },
  'net::ERR_CONTENT_LENGTH_MISMATCH': { kind: 'closed' },
  'net::ERR_INCOMPLETE_CHUNKED_ENCODING': { kind: 'closed' },
  'net::ERR_HTTP2_PROTOCOL_ERROR': { kind: 'reset', http2Code: 1 },
  'net::ERR_TIMED_OUT': { kind: 'timeout' },
  'net::ERR_ABORTED': { kind: 'aborted' },
};

/** Net Trace's RequestError codes, for its own HAR's `_error`. */
const NODE_REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const NODE_DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);

/** What a HAR entry says of its failure: the failure's name and its end (undefined when it has none that is reproduced). */
export interface HarFailure {
  name: string;
  end?: RecordedEnd;
}

/**
 * The failure of an entry, or undefined when the entry says none. `bodyBytes`: the body bytes it
 * holds, where a reset after the head happened.
 */
export function harFailure(entry: Record<string, unknown>, response: Record<string, unknown>, bodyBytes: number): HarFailure | undefined {
  const named = typeof response._error === 'string' && response._error ? response._error : response._failureText;
  const status = typeof response.status === 'number' ? response.status : 0;
  if (typeof named === 'string' && named) {
    const name = named.trim();
    const known = CHROMIUM[name] ?? CHROMIUM[`net::${name}`];
    if (!known) return { name };
    if ((known.kind === 'reset' || known.kind === 'closed') && status > 0) return { name, end: { ...known, afterBodyBytes: bodyBytes } };
    return { name, end: known };
  }
  if (isRecord(entry._error)) return nodeFailure(entry._error, status, bodyBytes);
  return undefined;
}

/** Net Trace's own HAR `_error` (a RequestError) as an end. */
function nodeFailure(error: Record<string, unknown>, status: number, bodyBytes: number): HarFailure {
  const code = typeof error.code === 'string' ? error.code : undefined;
  const cause = isRecord(error.cause) && typeof error.cause.code === 'string' ? error.cause.code : undefined;
  const c = code ?? cause;
  const name = c ?? (typeof error.message === 'string' ? error.message : 'error');
  if (error.timedOut === true) return { name, end: { kind: 'timeout' } };
  if (error.aborted === true) return { name, end: { kind: 'aborted' } };
  if (c && NODE_DNS.has(c)) return { name, end: { kind: 'dns', code: c } };
  if (c && (NODE_REFUSED.has(c) || (c === 'ETIMEDOUT' && error.phase === 'connect'))) return { name, end: { kind: 'refused', code: c } };
  if (error.phase === 'tls' && c) return { name, end: { kind: 'tls', code: c } };
  if (closedInOrder(error)) return { name, end: status > 0 ? { kind: 'closed', afterBodyBytes: bodyBytes } : { kind: 'closed' } };
  if (c === 'ECONNRESET' || c === 'EPIPE' || c === 'UND_ERR_SOCKET')
    return { name, end: status > 0 ? { kind: 'reset', afterBodyBytes: bodyBytes } : { kind: 'reset' } };
  return { name };
}
