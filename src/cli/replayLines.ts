/**
 * The closing lines of a replayed run (`nettrace run --replay`, `nettrace show`; docs/replay.md):
 * how many requests the recording answered, how many it had no answer for, how many went to the
 * network, and each request it had no answer for, with what differed from the nearest recorded
 * one and the program's line.
 */

import { basename } from 'node:path';
import type { HttpRequest, Trace } from '../trace/contract/types';
import type { ReplayUnmatched } from '../trace/contract/replayMark';
import { requestLine } from '../trace/derive/initiatorLine';
import { unansweredHead, unheldCount, unmatchedWords } from '../trace/diagnosis/replayText';
import { sanitize } from './text';

/** The program's line of a request (requestLine: its initiator's program frame), `app.js:12`, or ''. */
export function lineOf(req: HttpRequest): string {
  const frame = requestLine(req);
  if (!frame || !frame.file) return '';
  return `${basename(frame.file.replace(/^file:\/\//, ''))}:${frame.line}`;
}

/**
 * The closing lines of a replayed run: its counts (`Replay of run.json: 12 requests answered from
 * the recording, 1 not in it (failed: the network is off), 0 passed to the network; 2 recorded
 * calls unused.`; a request whose connection was made outside the replay counted apart), then the
 * requests the recording did not answer, each with what differed and its line (the first few;
 * `nettrace show` lists them all).
 */
export function replayLines(trace: Trace, max = 5): string {
  const run = trace.replay;
  if (!run) return '';
  const c = run.counts;
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const parts = [`${plural(c.replayed, 'request')} answered from the recording`];
  if (c.unmatched > 0 || run.options.unmatched === 'fail') parts.push(`${c.unmatched} not in it (failed: the network is off)`);
  // Passed by `--replay-unmatched pass`, or (`unheld`) whatever it says: the option's words only for the first.
  const unheld = unheldCount(trace.httpRequests);
  const passedUnmatched = Math.max(0, c.passed - unheld);
  if (passedUnmatched > 0 || run.options.unmatched === 'pass') parts.push(`${passedUnmatched} not in it, passed to the network`);
  if (unheld > 0)
    parts.push(
      `${unheld} not replayed (${unheld === 1 ? 'its connection was' : 'their connections were'} made outside the replay), sent to the network`,
    );
  const unused = run.unused > 0 ? `; ${plural(run.unused, 'recorded call')} not asked for` : '';
  let out = `Replay of ${sanitize(run.file)}: ${parts.join(', ')}${unused}.\n`;
  const unmatched = trace.httpRequests.filter((r) => r.replay && r.replay.outcome !== 'replayed');
  for (const req of unmatched.slice(0, max)) {
    const m = req.replay as ReplayUnmatched;
    const line = lineOf(req);
    out += `  ${unansweredHead(m).toLowerCase()}${line ? ` (${sanitize(line)})` : ''}: ${sanitize(unmatchedWords(m, req))}\n`;
  }
  if (unmatched.length > max) out += `  … and ${unmatched.length - max} more (nettrace show lists them)\n`;
  return out;
}
