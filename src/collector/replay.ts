/**
 * The collector's side of a replay (docs/replay.md): it holds the recording's table and its matcher
 * once for the whole run, so the order of each key holds across every process and thread (the 1st
 * `GET /jobs/7` made anywhere gets the 1st recorded answer). Each preload asks it about a request
 * that ended (ReplayAskMessage) and gets the answer on the same
 * socket the rule sets go down: the recorded exchange (its dates moved by the time since the
 * recording, unless `dates: 'keep'`), or that the request is not in the recording and what differed.
 * Never throws from the wire side: a malformed ask is answered as unmatched, and said.
 */

import type { MatchOptions, ReplayCall, ReplayMatch, ReplayTable } from '../replay';
import { fromBase64, parseReplayTable, ReplayInputError, ReplayMatcher, shiftDates, toBase64 } from '../replay';
import type { ReplaySettings } from '../protocol/options';
import type { ReplayAnswerMessage, ReplayAskMessage, ReplayBodyMessage } from '../protocol/replayWire';
import { REPLAY_BODY_PART } from '../protocol/replayWire';
import type { ReplayCounts, ReplayMark, ReplayRun, ReplayUnmatched } from '../trace/contract/replayMark';
import type { RulesPeer } from './rules';

/** The options of a replay (the `replay*` options, docs/replay.md). */
export type ReplayOptions = Omit<ReplaySettings, 'file'>;

/** A replay the session serves: the table read from `file` and the options. */
export interface ReplaySetup {
  /** The recording's name as the trace shows it (its file name). */
  file: string;
  table: ReplayTable;
  options: ReplayOptions;
}

/** The largest recording a replay reads (a JavaScript string holds at most about 512 MiB). */
export const MAX_RECORDING_BYTES = 512 * 1024 * 1024;

/**
 * A recording's text (`name`: its file's name) read into the collector's replay, for `nettrace run
 * --replay` and a launch's `replay` alike: a ReplayInputError says why it cannot be replayed.
 */
export function replaySetupOf(text: string, name: string, settings: ReplaySettings): ReplaySetup {
  const table = parseReplayTable(text, name);
  if (table.calls.length === 0)
    throw new ReplayInputError(
      `${name} has no recorded exchange a replay could answer with${table.warnings.length ? ` (${table.warnings.map((w) => w.message).join(' ')})` : ''}`,
    );
  const { file: _file, ...options } = settings;
  return { file: name, table, options };
}

/** Why a recording's file could not be read, in a user's words. */
export function unreadableWhy(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
}

/** What the replay needs from its session. */
export interface ReplayHost {
  /** The connection's writing side, while it is open. */
  peer(connection: number): RulesPeer | undefined;
  /** A warning in the trace's stats. */
  warn(message: string): void;
}

/** How a recorded call is named in a trace: its traceID in the recorded trace, or a HAR entry's place. */
export function callName(call: ReplayCall): string {
  return call.traceID ?? `entry ${call.sourceIndex + 1}`;
}

/** The session's replay: matches asks, answers them, counts them. */
export class ReplayServer {
  readonly counts: ReplayCounts = { replayed: 0, unmatched: 0, passed: 0 };
  private readonly matcher: ReplayMatcher;
  private readonly shiftMs: number;

  /** Throws ReplayInputError for a malformed option (a body field path). */
  constructor(
    private readonly setup: ReplaySetup,
    private readonly host: ReplayHost,
    now: number = Date.now(),
  ) {
    const o = setup.options;
    const match: MatchOptions = {
      ignoreQuery: o.ignoreQuery,
      ignoreFields: o.ignoreFields,
      matchHeaders: o.matchHeaders,
      ignoreHost: o.ignoreHost,
    };
    this.matcher = new ReplayMatcher(setup.table, match);
    const at = setup.table.recordedAt;
    this.shiftMs = o.dates === 'shift' && typeof at === 'number' && Number.isFinite(at) ? Math.round(now - at) : 0;
  }

  /** A preload's ask: matched and answered on its connection. Never throws. */
  ask(connection: number, m: ReplayAskMessage): void {
    if (typeof m.ask !== 'number' || !Number.isSafeInteger(m.ask)) {
      this.host.warn('a replay question from a traced process had no number: it was not answered');
      return;
    }
    let lines: string[];
    try {
      lines = this.answer(connection, m);
    } catch (err) {
      this.host.warn(`a replayed request could not be answered from the recording: ${(err as Error).message}`);
      lines = [JSON.stringify(this.unanswered(m.ask, `the replay failed on it (${(err as Error).message})`))];
    }
    const peer = this.host.peer(connection);
    if (!peer) return;
    for (const line of lines) peer.write(line + '\n');
  }

  /** The answer's lines: the ReplayAnswerMessage, then its body parts. */
  private answer(connection: number, m: ReplayAskMessage): string[] {
    const body = typeof m.body === 'string' && m.body !== '' ? fromBase64(m.body) : undefined;
    const request = {
      method: String(m.method ?? ''),
      url: String(m.url ?? ''),
      ...(Array.isArray(m.headers)
        ? {
            headers: m.headers
              .filter((p) => Array.isArray(p) && p.length === 2)
              .map((p) => [String(p[0]), String(p[1])] as [string, string]),
          }
        : {}),
      ...(body ? { body } : {}),
      ...(typeof m.bodySize === 'number' && body && m.bodySize > body.length ? { bodySize: m.bodySize } : {}),
    };
    const found: ReplayMatch = this.matcher.match(request);
    if (!found.matched) {
      const d = found.divergence;
      const mark: ReplayUnmatched = {
        outcome: this.setup.options.unmatched === 'pass' ? 'passed' : 'unmatched',
        reason: d.reason,
        differences: d.differences,
        summary: d.summary,
        ...(d.more > 0 ? { more: d.more } : {}),
        ...(d.nearest
          ? {
              nearest: {
                call: callName(d.nearest),
                method: d.nearest.method,
                url: d.nearest.url,
                ...(d.nearness ? { nearness: d.nearness } : {}),
              },
            }
          : {}),
      };
      return [JSON.stringify(this.notAnswered(m.ask, mark))];
    }
    const call = found.call;
    // A WebSocket is replayed over node:http's upgrade (ws and the clients over it), not yet over undici's (the global WebSocket).
    const upgrade = call.response?.status === 101;
    if (upgrade && m.client !== 'http' && m.client !== 'https') {
      const label = `${request.method.toUpperCase()} ${request.url}`;
      return [
        JSON.stringify(
          this.unanswered(
            m.ask,
            `${label}: the recording answered it with a WebSocket upgrade (101), which a replay gives to node:http's clients (ws) only, not yet to ${m.client}`,
            call,
          ),
        ),
      ];
    }
    this.counts.replayed++;
    const recorded = this.setup.options.timing === 'recorded';
    const bytes = call.body ?? new Uint8Array(0);
    const parts = Math.ceil(bytes.length / REPLAY_BODY_PART);
    const mark: ReplayMark = {
      outcome: 'replayed',
      call: callName(call),
      nth: found.nth,
      of: found.of,
      end: call.end.kind,
      ...(found.repeated ? { repeated: true as const } : {}),
      ...(call.bodyCut ? { cut: true as const } : {}),
      ...(recorded ? { timing: 'recorded' as const } : {}),
    };
    const answer: ReplayAnswerMessage = {
      type: 'replayAnswer',
      ask: m.ask,
      act: 'answer',
      mark,
      end: call.end,
      ...(call.interim?.length ? { interim: call.interim } : {}),
      ...(call.response ? { response: { ...call.response, headers: shiftDates(call.response.headers, this.shiftMs) } } : {}),
      ...(parts > 0 ? { parts } : {}),
      ...(call.bodyCut ? { bodyCut: true } : {}),
      ...(call.trailers?.length ? { trailers: call.trailers } : {}),
      ...(upgrade && call.messages?.length ? { messages: call.messages } : {}),
      ...(recorded && call.timing ? { timing: call.timing } : {}),
      ...(call.httpVersion ? { httpVersion: call.httpVersion } : {}),
      ...(call.address ? { address: call.address } : {}),
    };
    const lines = [JSON.stringify(answer)];
    for (let i = 0; i < parts; i++) {
      const part: ReplayBodyMessage = {
        type: 'replayBody',
        ask: m.ask,
        data: toBase64(bytes.subarray(i * REPLAY_BODY_PART, (i + 1) * REPLAY_BODY_PART)),
      };
      lines.push(JSON.stringify(part));
    }
    return lines;
  }

  /** A request the recording has no answer for: refused, or passed to the network. */
  private notAnswered(ask: number, mark: ReplayUnmatched): ReplayAnswerMessage {
    if (mark.outcome === 'passed') this.counts.passed++;
    else this.counts.unmatched++;
    return { type: 'replayAnswer', ask, act: mark.outcome === 'passed' ? 'pass' : 'refuse', mark };
  }

  /** A request the replay cannot answer although it may be recorded (`not-replayable`). */
  private unanswered(ask: number, summary: string, call?: ReplayCall): ReplayAnswerMessage {
    return this.notAnswered(ask, {
      outcome: this.setup.options.unmatched === 'pass' ? 'passed' : 'unmatched',
      reason: 'not-replayable',
      differences: [],
      summary,
      ...(call ? { nearest: { call: callName(call), method: call.method, url: call.url } } : {}),
    });
  }

  /**
   * The trace's `replay`. `unheld`: requests the preloads sent to the network themselves, their
   * connection made outside the replay (never asked about here): counted as passed.
   */
  run(unheld = 0): ReplayRun {
    const { file, table, options } = this.setup;
    const warnings = table.warnings.map((w) => ({
      code: w.code,
      count: w.count,
      message: w.message,
      ...(w.example !== undefined ? { example: w.example } : {}),
    }));
    return {
      file,
      source: table.source,
      ...(typeof table.recordedAt === 'number' && Number.isFinite(table.recordedAt)
        ? { recordedAt: new Date(table.recordedAt).toISOString() }
        : {}),
      calls: table.calls.length,
      unused: this.matcher.unused().length,
      counts: { ...this.counts, passed: this.counts.passed + unheld },
      options: {
        unmatched: options.unmatched,
        timing: options.timing,
        dates: options.dates,
        ...(options.ignoreQuery.length ? { ignoreQuery: options.ignoreQuery.slice() } : {}),
        ...(options.ignoreFields.length ? { ignoreFields: options.ignoreFields.slice() } : {}),
        ...(options.matchHeaders.length ? { matchHeaders: options.matchHeaders.slice() } : {}),
        ...(options.ignoreHost ? { ignoreHost: true as const } : {}),
      },
      ...(warnings.length ? { warnings } : {}),
    };
  }
}
