/**
 * Small text helpers of the diagnosis sentences (diagnosis.ts, dnsStory.ts, loopDiagnosis.ts,
 * kernelStory.ts), the slow sentence's words for a phase a what-if rule stretched (whatIfSlowDetail),
 * and the one formatting of durations and byte counts of src/ (the sentences, the kernel facts, the
 * CLI; the panel's own columns and tooltips: webview/format.ts).
 */

import type { HttpRequest } from '../contract/types';
import type { Phase } from '../derive/timings';
import { PHASE_WORDS } from '../derive/words';

/** Formats milliseconds for a sentence: "0.4", "3", "12", "1250". */
export function formatMs(ms: number): string {
  if (ms < 10) {
    const s = (Math.round(ms * 10) / 10).toFixed(1);
    return s.endsWith('.0') ? s.slice(0, -2) : s;
  }
  return String(Math.round(ms));
}

/** Microseconds as "0.42 ms", "12.3 ms", "1.25 s". */
export function formatUs(us: number): string {
  const ms = us / 1000;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A byte count: "512 B", "1.2 kB", "3.4 MB" (decimal units); "-" when unknown. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || n < 0) return '-';
  if (n < 1000) return `${n} B`;
  if (n < 1000 * 1000) return `${(n / 1000).toFixed(1)} kB`;
  if (n < 1000 * 1000 * 1000) return `${(n / 1000 / 1000).toFixed(1)} MB`;
  return `${(n / 1000 / 1000 / 1000).toFixed(1)} GB`;
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

/**
 * The slow phase of a request a what-if `delay` or `throttle` rule acted on, when it is the phase
 * the rule stretched: named without the server ("the first-byte wait", not "the server's"), the
 * rule's part said, so the sentence never blames the server or the network for the rule's time.
 */
export function whatIfSlowDetail(req: HttpRequest, phase: Phase): { name: string; evidence?: string } | undefined {
  const w = req.whatIf;
  if (w === undefined) return undefined;
  const ms = w.ms !== undefined ? `${formatMs(w.ms)} ms` : 'part';
  if (w.action === 'delay' && phase === 'wait' && w.kind !== 'connect')
    return { name: 'first-byte wait', evidence: `${ms} of it the what-if rule's delay, not the server's` };
  if (w.action === 'delay' && w.kind === 'connect' && (phase === 'connect' || phase === 'blocked'))
    return {
      name: phase === 'connect' ? PHASE_WORDS.connect.name : PHASE_WORDS.blocked.name,
      evidence: `${ms} of it the what-if rule's delay, not the network's`,
    };
  if (w.action === 'throttle' && phase === 'receive')
    return {
      name: PHASE_WORDS.receive.name,
      evidence: `at the what-if rule's rate${w.rate !== undefined ? ` (${w.rate} bytes a second)` : ''}, not the network's`,
    };
  return undefined;
}
