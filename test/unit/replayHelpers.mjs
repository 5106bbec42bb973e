// Builds recorded traces for the replay tests (src/replay/): a trace with `httpRequests`,
// `exchanges` and `recording` in the contract's shape (src/trace/contract/recording.ts), from a
// short list of calls, read back through the same reader a replay uses.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** dist/core.cjs; `replay`: src/replay/ as it exports it. */
export const core = require('../../dist/core.cjs');
export const { replay } = core;

export const BEGIN = Date.parse('2026-11-20T09:00:00.000Z');
const b64 = (s) => Buffer.from(s).toString('base64');

/**
 * A recorded trace of `calls`: each `{ method, url, body?, status?, answer?, headers?, reqHeaders?,
 * end?, timing?, messages? }`, started 1 ms apart in the order given. `body` is the request body (string or object,
 * an object sent as JSON); `answer` the response body.
 */
export function traceOf(calls) {
  const httpRequests = [];
  const exchanges = [];
  calls.forEach((c, i) => {
    const traceID = `req-${i + 1}`;
    httpRequests.push({
      traceID,
      pid: 100,
      threadId: 0,
      client: 'fetch',
      reqMethod: c.method ?? 'GET',
      reqURL: c.url,
      reqStartAt: c.startAt ?? i,
      reqHeaders: c.reqHeaders ?? [['accept', '*/*']],
    });
    const body = c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    const answer = c.answer ?? `answer ${i + 1}`;
    exchanges.push({
      traceID,
      ...(body !== undefined ? { reqBody: { base64: b64(body), size: Buffer.byteLength(body) } } : {}),
      ...(c.reqBody ? { reqBody: c.reqBody } : {}),
      response: { status: c.status ?? 200, statusText: 'OK', headers: c.headers ?? [['content-type', 'text/plain']] },
      body: { base64: b64(answer), size: Buffer.byteLength(answer) },
      end: c.end ?? { kind: 'completed' },
      ...(c.timing ? { timing: c.timing } : {}),
      ...(c.messages ? { messages: c.messages } : {}),
    });
  });
  return {
    formatVersion: 1,
    description: 'test',
    traceBeginAt: new Date(BEGIN).toISOString(),
    processes: [],
    httpRequests,
    dials: [],
    tcpConns: [],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
    exchanges,
    recording: { recordedAt: BEGIN, maxBodyBytes: 4194304, maxRunBytes: 268435456, cutExchanges: 0, cutBytes: 0 },
  };
}

/** A matcher over a recorded trace of `calls`. */
export function matcherOf(calls, options) {
  return new replay.ReplayMatcher(replay.readReplayTable(traceOf(calls)), options);
}

/** The response body of a match as text, or the divergence's summary when unmatched. */
export function answerOf(result) {
  return result.matched ? Buffer.from(result.call.body ?? []).toString() : `unmatched: ${result.divergence.summary}`;
}
