/**
 * A TLS handshake as the connection's tlsTunnels record tells it: what it negotiated, the peer's
 * chain, its end (socketHooks.ts observes the socket's events and calls these).
 */

import type * as tls from 'node:tls';
import type { PeerCert } from '../../trace/contract/types';
import type { ConnState, Hook, Tracer } from '../tracer';
import { now } from '../clock/epoch';
import { observeEvents } from '../emitTaps';

/**
 * Records a TLS handshake on the connection's tlsTunnels record: what it negotiated and the peer's
 * chain at 'secure', which fires after the handshake and before Node checks the certificate (and
 * destroys the socket when that fails: the one moment a rejected server's chain is readable), and
 * its end at 'secureConnect'. Returns the observer of the socket's events (called before the
 * socket's listeners, tls.connect's own 'secure' one included). `ready` runs as the connection
 * becomes ready for requests.
 */
export function handshakeWatch(
  t: Tracer,
  hook: Hook,
  socket: tls.TLSSocket,
  conn: ConnState,
  ready?: () => void,
): (event: string | symbol) => void {
  let detailSent = false;
  let secureSeen = false;
  let doneSeen = false;
  return (event) => {
    if (event === 'secure' && !secureSeen) {
      secureSeen = true;
      t.guard(hook, () => {
        t.record('tlsTunnels', conn.tlsId!, handshakeDetail(socket));
        detailSent = true;
      });
    } else if (event === 'secureConnect' && !doneSeen) {
      doneSeen = true;
      t.guard(hook, () => {
        conn.secure = true;
        conn.readyAt = now();
        ready?.();
        conn.alpn = socket.alpnProtocol || undefined;
        t.record('tlsTunnels', conn.tlsId!, handshakeDone(socket, now(), detailSent));
      });
    }
  };
}

/** The events handshakeWatch's observer is for. */
export const HANDSHAKE_EVENTS: readonly string[] = ['secure', 'secureConnect'];

/** handshakeWatch() on a socket of its own (a TLS session over a tunnel). */
export function watchHandshake(t: Tracer, hook: Hook, socket: tls.TLSSocket, conn: ConnState): void {
  observeEvents(socket, HANDSHAKE_EVENTS, handshakeWatch(t, hook, socket, conn));
}

/** What the handshake negotiated and the peer's chain, readable from 'secure' on. */
function handshakeDetail(socket: tls.TLSSocket): Record<string, unknown> {
  const cipher = socket.getCipher();
  const out: Record<string, unknown> = {
    didResume: socket.isSessionReused(),
    tlsVersion: socket.getProtocol() ?? undefined,
    cipherSuite: cipher?.standardName ?? cipher?.name,
    negotiatedProto: socket.alpnProtocol || undefined,
  };
  const sni = (socket as unknown as { servername?: string }).servername;
  if (sni) out.serverName = sni;
  const chain = peerChain(socket);
  // A resumed session has no certificate to show (Node returns an empty one): keep what 'secure' saw.
  if (chain.length > 0) out.peerCerts = chain;
  return out;
}

/**
 * The handshake succeeded (the certificate was accepted): its end, and what it negotiated unless
 * 'secure' recorded that already (`detailSent`). Node emits 'secureConnect' from its own 'secure'
 * listener, so ours has run; reading the peer chain again (`getPeerCertificate(true)` builds every
 * certificate as an object) would cost each new TLS connection a second copy of the same.
 */
function handshakeDone(socket: tls.TLSSocket, at: number, detailSent: boolean): Record<string, unknown> {
  return detailSent ? { handshakeEndAt: at, handshakeErr: null } : { ...handshakeDetail(socket), handshakeEndAt: at, handshakeErr: null };
}

/** The peer's certificate chain, leaf first, at most 8 certificates. */
function peerChain(socket: tls.TLSSocket): PeerCert[] {
  const out: PeerCert[] = [];
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  const seen = new Set<string>();
  while (cert && cert.fingerprint256 && !seen.has(cert.fingerprint256) && out.length < 8) {
    seen.add(cert.fingerprint256);
    out.push({
      subject: dn(cert.subject),
      issuer: dn(cert.issuer),
      notBefore: isoDate(cert.valid_from),
      notAfter: isoDate(cert.valid_to),
      isCA: (cert as unknown as { ca?: boolean }).ca === true,
      subjectAltNames: cert.subjectaltname ? cert.subjectaltname.split(', ') : [],
      fingerprint256: cert.fingerprint256,
    });
    cert = cert.issuerCertificate;
  }
  return out;
}

function dn(name: unknown): string {
  if (!name || typeof name !== 'object') return '';
  return Object.entries(name as Record<string, string | string[]>)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

function isoDate(text: string): string {
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : d.toISOString();
}
