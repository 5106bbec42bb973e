/**
 * Classifies a TLS handshake failure — from Node's error code and message, plus the peer
 * certificates when the trace has them — into a small set of kinds with a plain phrase each
 * ("the certificate expired on 2026-11-21"). Used by the failure diagnosis and the panel. Pure.
 *
 * Where the codes come from: certificate verification failures carry OpenSSL's X509_V_ERR names
 * without the prefix (CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, ...), reported by Node after
 * the handshake itself completed; Node's own identity check reports ERR_TLS_CERT_ALTNAME_INVALID
 * with the names in the message; handshake failures below that are `EPROTO` (or ERR_SSL_* from
 * some read paths) with OpenSSL's reason text in the message ("wrong version number",
 * "tlsv1 alert protocol version", "sslv3 alert handshake failure").
 */

import type { PeerCert } from '../contract/types';

/** What went wrong in a TLS handshake. */
export type TlsErrorKind =
  | 'expired'
  | 'not-yet-valid'
  | 'self-signed'
  | 'unknown-ca'
  | 'hostname-mismatch'
  | 'protocol-mismatch'
  | 'handshake-timeout'
  /** The peer closed or reset the connection mid-handshake. */
  | 'closed'
  /** The program aborted the handshake (AbortSignal, destroy) without a timeout. */
  | 'aborted'
  | 'other';

/** Every kind, for exhaustive tables (panel legends, tests). */
export const TLS_ERROR_KINDS: readonly TlsErrorKind[] = [
  'expired',
  'not-yet-valid',
  'self-signed',
  'unknown-ca',
  'hostname-mismatch',
  'protocol-mismatch',
  'handshake-timeout',
  'closed',
  'aborted',
  'other',
];

/** A short label per kind, for a badge or a column. */
export const TLS_ERROR_LABELS: Record<TlsErrorKind, string> = {
  expired: 'certificate expired',
  'not-yet-valid': 'certificate not yet valid',
  'self-signed': 'self-signed certificate',
  'unknown-ca': 'unknown CA',
  'hostname-mismatch': 'host name mismatch',
  'protocol-mismatch': 'protocol or cipher mismatch',
  'handshake-timeout': 'handshake timeout',
  closed: 'closed during handshake',
  aborted: 'aborted',
  other: 'TLS error',
};

/** What is known about the failure. */
export interface TlsErrorInput {
  /** Node's error code (reqError.code, or the tunnel's handshakeErrCode). */
  code?: string | null;
  /** The error message (for EPROTO, it carries OpenSSL's reason). */
  message?: string | null;
  /** The request was ended by a timeout. */
  timedOut?: boolean;
  /** The request was aborted (by the program or a timeout). */
  aborted?: boolean;
}

/** Evidence that makes the phrase specific. All optional. */
export interface TlsEvidence {
  /** The peer's chain, leaf first (the tunnel's `peerCerts`). */
  peerCerts?: PeerCert[];
  /** The name the client checked the certificate against (SNI or URL host). */
  hostname?: string;
  /** Bytes received on the connection (tells "no answer at all" from "stopped answering"). */
  recvBytes?: number;
}

/** A classified failure: its kind and one plain phrase saying what happened. */
export interface TlsErrorInfo {
  kind: TlsErrorKind;
  /** E.g. "the certificate is for other.test, not localhost"; no trailing period. */
  phrase: string;
}

const KIND_OF_CODE: Record<string, TlsErrorKind> = {
  CERT_HAS_EXPIRED: 'expired',
  ERR_TLS_CERT_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown-ca',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-ca',
  CERT_UNTRUSTED: 'unknown-ca',
  CERT_SIGNATURE_FAILURE: 'unknown-ca',
  INVALID_CA: 'unknown-ca',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname-mismatch',
  HOSTNAME_MISMATCH: 'hostname-mismatch',
  IP_ADDRESS_MISMATCH: 'hostname-mismatch',
  ERR_SSL_WRONG_VERSION_NUMBER: 'protocol-mismatch',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'protocol-mismatch',
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: 'protocol-mismatch',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'protocol-mismatch',
  ERR_SSL_VERSION_TOO_LOW: 'protocol-mismatch',
  ERR_SSL_NO_SHARED_CIPHER: 'protocol-mismatch',
  ERR_SSL_NO_CIPHERS_AVAILABLE: 'protocol-mismatch',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'protocol-mismatch',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'protocol-mismatch',
  ERR_SSL_HTTP_REQUEST: 'protocol-mismatch',
  ERR_TLS_INVALID_PROTOCOL_VERSION: 'protocol-mismatch',
  ERR_TLS_PROTOCOL_VERSION_CONFLICT: 'protocol-mismatch',
  UND_ERR_CONNECT_TIMEOUT: 'handshake-timeout',
  ETIMEDOUT: 'handshake-timeout',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'handshake-timeout',
  ECONNRESET: 'closed',
  EPIPE: 'closed',
  UND_ERR_SOCKET: 'closed',
};

/** OpenSSL's reason from an EPROTO message ("...:SSL routines:ssl3_get_record:wrong version number:..."). */
export function opensslReason(message: string | null | undefined): string | undefined {
  if (!message) return undefined;
  const m = /routines:[^:]*:([^:\n]+)/.exec(message);
  return m ? m[1].trim() : undefined;
}

/** Which protocol mismatch an OpenSSL reason describes; undefined when it is none of them. */
function protocolPhrase(reason: string): string | undefined {
  const r = reason.toLowerCase();
  if (r.includes('wrong version number') || r.includes('packet length too long') || r.includes('http request')) {
    return 'the server did not answer with TLS (plain HTTP on a TLS port?)';
  }
  if (r.includes('alert protocol version')) return 'no TLS version both sides accept (the server sent a protocol_version alert)';
  if (r.includes('unsupported protocol') || r.includes('no protocols available') || r.includes('version too low')) {
    return 'no TLS version both sides accept (the server offered only one this program refuses)';
  }
  if (r.includes('no shared cipher') || r.includes('no ciphers available') || r.includes('no suitable')) {
    return 'no cipher suite both sides accept';
  }
  if (r.includes('alert handshake failure')) {
    return 'the server refused the handshake (handshake_failure alert: usually no cipher suite or key exchange in common)';
  }
  if (r.includes('inappropriate fallback')) return 'the server refused a protocol downgrade (inappropriate_fallback alert)';
  return undefined;
}

/** Phrases for alerts the server sends for reasons other than versions and ciphers. */
function alertPhrase(reason: string): string | undefined {
  const r = reason.toLowerCase();
  if (r.includes('certificate required') || r.includes('alert bad certificate'))
    return 'the server requires a client certificate this program did not send';
  if (r.includes('unrecognized name')) return 'the server does not know the name sent in SNI';
  if (r.includes('alert unknown ca')) return "the server does not trust this program's client certificate";
  if (r.includes('alert internal error')) return 'the server hit an internal error (internal_error alert)';
  return undefined;
}

/** "DNS:other.test" / "IP Address:127.0.0.1" to "other.test" / "127.0.0.1". */
function altName(entry: string): string {
  return entry.replace(/^(DNS|IP Address|IP|URI|email):/i, '').trim();
}

/** The names a certificate is for, from the peer chain or from Node's mismatch message. */
function certNames(evidence: TlsEvidence, message: string | null | undefined): string[] {
  const leaf = evidence.peerCerts?.[0];
  if (leaf?.subjectAltNames?.length) return leaf.subjectAltNames.map(altName);
  // Node: "Hostname/IP does not match certificate's altnames: Host: localhost. is not in the
  // cert's altnames: DNS:other.test" (also "IP: 1.2.3.4 is not in the cert's list: ..." and
  // "Host: a. is not cert's CN: b").
  if (message) {
    const alt = /is not in the cert's (?:altnames|list): (.+)$/m.exec(message);
    if (alt) return alt[1].split(/,\s*/).map(altName).filter(Boolean);
    const cn = /is not cert's CN: (.+)$/m.exec(message);
    if (cn) return [cn[1].trim()];
  }
  const subjectCN = leaf?.subject && /(?:^|,\s*)CN=([^,]+)/.exec(leaf.subject);
  return subjectCN ? [subjectCN[1]] : [];
}

/** "2026-11-21" from an ISO date (or the text as it is). */
function day(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}/.test(iso) ? iso.slice(0, 10) : iso;
}

function listNames(names: string[]): string {
  if (names.length <= 3) return names.join(', ');
  return `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

/** The kind of a TLS failure, from its code and message alone. */
export function classifyTlsError(input: TlsErrorInput): TlsErrorKind {
  const code = input.code ?? undefined;
  const message = input.message ?? '';
  if (code && KIND_OF_CODE[code] && KIND_OF_CODE[code] !== 'closed' && KIND_OF_CODE[code] !== 'handshake-timeout')
    return KIND_OF_CODE[code];
  if (input.timedOut) return 'handshake-timeout';
  if (code && KIND_OF_CODE[code]) return KIND_OF_CODE[code];
  if (input.aborted || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED') return 'aborted';
  const reason = opensslReason(message) ?? message;
  if (code === 'EPROTO' || /^ERR_SSL_/.test(code ?? '')) return protocolPhrase(reason) ? 'protocol-mismatch' : 'other';
  if (/certificate has expired/i.test(message)) return 'expired';
  if (/not yet valid/i.test(message)) return 'not-yet-valid';
  if (/socket disconnected before secure TLS connection|socket hang up/i.test(message)) return 'closed';
  if (protocolPhrase(reason)) return 'protocol-mismatch';
  return 'other';
}

/**
 * Classifies a TLS failure and phrases it with the evidence at hand: the expiry date, the names
 * the certificate is for, the untrusted issuer, OpenSSL's alert, whether the server answered.
 */
export function explainTlsError(input: TlsErrorInput, evidence: TlsEvidence = {}): TlsErrorInfo {
  const kind = classifyTlsError(input);
  const leaf = evidence.peerCerts?.[0];
  const message = input.message ?? '';
  switch (kind) {
    case 'expired':
      return { kind, phrase: leaf?.notAfter ? `the certificate expired on ${day(leaf.notAfter)}` : 'the certificate has expired' };
    case 'not-yet-valid':
      return {
        kind,
        phrase: leaf?.notBefore ? `the certificate is not valid until ${day(leaf.notBefore)}` : 'the certificate is not yet valid',
      };
    case 'self-signed': {
      const subject = leaf?.subject ? ` (${leaf.subject})` : '';
      return { kind, phrase: `the certificate is self-signed${subject} and not trusted` };
    }
    case 'unknown-ca': {
      const chainEnd = evidence.peerCerts?.length ? evidence.peerCerts[evidence.peerCerts.length - 1] : undefined;
      const issuer = chainEnd?.issuer || leaf?.issuer;
      const by = issuer ? ` (${issuer})` : '';
      if (input.code === 'SELF_SIGNED_CERT_IN_CHAIN')
        return { kind, phrase: `the certificate chain ends in a root CA this program does not trust${by}` };
      return { kind, phrase: `the certificate is signed by a CA this program does not trust${by}` };
    }
    case 'hostname-mismatch': {
      const names = certNames(evidence, message);
      const host = evidence.hostname ?? /Host: ([^\s]+?)\.? is not/.exec(message)?.[1] ?? /IP: ([^\s]+) is not/.exec(message)?.[1];
      if (names.length && host) return { kind, phrase: `the certificate is for ${listNames(names)}, not ${host}` };
      if (names.length) return { kind, phrase: `the certificate is for ${listNames(names)}` };
      return { kind, phrase: `the certificate is not valid for ${host ?? 'this host name'}` };
    }
    case 'protocol-mismatch':
      return { kind, phrase: protocolPhrase(opensslReason(message) ?? message) ?? `protocol error: ${opensslReason(message) ?? message}` };
    case 'handshake-timeout':
      if (evidence.recvBytes === 0) return { kind, phrase: 'the server sent nothing after the ClientHello' };
      if (evidence.recvBytes !== undefined) return { kind, phrase: `the server stopped answering after ${evidence.recvBytes} bytes` };
      return { kind, phrase: 'the handshake did not complete in time' };
    case 'closed':
      if (evidence.recvBytes === 0) return { kind, phrase: 'the server closed the connection without answering the ClientHello' };
      return { kind, phrase: 'the server closed the connection during the handshake' };
    case 'aborted':
      return { kind, phrase: 'the program aborted the handshake' };
    default: {
      const reason = opensslReason(message);
      return { kind, phrase: (reason && alertPhrase(reason)) ?? reason ?? (message || 'unknown TLS error') };
    }
  }
}
