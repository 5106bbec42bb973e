/**
 * The replay table of a HAR 1.2 with content: Chromium's DevTools export ("Save all as HAR with
 * content"), Playwright's `recordHar` with `content: 'embed'`, Polly.js recordings, and Net Trace's
 * own HAR (which has no bodies: counted). Each entry becomes a call: its request (method, URL,
 * headers, `postData`), its response (head, body decoded from `content.text`, made consistent with
 * its head: ./harBody.ts), its failure (./harFailure.ts) and its timing (first byte at
 * blocked + dns + connect + send + wait; the body at `receive`). A HAR carries no trailers, no
 * interim heads, and failures only as the browser names them (docs/replay.md, "HAR files").
 */

import type { RecordedMessage, RecordedTiming } from '../trace/contract/recording';
import { fromBase64, toBase64, utf8 } from './bytes';
import { inStartOrder } from './fromTrace';
import { consistentHead, harBody } from './harBody';
import { harFailure } from './harFailure';
import { isRecord, num, str } from './shape';
import { ReplayInputError, WarningCounter, type RecordedBodyState, type ReplayCall, type ReplayTable } from './types';

/** Reads the replay table of a parsed HAR (see the file comment). */
export function tableFromHar(har: Record<string, unknown>): ReplayTable {
  const log = har.log;
  if (!isRecord(log) || !Array.isArray(log.entries)) throw new ReplayInputError('This file is not a HAR: it has no `log.entries`.');
  const creator = isRecord(log.creator) ? str(log.creator.name) : undefined;
  const polly = creator !== undefined && /polly/i.test(creator);
  const warnings = new WarningCounter();
  const calls: ReplayCall[] = [];
  log.entries.forEach((entry, i) => {
    const call = isRecord(entry) ? entryCall(entry, i, polly, warnings) : undefined;
    if (call) calls.push(call);
    else if (!isRecord(entry)) warnings.add('bad-entry', 'HAR entries are malformed (no request method or URL): left out.', `entry ${i}`);
  });
  const ordered = inStartOrder(calls);
  let recordedAt = Infinity;
  for (const c of ordered) if (c.startAt !== undefined && c.startAt < recordedAt) recordedAt = c.startAt;
  return {
    source: 'har',
    calls: ordered,
    ...(Number.isFinite(recordedAt) ? { recordedAt } : {}),
    warnings: warnings.list(),
  };
}

/** One entry as a call; undefined (counted) when it cannot be replayed. */
function entryCall(entry: Record<string, unknown>, sourceIndex: number, polly: boolean, warnings: WarningCounter): ReplayCall | undefined {
  const request = isRecord(entry.request) ? entry.request : undefined;
  const method = request && str(request.method);
  const url = request && str(request.url);
  if (!request || !method || !url) {
    warnings.add('bad-entry', 'HAR entries are malformed (no request method or URL): left out.', `entry ${sourceIndex}`);
    return undefined;
  }
  const label = `${method} ${url}`;
  if (!/^(?:https?|wss?):\/\//i.test(url)) {
    warnings.add('not-http', 'HAR entries for URLs that are not http(s) or ws(s) (data:, blob:, extensions) are left out.', label);
    return undefined;
  }
  const response = isRecord(entry.response) ? entry.response : {};
  const respHeaders = harPairs(response.headers);
  const body = harBody(response.content, respHeaders, polly);
  const failure = harFailure(entry, response, body.bytes.length);
  const status = num(response.status) ?? 0;
  if (failure && !failure.end) {
    warnings.add(
      'unknown-failure',
      'HAR entries failed in a way a Node program cannot meet (a browser’s own error): left out.',
      `${failure.name} ${label}`,
    );
    return undefined;
  }
  if (!failure && (status < 100 || status > 999)) {
    warnings.add('no-response', 'HAR entries have no response and no error (cancelled, or still pending when saved): left out.', label);
    return undefined;
  }
  const end = failure?.end ?? { kind: 'completed' as const };
  const reqBody = requestBody(request);
  const call: ReplayCall = {
    index: 0,
    sourceIndex,
    method,
    url,
    reqHeaders: harPairs(request.headers),
    reqBodyState: reqBody.state,
    reqBodySize: reqBody.size,
    end,
  };
  if (reqBody.bytes) call.reqBody = reqBody.bytes;
  if (reqBody.state === 'unknown')
    warnings.add('request-body-unknown', 'The HAR does not hold some request bodies (binary uploads): those calls match any body.', label);
  if (typeof entry._traceID === 'string') call.traceID = entry._traceID;
  if (typeof entry.serverIPAddress === 'string' && entry.serverIPAddress !== '')
    call.address = entry.serverIPAddress.replace(/^\[|\]$/g, '');
  const startAt = typeof entry.startedDateTime === 'string' ? Date.parse(entry.startedDateTime) : NaN;
  if (Number.isFinite(startAt)) call.startAt = startAt;
  const version = httpVersion(str(response.httpVersion) || str(request.httpVersion));
  if (version) call.httpVersion = version;
  const answered = status >= 100 && status <= 999 && (end.kind === 'completed' || end.kind === 'reset' || end.kind === 'aborted');
  if (answered) addResponse(call, response, status, respHeaders, body, warnings, label);
  const timing = answered ? harTiming(entry.timings, call.body?.length ?? 0) : undefined;
  if (timing) call.timing = timing;
  const messages = webSocketMessages(entry._webSocketMessages, call);
  if (messages) call.messages = messages;
  return call;
}

/** The response head and body of an answered entry, consistent with each other (./harBody.ts). */
function addResponse(
  call: ReplayCall,
  response: Record<string, unknown>,
  status: number,
  headers: Array<[string, string]>,
  body: ReturnType<typeof harBody>,
  warnings: WarningCounter,
  label: string,
): void {
  const bodiless = call.method.toUpperCase() === 'HEAD' || status === 204 || status === 304 || status < 200;
  // A body that ended in a reset or an abort is only its start: the head's Content-Length stays.
  const whole = call.end.kind === 'completed';
  const fix = consistentHead(headers, body, bodiless, whole);
  call.response = { status, headers: fix.headers };
  const statusText = str(response.statusText);
  if (statusText) call.response.statusText = statusText;
  if (fix.decodedFrom) {
    call.decodedFrom = fix.decodedFrom;
    warnings.add(
      'decoded',
      'HAR bodies are decoded while their heads name a Content-Encoding: the header is taken out and Content-Length set to the decoded length.',
      `${label} (${fix.decodedFrom})`,
    );
  } else if (fix.lengthFixed) {
    warnings.add('length-fixed', 'HAR heads gave a Content-Length other than their body’s: set to the body’s length.', label);
  }
  if (bodiless) return;
  if (body.bad) warnings.add('bad-body', 'HAR bodies are not valid in their encoding (base64, hex): answered without a body.', label);
  else if (body.missing)
    warnings.add('body-missing', 'The HAR does not hold some response bodies (saved without content): answered without them.', label);
  else if (whole && body.size > body.bytes.length)
    warnings.add('body-cut', 'HAR bodies are shorter than their size: a replay can give only their start.', label);
  if (body.bytes.length === 0 && body.size === 0 && !body.missing) return;
  call.body = body.bytes;
  call.bodySize = body.size;
  if (body.size > body.bytes.length || body.missing) call.bodyCut = true;
}

/** HAR name/value pairs as `[name, value]`: a value given as a list (Polly.js) is one pair per value; HTTP/2 pseudo-headers are left out. */
function harPairs(value: unknown): Array<[string, string]> {
  if (!Array.isArray(value)) return [];
  const out: Array<[string, string]> = [];
  for (const h of value) {
    if (!isRecord(h) || typeof h.name !== 'string' || h.name.startsWith(':')) continue;
    const values = Array.isArray(h.value) ? h.value : [h.value];
    for (const v of values) if (v !== undefined && v !== null) out.push([h.name, String(v)]);
  }
  return out;
}

/**
 * The request body of `postData`: its text (base64 when `encoding` says so), or its `params`
 * (a form) when it has no text. Playwright writes an empty text for an `application/octet-stream`
 * body and `postData.toString()` (UTF-8, lossy) for others: a text whose length is not the
 * entry's `bodySize` is not the body, and the call matches any body.
 */
function requestBody(request: Record<string, unknown>): { state: RecordedBodyState; bytes?: Uint8Array; size: number } {
  const postData = isRecord(request.postData) ? request.postData : undefined;
  const bodySize = num(request.bodySize) ?? -1;
  let bytes: Uint8Array | undefined;
  if (postData && typeof postData.text === 'string' && postData.text.length > 0) {
    bytes = postData.encoding === 'base64' ? fromBase64(postData.text) : utf8(postData.text);
  } else if (postData && Array.isArray(postData.params) && postData.params.length > 0) {
    const pairs = postData.params
      .filter(isRecord)
      .map((p) => `${encodeURIComponent(String(p.name ?? ''))}=${encodeURIComponent(String(p.value ?? ''))}`);
    bytes = utf8(pairs.join('&'));
  }
  if (bytes && bytes.length > 0 && (bodySize <= 0 || bodySize === bytes.length)) return { state: 'whole', bytes, size: bytes.length };
  if (bodySize > 0 || (bytes && bytes.length > 0)) return { state: 'unknown', size: bodySize };
  return { state: 'none', size: 0 };
}

/** `HTTP/1.1`, `HTTP/2`, … from a HAR's `httpVersion` (`h2`, `http/2.0`, `HTTP/1.1`). */
function httpVersion(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const s = v.trim().toLowerCase();
  if (s === 'h2' || s.startsWith('http/2')) return 'HTTP/2';
  if (s === 'h3' || s.startsWith('http/3')) return 'HTTP/3';
  const m = /^http\/(\d)\.(\d)$/.exec(s);
  return m ? `HTTP/${m[1]}.${m[2]}` : undefined;
}

/** The HAR's timings as RecordedTiming: the first byte after blocked + dns + connect + send + wait (ssl is inside connect), the body in one piece at `receive`. */
function harTiming(value: unknown, bodyBytes: number): RecordedTiming | undefined {
  if (!isRecord(value)) return undefined;
  const phases = ['blocked', 'dns', 'connect', 'send', 'wait'].map((k) => num(value[k]) ?? -1);
  if (!phases.some((p) => p >= 0) || (num(value.wait) ?? -1) < 0) return undefined;
  const timing: RecordedTiming = { firstByteMs: round(phases.reduce((a, p) => a + Math.max(p, 0), 0)) };
  const receive = num(value.receive) ?? -1;
  if (bodyBytes > 0 && receive >= 0) timing.chunks = [[round(receive), bodyBytes]];
  return timing;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * `_webSocketMessages` as RecordedMessages. Playwright gives each message's wall time in ms: times
 * count from the upgrade's answer (the entry's start plus its first byte). DevTools gives a
 * monotonic time in seconds, which no other time of the entry shares: times count from the first message.
 */
function webSocketMessages(value: unknown, call: ReplayCall): RecordedMessage[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const messages = value.filter(
    (m): m is Record<string, unknown> => isRecord(m) && (m.type === 'send' || m.type === 'receive') && typeof m.data === 'string',
  );
  const times = messages.map((m) => num(m.time) ?? 0);
  const wall = call.startAt !== undefined && times.every((t) => t > 1e12);
  const origin = wall ? (call.startAt as number) + (call.timing?.firstByteMs ?? 0) : times.length > 0 ? Math.min(...times) : 0;
  const out: RecordedMessage[] = [];
  messages.forEach((m, i) => {
    const opcode = num(m.opcode) ?? 1;
    const bytes = opcode === 1 ? utf8(m.data as string) : fromBase64(m.data as string);
    if (!bytes) return;
    const atMs = round(Math.max(0, (times[i] - origin) * (wall ? 1 : 1000)));
    out.push({ dir: m.type === 'send' ? 'out' : 'in', atMs, opcode, data: { base64: toBase64(bytes), size: bytes.length } });
  });
  return out;
}
