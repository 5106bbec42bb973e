/**
 * When a replayed answer's parts reach the program (docs/replay.md, "Time"): at once
 * (`--replay-timing now`), or as recorded (`recorded`): the head `firstByteMs` after the request
 * started, and each part of the body at its recorded time after that, in its recorded size, so two
 * concurrent answers that arrived B before A arrive B before A again. The timers are Node's own,
 * bound before the program ran; a step whose time has passed runs at once, in order.
 */

import type { RecordedTiming } from '../../trace/contract/recording';
import { orig } from '../transport/collectorNet';

/** A body's parts with the time each arrived, ms after the first byte: its recorded reads, or one part at 0. */
export function bodyParts(body: Buffer, timing: RecordedTiming | undefined): Array<[number, Buffer]> {
  const chunks = timing?.chunks;
  if (!chunks || chunks.length === 0 || body.length === 0) return body.length > 0 ? [[0, body]] : [];
  const out: Array<[number, Buffer]> = [];
  let at = 0;
  for (const [ms, n] of chunks) {
    if (at >= body.length) break;
    const take = Math.min(Math.max(0, Math.floor(n)), body.length - at);
    if (take === 0) continue;
    out.push([ms, body.subarray(at, at + take)]);
    at += take;
  }
  // Bytes the reads do not account for (a recording's rounding, a cap) come with the last.
  if (at < body.length) {
    const last = out.pop();
    out.push(last ? [last[0], Buffer.concat([last[1], body.subarray(at)])] : [0, body.subarray(at)]);
  }
  return out;
}

/**
 * Runs `steps` in order, each at its time: the first at `startedAt` (performance.now() ms, the
 * request's start) plus its ms, each later one at its ms after the first's (the recorded spacing
 * kept from when the first byte really went, late or not); `alive` false stops what is left.
 */
export function runPaced(startedAt: number, steps: Array<[number, () => void]>, alive: () => boolean): void {
  let i = 0;
  let base = startedAt;
  const next = (): void => {
    while (i < steps.length) {
      if (!alive()) return;
      const [ms, fn] = steps[i];
      const wait = base + ms - orig.perfNow();
      if (wait > 1) {
        orig.setTimeout(next, wait);
        return;
      }
      // The first step (the head) went now: the later ones keep their spacing from it.
      if (i === 0) base = orig.perfNow() - ms;
      i++;
      fn();
    }
  };
  next();
}

/**
 * The steps of an answer: its head at `firstByteMs` (0 with no timing: at once), each body part at
 * the first byte plus its offset; `head` and `part` make each, `end` comes with the last part.
 */
export function answerSteps(
  timing: RecordedTiming | undefined,
  parts: Array<[number, Buffer]>,
  head: () => void,
  part: (b: Buffer) => void,
  end: () => void,
): Array<[number, () => void]> {
  const first = timing?.firstByteMs ?? 0;
  const steps: Array<[number, () => void]> = [[first, head]];
  for (const [ms, b] of parts) steps.push([first + ms, () => part(b)]);
  steps.push([steps[steps.length - 1][0], end]);
  return steps;
}
