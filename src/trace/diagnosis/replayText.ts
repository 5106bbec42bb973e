/**
 * The words for what a replay did with a request (`HttpRequest.replay`, docs/replay.md), one
 * definition for the diagnosis, `nettrace show`, the HAR's comment and the panel: "Replayed:
 * answered from the recording (the 2nd of 3 recorded GET /jobs/7)", "Not in the recording: POST
 * /orders differed from the nearest recorded request (req-2): body field `qty`: 5, recorded 4".
 */

import type { ReplayCounts, ReplayMark, ReplayUnmatched } from '../contract/replayMark';
import type { HttpRequest } from '../contract/types';
import { whatIfWithoutNetwork } from './whatIfText';

/**
 * True when what the program received for the request came from the recording with no contact
 * with a network (answered, or failed as refused because it was not in the recording): its dial,
 * if any was recorded, had no lookup, connect or handshake of its own.
 */
export function replayedWithoutNetwork(m: ReplayMark | undefined): boolean {
  return m !== undefined && m.outcome !== 'passed';
}

/** True when a what-if rule or the replay made what the program received without a network (their sentence says so; no server answered). */
export function answeredWithoutNetwork(req: Pick<HttpRequest, 'whatIf' | 'replay'>): boolean {
  return whatIfWithoutNetwork(req.whatIf) || replayedWithoutNetwork(req.replay);
}

/** `2nd`, `3rd`, `11th`. */
export function ordinal(n: number): string {
  const tens = n % 100;
  return `${n}${tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;
}

/** A request in short: its method and its URL's path (`GET /jobs/7`). */
function shortRequest(method: string | undefined, url: string | undefined): string {
  let path = url ?? '';
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(path);
  if (m) path = m[1] || '/';
  return `${method ?? '?'} ${path}`;
}

/** How a recorded exchange ended, as replayed, in words ("a connection reset"). */
const END_WORDS: Readonly<Record<string, string>> = {
  refused: 'a refused connection',
  dns: 'a name that did not resolve',
  tls: 'a TLS failure',
  reset: 'a connection reset',
  closed: 'a connection the server closed before the response was whole',
  timeout: 'no answer (the program’s own timeout ended it)',
  aborted: 'no answer (the program aborted it)',
};

/** The short tag of a row: `replay`, `replay: not recorded`, `replay: not replayed` (see notRecorded), `replay: passed`. */
export function replayTag(m: ReplayMark): string {
  if (m.outcome === 'replayed') return 'replay';
  return m.outcome === 'passed' ? 'replay: passed' : notRecorded(m) ? 'replay: not recorded' : 'replay: not replayed';
}

/**
 * Whether a request the replay did not answer was not in the recording, as far as the replay
 * knows: false for one it could not answer whether recorded or not (`not-replayable`: an answer of
 * a kind it does not give yet; `unheld`: its connection was made outside the replay, never matched).
 */
export function notRecorded(m: ReplayUnmatched): boolean {
  return m.reason !== 'not-replayable' && m.reason !== 'unheld';
}

/** The first words of an unanswered request's sentence: `Not in the recording`, or `Not replayed` (see notRecorded). */
export function unansweredHead(m: ReplayUnmatched): string {
  return notRecorded(m) ? 'Not in the recording' : 'Not replayed';
}

/**
 * What became of a request the replay did not answer: failed as refused (the network is off), or
 * sent to the network, by `--replay-unmatched pass` or, `unheld`, whatever that option says.
 */
export function unansweredThen(m: ReplayUnmatched): string {
  if (m.outcome !== 'passed') return 'It failed as a refused connection: the network is off during a replay.';
  return m.reason === 'unheld' ? 'It was sent to the network.' : 'It was sent to the network (--replay-unmatched pass).';
}

/** Why a request was not in the recording: what differed from the nearest recorded request, or the divergence's sentence. */
export function unmatchedWords(m: ReplayUnmatched, req: Pick<HttpRequest, 'reqMethod' | 'reqURL'>): string {
  if (m.reason === 'differs' && m.nearest) {
    const more = m.more ? ` (and ${m.more} more)` : '';
    const what = m.differences.length > 0 ? `: ${m.differences.join('; ')}${more}` : '';
    return `${shortRequest(req.reqMethod, req.reqURL)} differed from the nearest recorded request (${m.nearest.call}, ${m.nearest.method} ${m.nearest.url})${what}`;
  }
  return m.summary.replace(/\.$/, '');
}

/**
 * The replay's sentence of a request: `Replayed: answered from the recording (the 2nd of 3
 * recorded GET /jobs/7).`, `Replayed: a connection reset, as recorded (…).`, `Not in the
 * recording: … It failed as a refused connection: the network is off during a replay.`, `Not
 * replayed: its connection was made outside the replay … It was sent to the network.`
 */
export function replaySentence(m: ReplayMark, req: Pick<HttpRequest, 'reqMethod' | 'reqURL'>): string {
  if (m.outcome === 'replayed') {
    const key = shortRequest(req.reqMethod, req.reqURL);
    const which = m.repeated
      ? `the last of ${m.of} recorded ${key}, given again`
      : m.of === 1
        ? `the one recorded ${key}`
        : `the ${ordinal(m.nth)} of ${m.of} recorded ${key}`;
    const timing = m.timing === 'recorded' ? ', with its recorded delays' : '';
    const cut = m.cut ? '; its body was cut by the recording’s cap, so it ended in a reset where the recording does' : '';
    const what = m.end === 'completed' ? 'answered from the recording' : `${END_WORDS[m.end] ?? m.end}, as recorded`;
    return `Replayed: ${what} (${which}${timing})${cut}.`;
  }
  return `${unansweredHead(m)}: ${unmatchedWords(m, req)}. ${unansweredThen(m)}`;
}

/** How many requests a replay answered, had no answer for (refused), and passed to the network, from their marks. */
export function replayCountsOf(requests: readonly HttpRequest[]): ReplayCounts {
  const c: ReplayCounts = { replayed: 0, unmatched: 0, passed: 0 };
  for (const r of requests) if (r.replay) c[r.replay.outcome]++;
  return c;
}

/** How many of `requests` a preload sent to the network because their connection was made outside the replay (`unheld`). */
export function unheldCount(requests: readonly Pick<HttpRequest, 'replay'>[]): number {
  let n = 0;
  for (const r of requests) if (r.replay?.outcome === 'passed' && r.replay.reason === 'unheld') n++;
  return n;
}

/** The counts in words for a summary line: `12 replayed, 1 not in the recording, 0 passed through` ('' for none). */
export function replayCountsText(c: ReplayCounts): string {
  if (c.replayed + c.unmatched + c.passed === 0) return '';
  const parts = [`${c.replayed} replayed`, `${c.unmatched} not in the recording`];
  if (c.passed > 0) parts.push(`${c.passed} passed to the network`);
  return parts.join(', ');
}
