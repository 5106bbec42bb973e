/**
 * An `http.Agent`'s queue: a request made while every socket the agent allows to its host is busy
 * waits in `agent.requests` until one is free. Noted at the call (its pool's limit and queue) and
 * at the socket's assignment (ClientRequest#onSocket), for its `blocked` time (httpHooks.ts).
 */

import type { Hook, Tracer } from '../tracer';
import { now } from '../clock/epoch';
import type { ReqState, TracedRequest } from './httpState';

/** The parts of an `http.Agent` noteQueued reads. */
interface AgentQueues {
  requests?: Record<string, unknown[] | undefined>;
  sockets?: Record<string, unknown[] | undefined>;
  maxSockets?: number;
  maxTotalSockets?: number;
}

/**
 * A request just made (http.request() returned it) that its agent put in its queue, every socket
 * it allows busy (`agent.requests`, by host and port: the request is the last of one list): the
 * pool's limit and how many requests wait, itself included. An agent deletes an empty list, so
 * with no queue this is a loop over an empty object.
 */
export function noteQueued(t: Tracer, req: TracedRequest, s: ReqState): void {
  const agent = req.agent as AgentQueues | undefined | false | null;
  const queues = agent ? agent.requests : undefined;
  if (!agent || !queues || typeof queues !== 'object') return;
  for (const key in queues) {
    const list = queues[key];
    if (!Array.isArray(list) || list[list.length - 1] !== req) continue;
    const perHost = agent.maxSockets ?? Infinity;
    const busy = agent.sockets?.[key]?.length ?? 0;
    // Node's Agent#addRequest queues when either limit is reached: the one that was.
    s.pool =
      busy >= perHost || !Number.isFinite(agent.maxTotalSockets ?? Infinity)
        ? { limitBy: 'maxSockets', limit: perHost, waiting: list.length }
        : { limitBy: 'maxTotalSockets', limit: agent.maxTotalSockets!, waiting: list.length };
    if (s.started) t.record('httpRequests', s.id, { pool: s.pool });
    return;
  }
}

/** A queued request was given its socket (ClientRequest#onSocket): the end of its `blocked` wait. */
export function socketAssigned(t: Tracer, _hook: Hook, s: ReqState): void {
  s.connAt = now();
  if (s.started) t.record('httpRequests', s.id, { connAssignedAt: s.connAt });
}
