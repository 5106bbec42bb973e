/**
 * The replay table of a trace recorded with `--record`: its `exchanges[]` (src/trace/contract/
 * recording.ts) joined to `httpRequests[]` by traceID for the method, URL, headers, process and
 * start, in the order the requests started. Exchanges or requests that cannot be replayed are left
 * out and counted; a file that is not a recorded trace is a ReplayInputError.
 */

import type { HeaderPair, HttpRequest } from '../trace/contract/types';
import {
  RECORDED_END_KINDS,
  type RecordedEnd,
  type RecordedMessage,
  type RecordedTiming,
  type RecordingInfo,
} from '../trace/contract/recording';
import { headOf, isRecord, num, recordedBytes, str, tracePairs } from './shape';
import { ReplayInputError, WarningCounter, type ReplayCall, type ReplayTable } from './types';

/** Reads the replay table of a parsed trace file (see the file comment). */
export function tableFromTrace(trace: Record<string, unknown>): ReplayTable {
  if (!Array.isArray(trace.httpRequests)) throw new ReplayInputError('This file has no `httpRequests`: it is not a Net Trace trace.');
  if (!Array.isArray(trace.exchanges)) {
    throw new ReplayInputError(
      'This trace was not recorded for replay (it has no `exchanges`): record the run with `nettrace run --record`, or replay a HAR with content.',
    );
  }
  const warnings = new WarningCounter();
  const beginAt = typeof trace.traceBeginAt === 'string' ? Date.parse(trace.traceBeginAt) : NaN;
  const recording = recordingOf(trace.recording);
  if (!recording)
    warnings.add('no-recording', 'The trace has `exchanges` but no `recording`: the time of the recording is taken as the trace’s start.');

  const requests = new Map<string, { req: Record<string, unknown>; i: number }>();
  trace.httpRequests.forEach((req, i) => {
    if (isRecord(req) && typeof req.traceID === 'string') requests.set(req.traceID, { req, i });
  });
  const addresses = addressIndex(trace);
  const calls: ReplayCall[] = [];
  const answered = new Set<string>();
  for (const ex of trace.exchanges) {
    const found = isRecord(ex) ? requests.get(requestIdOf(ex.traceID)) : undefined;
    if (!isRecord(ex) || !found) {
      warnings.add(
        'orphan-exchange',
        'Recorded exchanges name no request of the trace: left out.',
        isRecord(ex) ? String(ex.traceID) : undefined,
      );
      continue;
    }
    const { req, i } = found;
    const id = req.traceID as string;
    if (answered.has(id)) {
      warnings.add('duplicate-exchange', 'Requests have more than one recorded exchange: the first is kept.', id);
      continue;
    }
    answered.add(id);
    if (typeof req.repeatOf === 'string') {
      warnings.add('sent-again', 'Requests sent again from the panel (Send Again) are left out: the program did not make them.', id);
      continue;
    }
    const call = callOf(ex, req, i, beginAt, warnings);
    if (call) {
      const address = addresses(req);
      if (address) call.address = address;
      calls.push(call);
    }
  }
  trace.httpRequests.forEach((req) => {
    if (isRecord(req) && typeof req.traceID === 'string' && !answered.has(req.traceID)) {
      warnings.add(
        'no-exchange',
        'Requests of the trace have no recorded exchange: a replay cannot answer them.',
        `${String(req.reqMethod)} ${String(req.reqURL)}`,
      );
    }
  });
  const recordedAt = recording?.recordedAt ?? (Number.isFinite(beginAt) ? beginAt : undefined);
  return {
    source: 'trace',
    calls: inStartOrder(calls),
    ...(recordedAt !== undefined ? { recordedAt } : {}),
    ...(recording ? { recording } : {}),
    warnings: warnings.list(),
  };
}

/**
 * The server address of a request's connection, from the trace's records: its connection's
 * 4-tuple, else its dial's last connect attempt, else the first address its lookup gave.
 */
function addressIndex(trace: Record<string, unknown>): (req: Record<string, unknown>) => string | undefined {
  const byId = (list: unknown): Map<string, Record<string, unknown>> => {
    const m = new Map<string, Record<string, unknown>>();
    if (Array.isArray(list)) for (const r of list) if (isRecord(r) && typeof r.traceID === 'string') m.set(r.traceID, r);
    return m;
  };
  let conns: Map<string, Record<string, unknown>> | undefined;
  let dials: Map<string, Record<string, unknown>> | undefined;
  return (req) => {
    if (typeof req.tcpConn === 'string') {
      const tuple = (conns ??= byId(trace.tcpConns)).get(req.tcpConn)?.addrTuple;
      if (isRecord(tuple) && typeof tuple.dstIP === 'string' && tuple.dstIP !== '') return tuple.dstIP;
    }
    if (typeof req.dial !== 'string') return undefined;
    const dial = (dials ??= byId(trace.dials)).get(req.dial);
    if (!dial) return undefined;
    const attempts = Array.isArray(dial.connectAttempts) ? dial.connectAttempts.filter(isRecord) : [];
    const last = attempts[attempts.length - 1];
    if (last && typeof last.address === 'string' && last.address !== '') return last.address;
    const lookups = Array.isArray(dial.dnsLookups) ? dial.dnsLookups.filter(isRecord) : [];
    for (const l of lookups) if (Array.isArray(l.addresses) && typeof l.addresses[0] === 'string') return l.addresses[0];
    return undefined;
  };
}

/** The `httpRequests[].traceID` an exchange names (`req-12`); '' when it is not a string. */
function requestIdOf(traceID: unknown): string {
  return typeof traceID === 'string' ? traceID : '';
}

/** The trace's `recording`, when it has the shape of RecordingInfo. */
function recordingOf(value: unknown): RecordingInfo | undefined {
  if (!isRecord(value) || num(value.recordedAt) === undefined) return undefined;
  return {
    recordedAt: value.recordedAt as number,
    maxBodyBytes: num(value.maxBodyBytes) ?? 0,
    maxRunBytes: num(value.maxRunBytes) ?? 0,
    cutExchanges: num(value.cutExchanges) ?? 0,
    cutBytes: num(value.cutBytes) ?? 0,
  };
}

/** One call from an exchange and its request; undefined (counted) when it cannot be replayed. */
function callOf(ex: Record<string, unknown>, req: Record<string, unknown>, sourceIndex: number, beginAt: number, warnings: WarningCounter) {
  const method = str(req.reqMethod);
  const url = str(req.reqURL);
  const end = endOf(ex.end);
  const label = `${method ?? '?'} ${url ?? '?'}`;
  if (!method || !url || !end) {
    warnings.add('bad-exchange', 'Recorded exchanges are malformed (no method, URL or end): left out.', label);
    return undefined;
  }
  const bad = { count: 0 };
  const startRel = num(req.reqStartAt);
  const call: ReplayCall = {
    index: 0,
    sourceIndex,
    traceID: req.traceID as string,
    method,
    url,
    reqHeaders: headerPairs(req.reqHeaders),
    reqBodyState: 'none',
    reqBodySize: 0,
    end,
  };
  if (num(req.pid) !== undefined) call.pid = req.pid as number;
  if (startRel !== undefined && Number.isFinite(beginAt)) call.startAt = beginAt + startRel;
  const version = httpVersionOf(req as Partial<HttpRequest>);
  if (version) call.httpVersion = version;
  if (ex.reqBody !== undefined) {
    const body = recordedBytes(ex.reqBody);
    if (!body) warnings.add('bad-body', 'Recorded bodies are not valid base64: the request matches any body.', label);
    call.reqBodyState = !body ? 'unknown' : body.cut ? 'cut' : 'whole';
    if (body) call.reqBody = body.bytes;
    call.reqBodySize = body ? body.size : -1;
    if (body?.cut)
      warnings.add('request-body-cut', 'Request bodies were cut by the recording’s cap: matched by their length and first bytes.', label);
  }
  if (Array.isArray(ex.interim)) call.interim = ex.interim.map((h) => headOf(h, bad)).filter((h) => h !== undefined);
  const response = headOf(ex.response, bad);
  if (response) call.response = response;
  if (ex.body !== undefined) {
    const body = recordedBytes(ex.body);
    if (!body) warnings.add('bad-body', 'Recorded bodies are not valid base64: the answer has no body.', label);
    else {
      call.body = body.bytes;
      call.bodySize = body.size;
      if (body.cut) {
        call.bodyCut = true;
        warnings.add('body-cut', 'Response bodies were cut by the recording’s cap: a replay can give only their start.', label);
      }
    }
  }
  if (ex.trailers !== undefined) call.trailers = tracePairs(ex.trailers, bad);
  const messages = messagesOf(ex.messages, bad);
  if (messages) call.messages = messages;
  const timing = timingOf(ex.timing);
  if (timing) call.timing = timing;
  if (isRecord(req.whatIf) && typeof req.whatIf.rule === 'string') {
    call.whatIfRule = req.whatIf.rule;
    warnings.add('what-if', 'Answers of the recorded run were made by what-if rules: replayed as the program received them.', label);
  }
  if (bad.count > 0)
    warnings.add('bad-field', 'Recorded heads, headers or messages are malformed: the malformed parts are left out.', label);
  return call;
}

/** A RecordedEnd read from outside, or undefined. */
function endOf(value: unknown): RecordedEnd | undefined {
  if (!isRecord(value) || typeof value.kind !== 'string' || !RECORDED_END_KINDS.has(value.kind)) return undefined;
  switch (value.kind) {
    case 'refused':
    case 'dns':
    case 'tls':
      return typeof value.code === 'string' ? { kind: value.kind, code: value.code } : undefined;
    case 'reset': {
      const end: RecordedEnd = { kind: 'reset' };
      const after = num(value.afterBodyBytes);
      const h2 = num(value.http2Code);
      if (after !== undefined && after >= 0) end.afterBodyBytes = after;
      if (h2 !== undefined) end.http2Code = h2;
      return end;
    }
    case 'closed': {
      const end: RecordedEnd = { kind: 'closed' };
      const after = num(value.afterBodyBytes);
      if (after !== undefined && after >= 0) end.afterBodyBytes = after;
      return end;
    }
    default:
      return { kind: value.kind as 'completed' | 'timeout' | 'aborted' };
  }
}

/** A request's recorded headers: `[name, value]` or `[name]` pairs. */
function headerPairs(value: unknown): HeaderPair[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (p): p is HeaderPair =>
      Array.isArray(p) && typeof p[0] === 'string' && (p.length === 1 || (p.length === 2 && typeof p[1] === 'string')),
  );
}

function httpVersionOf(req: Partial<HttpRequest>): string | undefined {
  if (typeof req.protoMajor !== 'number') return undefined;
  return req.protoMajor >= 2
    ? `HTTP/${req.protoMajor}`
    : `HTTP/${req.protoMajor}.${typeof req.protoMinor === 'number' ? req.protoMinor : 1}`;
}

function timingOf(value: unknown): RecordedTiming | undefined {
  if (!isRecord(value)) return undefined;
  const firstByteMs = num(value.firstByteMs);
  if (firstByteMs === undefined || firstByteMs < 0) return undefined;
  const timing: RecordedTiming = { firstByteMs };
  if (Array.isArray(value.chunks)) {
    timing.chunks = value.chunks.filter(
      (c): c is [number, number] => Array.isArray(c) && num(c[0]) !== undefined && num(c[1]) !== undefined && c[0] >= 0 && c[1] >= 0,
    );
  }
  return timing;
}

function messagesOf(value: unknown, bad: { count: number }): RecordedMessage[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((m): m is RecordedMessage => {
    const ok =
      isRecord(m) &&
      (m.dir === 'in' || m.dir === 'out') &&
      num(m.atMs) !== undefined &&
      num(m.opcode) !== undefined &&
      isRecord(m.data) &&
      typeof m.data.base64 === 'string';
    if (!ok) bad.count++;
    return ok;
  });
}

/**
 * The calls in the order they started (a stable sort by start; a call with no start keeps the
 * place of the one before it in the file), numbered from 0.
 */
export function inStartOrder(calls: ReplayCall[]): ReplayCall[] {
  let last = -Infinity;
  const keyed = calls.map((call) => {
    if (call.startAt !== undefined) last = call.startAt;
    return { call, at: call.startAt ?? last };
  });
  keyed.sort((a, b) => a.at - b.at || a.call.sourceIndex - b.call.sourceIndex);
  return keyed.map(({ call }, index) => Object.assign(call, { index }));
}
