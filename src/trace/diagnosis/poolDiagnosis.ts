/**
 * The sentences of a request that waited for a free connection in a full pool (its `pool`): how
 * long, which limit, how many waited (diagnosis.ts).
 */

import type { HttpRequest, PoolWait } from '../contract/types';
import { formatMs, plural } from './sentence';

/** "host:port" of a request's URL (the pool a per-origin limit applies to). */
function originOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return 'its origin';
  }
}

/** "the agent allows 4 sockets to 127.0.0.1:38775, 76 requests were waiting". */
export function poolStory(req: HttpRequest, pool: PoolWait): string {
  const limit =
    pool.limitBy === 'connections'
      ? `the pool allows ${plural(pool.limit, 'connection', 'connections')} to ${originOf(req.reqURL)}`
      : pool.limitBy === 'maxTotalSockets'
        ? `the agent allows ${plural(pool.limit, 'socket', 'sockets')} in all`
        : `the agent allows ${plural(pool.limit, 'socket', 'sockets')} to ${originOf(req.reqURL)}`;
  return `${limit}, ${plural(pool.waiting, 'request was', 'requests were')} waiting`;
}

/**
 * A slow request whose longest phase was the wait in its pool: "waited 860 ms for a free
 * connection (84% of 1021 ms): the agent allows 4 sockets to 127.0.0.1:38775, 76 requests were
 * waiting". Undefined when the request did not wait in a pool.
 */
export function poolWaitSentence(req: HttpRequest, blockedMs: number, totalMs: number): string | undefined {
  if (!req.pool) return undefined;
  const pct = Math.round((blockedMs / totalMs) * 100);
  return `waited ${formatMs(blockedMs)} ms for a free connection (${pct}% of ${formatMs(totalMs)} ms): ${poolStory(req, req.pool)}`;
}

/**
 * Where a request that failed still waiting in its pool's queue stopped: "while waiting for a free
 * connection (…); the connection was held by GET http://…/big, whose response body was not read
 * to its end (65536 bytes arrived)". `holders`: the requests on the pool's connections then.
 */
export function poolWaitState(req: HttpRequest, holders?: HttpRequest[]): string | undefined {
  if (!req.pool || req.connAssignedAt !== undefined) return undefined;
  const held = holders?.length
    ? `; ${holders.length === 1 ? 'the connection was' : 'the connections were'} held by ${holders.map((h) => holderStory(h, req)).join(', ')}`
    : '';
  return `while waiting for a free connection (${poolStory(req, req.pool)})${held}`;
}

/** A request that held a connection while `waiter` waited: what it was doing when the wait ended. */
function holderStory(h: HttpRequest, waiter: HttpRequest): string {
  const what = `${h.reqMethod} ${h.reqURL}`;
  const end = waiter.reqEndAt ?? waiter.reqErrorAt ?? Infinity;
  if (h.respRecvAt !== undefined && h.respRecvAt <= end) {
    const bytes = h.respContentLen !== undefined ? ` (${plural(h.respContentLen, 'byte', 'bytes')} arrived)` : '';
    return `${what}, whose response body was not read to its end${bytes}`;
  }
  return `${what}, still waiting for its response`;
}
