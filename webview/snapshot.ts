/** The snapshot of a `reset` message, as the panel accepts it from the host. */

import type { ResetMessage, TraceSnapshot } from '../src/protocol/webview';

/** The snapshot of a `reset`, parsed from `traceJson` when the host sent a string; null if unusable. */
export function readSnapshot(msg: ResetMessage): TraceSnapshot | null {
  let snap: unknown = msg.trace;
  if (snap === undefined && typeof msg.traceJson === 'string') {
    try {
      snap = JSON.parse(msg.traceJson);
    } catch (e) {
      console.error('nettrace: reset.traceJson is not valid JSON', e);
      return null;
    }
  }
  if (typeof snap !== 'object' || snap === null || !Array.isArray((snap as TraceSnapshot).httpRequests)) {
    console.error('nettrace: reset without a usable trace snapshot');
    return null;
  }
  return snap as TraceSnapshot;
}
