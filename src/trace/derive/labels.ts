/**
 * What the panel and the CLI both say of a request, decided in one place so they agree: what its
 * connection was (a refused connect is not a "new" connection; its short word: words.ts) and what
 * its `Location` header means (a redirect only on a 3xx; on a 201 it names what was created).
 */

import type { HttpRequest, TcpConn } from '../contract/types';
import { whatIfOnRealConnection, whatIfWithoutNetwork } from '../diagnosis/whatIfText';
import { replayedWithoutNetwork } from '../diagnosis/replayText';

/**
 * The request's connection: `reused` (keep-alive), `new` (opened for it and connected),
 * `failed` (it never connected: DNS failed, refused, timed out, unreachable), `connecting`
 * (still being opened).
 */
export type ConnectionState = 'reused' | 'new' | 'failed' | 'connecting';

/**
 * Works out a request's connection from the request and, when the trace has it, its TCP
 * connection record; undefined when the trace says nothing about a connection (an untraced
 * client, a trace recorded without connection records).
 */
export function connectionState(req: HttpRequest, conn?: TcpConn): ConnectionState | undefined {
  // A socket a what-if rule answered on never was a connection (TcpConn.whatIf); nor is one for a
  // request a rule failed or answered without the network, whatever socket Node had given it (a
  // kept-alive one the rule closed, none yet): the same "none" each time, never a connect or a
  // reuse the request did not make. (Unless the program's own code connected for it first.)
  if (conn?.whatIf) return undefined;
  if (whatIfWithoutNetwork(req.whatIf) && !whatIfOnRealConnection(conn, req.reusedConn)) return undefined;
  // A request a replay answered (or failed, not being in the recording) had none either (docs/replay.md).
  if (replayedWithoutNetwork(req.replay) && !whatIfOnRealConnection(conn, req.reusedConn)) return undefined;
  if (req.reusedConn) return 'reused';
  if (!req.tcpConn && !req.dial && !conn && req.reusedConn === undefined) return undefined;
  // Anything that needs a connected socket proves it connected.
  if (conn?.connected || req.respStatusCode !== undefined || req.respRecvAt !== undefined) return 'new';
  const e = req.reqError;
  if (e) return e.phase === 'dns' || e.phase === 'connect' ? 'failed' : 'new';
  if (req.incomplete) return conn && !conn.connected ? 'failed' : 'new';
  if (conn && !conn.connected) return conn.connCloseAt !== undefined ? 'failed' : 'connecting';
  return 'new';
}

/** A sentence-ish label for the detail view: "new", "reused (no DNS/connect/TLS)", "never connected (ECONNREFUSED)". */
export function connectionText(req: HttpRequest, conn?: TcpConn): string | undefined {
  const state = connectionState(req, conn);
  switch (state) {
    case undefined:
      return undefined;
    case 'reused':
      return 'reused (no DNS/connect/TLS)';
    case 'failed': {
      const code = req.reqError?.code ?? (req.reqError?.timedOut ? 'timed out' : undefined);
      return `never connected${code ? ` (${code})` : ''}`;
    }
    case 'connecting':
      return 'connecting…';
    case 'new':
      return 'new';
  }
}

/**
 * The label of a response's `Location` header: "Redirects to" on a 3xx, "Created at" on a 201,
 * else plain "Location" (RFC 9110 §10.2.2: its meaning depends on the status).
 */
export function locationLabel(status: number | undefined): string {
  if (status !== undefined && status >= 300 && status < 400) return 'Redirects to';
  if (status === 201) return 'Created at';
  return 'Location';
}
