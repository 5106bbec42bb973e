/**
 * The slow sentence of a request a what-if `delay` or `throttle` rule stretched (diagnosis.ts): the
 * phase the rule stretched named without the server or the network, and the rule's part said.
 */
import type { HttpRequest } from '../contract/types';
import type { Phase } from '../derive/timings';
import { formatMs, PHASE_NAMES } from './sentence';

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
      name: phase === 'connect' ? PHASE_NAMES.connect : PHASE_NAMES.blocked,
      evidence: `${ms} of it the what-if rule's delay, not the network's`,
    };
  if (w.action === 'throttle' && phase === 'receive')
    return {
      name: PHASE_NAMES.receive,
      evidence: `at the what-if rule's rate${w.rate !== undefined ? ` (${w.rate} bytes a second)` : ''}, not the network's`,
    };
  return undefined;
}
