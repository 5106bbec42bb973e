/** Small text helpers of the diagnosis sentences (diagnosis.ts, dnsStory.ts, loopDiagnosis.ts). */

import type { Phase } from '../derive/timings';

/** Each timing phase as a sentence names it ("the server's first-byte wait"). */
export const PHASE_NAMES: Record<Phase, string> = {
  blocked: 'wait for a free connection',
  dns: 'DNS lookup',
  connect: 'TCP connect',
  ssl: 'TLS handshake',
  send: 'request upload',
  wait: "server's first-byte wait",
  receive: 'response body download',
};

/** Formats milliseconds for a sentence: "0.4", "3", "12", "1250". */
export function formatMs(ms: number): string {
  if (ms < 10) {
    const s = (Math.round(ms * 10) / 10).toFixed(1);
    return s.endsWith('.0') ? s.slice(0, -2) : s;
  }
  return String(Math.round(ms));
}

/** "1 attempt", "2 attempts". */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Why a request never finished (its `incomplete` reason), in words: "the process exited". */
export function incompleteWhy(reason: string): string {
  const who: Record<string, string> = {
    'process killed': 'the process was killed',
    'thread terminated': 'its worker thread was terminated',
    'process exited': 'the process exited',
    'thread exited': 'its worker thread exited',
    'trace stopped': 'the trace stopped',
  };
  return who[reason] ?? reason;
}
