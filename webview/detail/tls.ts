/** The TLS tab: the session to the origin (and to an HTTPS proxy), its certificate chain and errors. */

import type { HttpRequest, PeerCert, TlsTunnel } from '../../src/trace/contract/types';
import { explainTlsError, TLS_ERROR_LABELS } from '../../src/trace/diagnosis/tlsErrors';
import { h, icon, type Child } from '../dom';
import { formatDate, formatMs } from '../format';
import type { Row } from '../model';
import { badge, kv, tlsTunnelOf, type DetailContext } from './common';

/** The TLS tab: the session to the origin, and to an HTTPS proxy when there was one. */
export function renderTls(ctx: DetailContext, row: Row): Child[] {
  const req = row.req;
  const tls = tlsTunnelOf(ctx.model, req);
  // A request through an HTTPS proxy has two sessions on one connection: to the proxy
  // (`forProxy`) and, inside the CONNECT tunnel, to the origin.
  const proxyTls = req.proxy ? ctx.model.tlsTunnelsOn(req.proxy.tunnel ?? req.tcpConn).filter((t) => t.forProxy && t !== tls) : [];
  if (!tls && !proxyTls.length) {
    const https = /^https:/i.test(req.reqURL);
    return [
      h(
        'div',
        'placeholder',
        null,
        https
          ? req.reusedConn
            ? 'TLS session of a reused connection (not recorded in this trace).'
            : 'No TLS information recorded.'
          : 'Not a TLS connection.',
      ),
    ];
  }
  const out: Child[] = [];
  for (const t of proxyTls) out.push(...tlsSection(ctx, t, 'TLS session to the proxy', req));
  if (tls) out.push(...tlsSection(ctx, tls, proxyTls.length ? 'TLS session to the origin (inside the tunnel)' : 'TLS session', req));
  return out;
}

function tlsSection(ctx: DetailContext, tls: TlsTunnel, title: string, req: HttpRequest): Child[] {
  const hs = tls.handshakeBeginAt !== undefined && tls.handshakeEndAt !== undefined ? tls.handshakeEndAt - tls.handshakeBeginAt : undefined;
  let error: Child = 'none';
  if (tls.handshakeErr) {
    const conn = tls.tcpConn ? ctx.model.tcpConns.get(tls.tcpConn) : undefined;
    const info = explainTlsError(
      { code: tls.handshakeErrCode, message: tls.handshakeErr },
      { peerCerts: tls.peerCerts, hostname: tls.serverName, recvBytes: conn?.totalRecvBytes },
    );
    error = h(
      'span',
      null,
      null,
      badge(TLS_ERROR_LABELS[info.kind] ?? 'TLS error', 'error', 'error'),
      ' ',
      h('span', 'error-text', null, info.phrase),
      h('div', 'muted', null, tls.handshakeErrCode ? `${tls.handshakeErrCode}: ` : '', tls.handshakeErr),
    );
  }
  const out: Child[] = [
    h('h3', null, null, title),
    kv([
      ['Version', tls.tlsVersion ?? '—'],
      ['Cipher suite', tls.cipherSuite ?? '—'],
      ['ALPN', tls.negotiatedProto || '—'],
      ['Server name (SNI)', tls.serverName ?? '—'],
      ['Resumed', tls.didResume === undefined ? '—' : tls.didResume ? badge('resumed', 'info') : 'no (full handshake)'],
      ['Handshake', formatMs(hs)],
      ['For proxy', tls.forProxy ? badge('proxy', 'info') : req.proxy ? 'no (to the origin)' : 'no'],
      ['Error', error],
      ['Record', tls.traceID],
    ]),
  ];
  const certs = tls.peerCerts ?? [];
  out.push(h('div', 'subhead', null, `Certificate chain (${certs.length})`));
  if (!certs.length) out.push(h('div', 'muted', null, 'No peer certificates recorded.'));
  const at = Date.parse(ctx.model.traceBeginAt) + (tls.handshakeBeginAt ?? 0);
  certs.forEach((c, i) => out.push(certCard(c, i, Number.isFinite(at) ? at : Date.now())));
  return out;
}

/** One certificate of the chain, with its validity checked against the handshake time. */
function certCard(c: PeerCert, index: number, at: number): HTMLElement {
  const nb = Date.parse(c.notBefore);
  const na = Date.parse(c.notAfter);
  const expired = Number.isFinite(na) && at > na;
  const notYet = Number.isFinite(nb) && at < nb;
  const validity = h('span', expired || notYet ? 'error-text' : null, null, `${formatDate(c.notBefore)} → ${formatDate(c.notAfter)}`);
  const state = expired
    ? badge('expired', 'error', 'error')
    : notYet
      ? badge('not yet valid', 'error', 'error')
      : badge('valid', 'info', 'pass');
  return h(
    'div',
    `cert${expired || notYet ? ' invalid' : ''}`,
    null,
    h(
      'div',
      'cert-title',
      null,
      icon(c.isCA ? 'shield' : 'key'),
      h('span', 'selectable', null, c.subject || '(no subject)'),
      h('span', 'muted', null, index === 0 ? ' leaf' : c.isCA ? ' CA' : ''),
    ),
    kv([
      ['Issuer', c.issuer],
      ['Validity', h('span', null, null, validity, ' ', state)],
      ['Alt names', c.subjectAltNames.length ? c.subjectAltNames.join(', ') : '—'],
      ['SHA-256', h('span', 'mono', null, c.fingerprint256)],
    ]),
  );
}
