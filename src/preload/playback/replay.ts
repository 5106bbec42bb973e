/**
 * A replay in the preload (docs/replay.md): installed only when NETTRACE_CONFIG has a `replay`
 * (the default path is left as it is). It reads the collector's answers (replayLink.ts) and holds
 * the sockets the program's HTTP clients open for their requests (replaySocket.ts): those opened
 * while a client builds or dispatches a request (`claimDials` around that call), never the
 * program's other connections (a database's, its own protocols'), which go on as they are.
 */

import type { Tracer } from '../tracer';
import { replaceFunction } from '../tracer';
import { listenForAnswers } from './replayLink';
import { answerOn, holdDial, holdOf } from './replaySocket';
import { takeUndiciClaim, watchUndiciConnects } from './replayUndici';
import { isOwnConnector, ownDialing } from './replayPass';

/** Calls of claimDials in progress: a socket connected meanwhile is a replayed request's. */
let claiming = 0;

/** Runs `fn` (a client building or dispatching a request); the sockets it connects are held for the replay. */
export function claimDials<T>(fn: () => T): T {
  claiming++;
  try {
    return fn();
  } finally {
    claiming--;
  }
}

/** Sets the replay up in this thread (index.ts, when the configuration has one). */
export function installReplay(t: Tracer): void {
  listenForAnswers(t);
  watchUndiciConnects(isOwnConnector);
  // The http2 hooks install when the program loads http2, which an ES module's import does
  // unseen on Node 20 until its first connect: under a replay that connect must not happen, so
  // http2 is loaded now (a replay's start costs that much more: about 15 ms).
  try {
    require('node:http2');
  } catch {
    // No http2 in this runtime: nothing to replay of it.
  }
  t.replayDial = (socket, args) => {
    // The replay's own pass-through connection (replayPass.ts) reaches the network.
    if (ownDialing()) {
      takeUndiciClaim();
      return undefined;
    }
    // A connection undici opens: its requests are taken from it (replayUndici.ts), so it is
    // completed at once, idle, never reaching the network.
    if (takeUndiciClaim()) {
      const held = holdDial(socket, args);
      const hold = holdOf(socket);
      if (hold) answerOn(hold, undefined, () => {});
      return held;
    }
    return claiming > 0 ? holdDial(socket, args) : undefined;
  };
}

let agentsWrapped = false;

/**
 * An http Agent makes a socket for a request it queued (at `maxSockets`) once another frees up,
 * outside the request's http.request() call: its `createSocket` is claimed too. Once, when the
 * first replayed http request is made (http is loaded then).
 */
export function claimAgentSockets(): void {
  if (agentsWrapped) return;
  agentsWrapped = true;
  const http = require('node:http') as typeof import('node:http');
  const proto = http.Agent.prototype as unknown as Record<string, Function>;
  const createSocket = proto.createSocket;
  if (typeof createSocket !== 'function') return;
  replaceFunction(
    proto,
    'createSocket',
    function (this: unknown, ...args: unknown[]): unknown {
      return claimDials(() => createSocket.apply(this, args));
    },
    createSocket,
  );
}
