/**
 * An undici request that waits in a queue for a connection (undiciPool.ts), as the hooks record
 * it when it is created: its pool, its turn, or the program's abort while it waited; and the
 * rules' end of a request (shared with undiciHooks.ts).
 */

import type { Hook, Tracer } from '../tracer';
import { now } from '../clock/epoch';
import type { UState } from './undiciState';
import type { RequestError } from '../../trace/contract/types';
import { ruleEnd } from '../rules/ruleHooks';
import { abortFromTimer, clientQueueWait, onFetchAbort, queuedAbortError, type QueuedCall } from './undiciPool';

/**
 * A request just created: `drained` from a pool's queue (drainedFields), or one that waits in its
 * Client's queue (clientQueueWait: its turn comes at `undici:client:sendHeaders`), its fetch's
 * abort watched meanwhile.
 */
export function queuedAtCreate(t: Tracer, hook: Hook, s: UState, drained: QueuedCall | undefined): void {
  if (drained !== undefined) return drainedFields(t, s, drained);
  const wait = clientQueueWait();
  if (wait === undefined) return;
  s.queuedInClient = true;
  t.record('httpRequests', s.id, { pool: wait });
  s.unwatchAbort = onFetchAbort((reason) => t.guard(hook, () => abortedInQueue(t, s, queuedAbortError(reason, abortFromTimer()), now())));
}

/**
 * A request a full pool queued, created now that a connection is free: its pool and the
 * assignment; or, its fetch() aborted while it waited, that end (undici aborts it now).
 */
function drainedFields(t: Tracer, s: UState, drained: QueuedCall): void {
  if (drained.abortedAt === undefined) return t.record('httpRequests', s.id, { pool: drained.pool, connAssignedAt: now() });
  t.record('httpRequests', s.id, { pool: drained.pool });
  abortedInQueue(t, s, drained.reason!, drained.abortedAt);
}

/**
 * The program's fetch() of a request still waiting in a queue was aborted (its timeout, its
 * AbortController): the request ended then, with the program's error; what undici says of it later
 * (it aborts the request once a connection is free, or destroys it with its pool) is not recorded.
 */
function abortedInQueue(t: Tracer, s: UState, reqError: RequestError, at: number): void {
  if (s.done) return;
  s.done = true;
  s.queuedInClient = false;
  const fields: Record<string, unknown> = { reqError, reqEndAt: at };
  if (s.rules !== undefined && s.rules.pending) endByRules(t, s, fields);
  t.record('httpRequests', s.id, fields);
}

/** A request whose rules wait for its end (docs/rules.md): what to keep, from what `fields` say. */
export function endByRules(t: Tracer, s: UState, fields: Record<string, unknown>): void {
  const end = (fields.respDoneAt ?? fields.reqEndAt) as number | undefined;
  ruleEnd(
    t,
    s.rules,
    {
      status: s.status,
      error: (fields.reqError as RequestError | undefined) ?? null,
      durationMs: end === undefined ? undefined : end - s.startAt,
      respSize: s.gotResponse ? s.bodyBytes : undefined,
    },
    fields,
  );
}
