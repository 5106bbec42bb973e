/**
 * The detail's line when a replay answered the request or did not find it (docs/replay.md): how
 * the recorded exchange ended, the nth of N with its key, and which recorded call it was; or that it
 * was not in the recording, the nearest recorded request and each thing that differed, and what
 * happened to it then. The request's diagnosis starts with the same sentence (src/trace/enrich.ts):
 * the detail says it here, once, and keeps only the rest of the diagnosis ("The program saw: …").
 */
import type { HttpRequest } from '../../src/trace/contract/types';
import { replaySentence, unansweredHead, unansweredThen } from '../../src/trace/diagnosis/replayText';
import { h, icon } from '../dom';

/** The request's diagnosis without the replay's sentence it starts with (undefined when nothing is left). */
export function diagnosisAfterReplay(req: Pick<HttpRequest, 'replay' | 'diagnosis' | 'reqMethod' | 'reqURL'>): string | undefined {
  const d = req.diagnosis;
  if (!req.replay || d === undefined) return d;
  const said = replaySentence(req.replay, req);
  if (!d.startsWith(said)) return d;
  return d.slice(said.length).trim() || undefined;
}

/** The replay's line of the detail, or undefined when the request was not made under a replay. */
export function replayLine(req: HttpRequest): HTMLElement | undefined {
  const m = req.replay;
  if (!m) return undefined;
  const out = h('div', 'detail-whatif detail-replay');
  if (m.outcome === 'replayed') {
    // "Replayed: a connection reset, as recorded (the 2nd of 3 recorded GET /jobs/7). Recorded call: req-12."
    const text = `${replaySentence(m, req)} Recorded call: ${m.call}.`;
    out.append(h('div', 'whatif-part', null, icon('debug-restart'), h('span', 'selectable replay-text', null, text)));
    return out;
  }
  // The nearest and what differed have lines of their own below: the first line says what happened.
  const first = m.reason === 'differs' && m.nearest ? `${unansweredHead(m)}. ${unansweredThen(m)}` : replaySentence(m, req);
  out.append(h('div', 'whatif-part', null, icon('debug-restart'), h('span', 'selectable replay-text', null, first)));
  if (m.nearest) {
    const near = m.nearest.nearness ? `, ${m.nearest.nearness}` : '';
    out.append(
      h(
        'div',
        'whatif-part',
        null,
        icon('search'),
        h(
          'span',
          'selectable replay-nearest',
          null,
          `Nearest recorded request: ${m.nearest.call} (${m.nearest.method} ${m.nearest.url}${near}).`,
        ),
      ),
    );
  }
  if (m.differences.length > 0) {
    const list = h('ul', 'replay-differences selectable', { 'aria-label': 'What differed from the recording' });
    for (const d of m.differences) list.append(h('li', null, null, d));
    if (m.more) list.append(h('li', 'muted', null, `and ${m.more} more`));
    out.append(h('div', 'whatif-part', null, icon('diff'), h('span', null, null, 'What differed:', list)));
  }
  return out;
}
