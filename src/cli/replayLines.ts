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
import { unmatchedWords } from '../trace/diagnosis/replayText';
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
 * calls unused.`), then the requests not in the recording, each with what differed and its line
 * (the first few; `nettrace show` lists them all).
 */
export function replayLines(trace: Trace, max = 5): string {
  const run = trace.replay;
  if (!run) return '';
  const c = run.counts;
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const parts = [`${plural(c.replayed, 'request')} answered from the recording`];
  if (c.unmatched > 0 || run.options.unmatched === 'fail') parts.push(`${c.unmatched} not in it (failed: the network is off)`);
  if (c.passed > 0 || run.options.unmatched === 'pass') parts.push(`${c.passed} not in it, passed to the network`);
  const unused = run.unused > 0 ? `; ${plural(run.unused, 'recorded call')} not asked for` : '';
  let out = `Replay of ${sanitize(run.file)}: ${parts.join(', ')}${unused}.\n`;
  const unmatched = trace.httpRequests.filter((r) => r.replay && r.replay.outcome !== 'replayed');
  for (const req of unmatched.slice(0, max)) {
    const m = req.replay as ReplayUnmatched;
    const line = lineOf(req);
    out += `  not in the recording${line ? ` (${sanitize(line)})` : ''}: ${sanitize(unmatchedWords(m, req))}\n`;
  }
  if (unmatched.length > max) out += `  … and ${unmatched.length - max} more (nettrace show lists them)\n`;
  return out;
}
