// Holds a client app's trace against what the servers and the program saw, case by case (the
// clients suite, clients*.test.mjs). A case is one path segment under the run's prefix; its
// requests in the trace are those whose URL starts with `/<run>/<case>/`, its requests at the
// server are the server log's entries with the same prefix, both in the order they happened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { apps, cli, run as runCmd } from './harness.mjs';

/** Directory of the clients suite's apps. */
export const clientApps = join(apps, 'clients');

/**
 * The line of each `// @line <case>` marker in an app's source: the line of the call that makes
 * that case's request(s), the initiator every one of them must name.
 */
export function markerLines(file) {
  const lines = new Map();
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(/@line ([\w-]+)/g)) {
        if (lines.has(m[1])) throw new Error(`${basename(file)}: marker @line ${m[1]} appears twice`);
        // V8 reports a call at the line where it starts: a marker after a wrapped call's last line
        // would point below it (a formatter wrapping a long line does that).
        if (/^\s*[)}\]]/.test(text))
          throw new Error(
            `${basename(file)}:${i + 1}: marker @line ${m[1]} is on a continuation line; put it on the line where the call starts`,
          );
        lines.set(m[1], i + 1);
      }
    });
  return lines;
}

const pathOf = (url) => {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
};
const order = (r) => r.reqStartAt ?? r.reqSentAt ?? Number.POSITIVE_INFINITY;
/** One line per traced request, for failure messages. */
export const describeReqs = (reqs) =>
  reqs.length === 0
    ? '(none)'
    : reqs
        .map(
          (r) =>
            `${r.reqMethod} ${pathOf(r.reqURL)} status=${r.respStatusCode} reqLen=${r.reqContentLen} respLen=${r.respContentLen}` +
            ` err=${r.reqError ? JSON.stringify(r.reqError) : '-'} initiator=${r.initiator?.frames?.[0] ? `${basename(r.initiator.frames[0].file)}:${r.initiator.frames[0].line}` : '-'}`,
        )
        .join('\n    ');
const describeSeen = (seen) =>
  seen.length === 0 ? '(none)' : seen.map((e) => `${e.method} ${e.url} status=${e.status} recv=${e.recv} sent=${e.sent}`).join('\n    ');

/** Whether a frame's file is `file` (a path, or its file:// URL as V8 names ESM modules). */
export const sameFile = (frameFile, file) => frameFile === file || frameFile === pathToFileURL(file).href;

/** Asserts that every request names the program's line as its initiator. */
export function assertInitiator(where, reqs, app, line) {
  for (const [i, r] of reqs.entries()) {
    const f = r.initiator?.frames?.[0];
    const got = f ? `${f.file}:${f.line}:${f.column}${f.library ? ' (library frame)' : ''}` : 'no initiator';
    assert.ok(
      f && sameFile(f.file, app) && f.line === line,
      `${where}: request ${i + 1} (${pathOf(r.reqURL)}): initiator expected ${basename(app)}:${line}, trace has ${got}`,
    );
  }
}

const fmt = (v) => (v === undefined ? 'undefined' : JSON.stringify(v));

/** Collects every mismatch between the trace and the truth, to report them all at once. */
export class Checks {
  constructor(where) {
    this.where = where;
    this.problems = [];
  }
  /** `actual` (from the trace) must be `expected` (what the server or program saw). */
  equal(actual, expected, what) {
    if (actual !== expected) this.problems.push(`${what}: expected ${fmt(expected)}, trace has ${fmt(actual)}`);
  }
  ok(cond, what) {
    if (!cond) this.problems.push(what);
  }
  /** Throws one AssertionError listing every mismatch, with `context` after them. */
  done(context = '') {
    if (this.problems.length === 0) return;
    const n = this.problems.length;
    throw new assert.AssertionError({
      message: `${this.where}: ${n} mismatch${n > 1 ? 'es' : ''} with the truth\n  - ${this.problems.join('\n  - ')}${context}`,
    });
  }
}

/** Asserts an error record has the expected fields (`timedOut: true` etc.). */
export function assertError(where, r, want) {
  assert.ok(r.reqError, `${where}: expected reqError ${JSON.stringify(want)}, trace has none (status ${r.respStatusCode})`);
  for (const [k, v] of Object.entries(want)) {
    assert.equal(
      r.reqError[k],
      v,
      `${where}: reqError.${k} expected ${JSON.stringify(v)}, trace has ${JSON.stringify(r.reqError[k])} (reqError ${JSON.stringify(r.reqError)})`,
    );
  }
}

/**
 * Checks one case. spec: {
 *   name,                       case (path segment)
 *   program: 'ok' | 'error',    what the program must have seen (out[name].ok)
 *   attempts?: number,          requests the program made when the server cannot count them (refused)
 *   statuses?: number[],        the statuses the server must have sent (sanity of the setup)
 *   error?: {...},              fields of the last request's reqError (phase, code, timedOut)
 *   redirect?: true,            hops are linked by redirectedFrom
 *   upgrade?: true              a WebSocket upgrade: 101 and a response time, no error; its
 *                               webSocket record's life, close and messages as the server saw them
 *   saw?: {...}                 fields the program's result must have (test setup)
 *   events?: number             server-sent events the last response carried (respEvents)
 * }
 */
export function checkCase({ label, trace, out, seen, run, spec }) {
  const where = `${label}: case ${spec.name}`;
  const prefix = `/${run}/${spec.name}/`;
  const reqs = trace.httpRequests.filter((r) => pathOf(r.reqURL).startsWith(prefix)).sort((a, b) => order(a) - order(b));
  const server = seen.filter((e) => e.url.startsWith(prefix));
  const context = `\n  trace:\n    ${describeReqs(reqs)}\n  server saw:\n    ${describeSeen(server)}\n  program saw: ${JSON.stringify(out[spec.name])}`;
  // The setup first (a failure here is the test's or the environment's, not the trace's).
  const prog = out[spec.name];
  assert.ok(prog, `${where}: the program did not report this case${context}`);
  assert.equal(
    prog.ok,
    spec.program === 'ok',
    `${where}: the program should have seen ${spec.program === 'ok' ? 'success' : 'an error'}${context}`,
  );
  for (const [k, v] of Object.entries(spec.saw ?? {})) assert.deepEqual(prog[k], v, `${where}: the program's ${k} (test setup)${context}`);
  if (spec.statuses)
    assert.deepEqual(
      server.map((e) => e.status),
      spec.statuses,
      `${where}: the server's statuses (test setup)${context}`,
    );
  // Then the trace, every mismatch listed.
  const c = new Checks(where);
  const expected = spec.attempts ?? server.length;
  c.equal(reqs.length, expected, `number of requests (${spec.attempts !== undefined ? 'the program made' : 'the server saw'} ${expected})`);
  if (spec.attempts === undefined) {
    for (const [i, e] of server.entries()) {
      const r = reqs[i];
      const hop = `request ${i + 1}`;
      if (!r) break;
      c.equal(r.reqMethod, e.method, `${hop}: method`);
      c.equal(pathOf(r.reqURL), e.url, `${hop}: URL`);
      c.equal(r.respStatusCode, e.status ?? undefined, `${hop}: status (server sent ${e.status})`);
      c.equal(r.reqContentLen ?? (e.recv === 0 ? 0 : undefined), e.recv, `${hop}: request body length (server received ${e.recv})`);
      if (e.status !== null && !e.upgrade) {
        // A redirect or a retried error response may be dropped unread by the client: its length
        // is checked when the trace has one; a final response must have it.
        if (i === server.length - 1 || r.respContentLen !== undefined)
          c.equal(r.respContentLen, e.sent, `${hop}: response body length (server sent ${e.sent})`);
      }
    }
  }
  const last = reqs.at(-1);
  for (const [i, r] of reqs.entries()) {
    if (spec.error && r === last) continue;
    c.ok(!r.reqError, `request ${i + 1} (status ${r.respStatusCode}) should have no error, trace has ${JSON.stringify(r.reqError)}`);
    if (r.respStatusCode !== undefined) c.ok(typeof r.respRecvAt === 'number', `request ${i + 1} has no response time (respRecvAt)`);
    // One end per request (docs/trace-format.md, reqEndAt): a success ends when its body is done.
    if (r.respDoneAt !== undefined || (r === last && spec.program === 'ok' && !hasStream(spec)))
      c.ok(
        typeof r.reqEndAt === 'number' && r.reqEndAt === r.respDoneAt,
        `request ${i + 1}: reqEndAt ${r.reqEndAt} should be when its body was done (respDoneAt ${r.respDoneAt})`,
      );
  }
  if (spec.error && last) {
    if (!last.reqError) c.ok(false, `last request: expected reqError ${JSON.stringify(spec.error)}, trace has none`);
    else
      for (const [k, v] of Object.entries(spec.error))
        c.equal(last.reqError[k], v, `last request: reqError.${k} (reqError ${JSON.stringify(last.reqError)})`);
  }
  if (spec.redirect)
    for (let i = 1; i < reqs.length; i++) c.equal(reqs[i].redirectedFrom, reqs[i - 1].traceID, `request ${i + 1}: redirectedFrom`);
  if (spec.upgrade && last) {
    const up = reqs.find((r) => r.respStatusCode === 101) ?? last;
    c.equal(up.respStatusCode, 101, "the upgrade's status");
    c.ok(typeof up.respRecvAt === 'number', 'the upgrade has no response time (respRecvAt)');
  }
  c.done(context);
}

/** Whether a case has a stream to check past its exchange (a WebSocket, server-sent events). */
const hasStream = (spec) => spec.upgrade || spec.events !== undefined;

/**
 * Checks what followed a case's exchange: a WebSocket's `webSocket` record (open and close times,
 * close code and reason, messages each way) against what the server saw on the connection, or the
 * number of server-sent events a response carried (`respEvents`).
 */
export async function checkCaseStream({ label, trace, out, seen, run, spec }) {
  const where = `${label}: case ${spec.name}`;
  const prefix = `/${run}/${spec.name}/`;
  const reqs = trace.httpRequests.filter((r) => pathOf(r.reqURL).startsWith(prefix)).sort((a, b) => order(a) - order(b));
  const server = seen.filter((e) => e.url.startsWith(prefix));
  const context = `\n  trace:\n    ${describeReqs(reqs)}\n  server saw:\n    ${describeSeen(server)}\n  program saw: ${JSON.stringify(out[spec.name])}`;
  const last = reqs.at(-1);
  assert.ok(last, `${where}: no request in the trace${context}`);
  const c = new Checks(where);
  if (spec.events !== undefined) c.equal(last.respEvents, spec.events, 'respEvents (the events the server sent)');
  if (spec.upgrade) {
    const life = server.find((e) => e.ws)?.ws;
    assert.ok(life, `${where}: the server saw no WebSocket connection (test setup)${context}`);
    // The server's WebSocket says its close (code and reason) when its socket has closed, which
    // under load may come after the traced program's exit and the trace: waited for, briefly.
    for (const until = Date.now() + 5000; life.closeCode === null && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
    const up = reqs.find((r) => r.respStatusCode === 101) ?? last;
    const ws = up.webSocket;
    const context2 = `${context}\n  webSocket record: ${JSON.stringify(ws)}\n  server saw on the connection: ${JSON.stringify(life)}`;
    if (!ws) c.ok(false, 'the upgrade has no webSocket record (lifetime, close, messages)');
    else {
      c.ok(
        typeof ws.openAt === 'number' && typeof ws.closeAt === 'number' && ws.closeAt >= ws.openAt,
        `webSocket: openAt ${ws.openAt}, closeAt ${ws.closeAt}`,
      );
      c.equal(ws.closeCode, life.closeCode, 'webSocket.closeCode (the close code the server got)');
      c.equal(ws.closeReason, life.closeReason, 'webSocket.closeReason (the reason the server got)');
      c.equal(ws.sentMessages, life.recvMessages, `webSocket: messages sent (the server received ${life.recvMessages})`);
      c.equal(ws.recvMessages, life.sentMessages, `webSocket: messages received (the server sent ${life.sentMessages})`);
      c.equal(ws.sentBytes, life.recvBytes, `webSocket: payload bytes sent (the server received ${life.recvBytes})`);
      c.equal(ws.recvBytes, life.sentBytes, `webSocket: payload bytes received (the server sent ${life.sentBytes})`);
    }
    return c.done(context2);
  }
  c.done(context);
}

/** Runs `node <args>` under `nettrace run` (the real CLI); returns the process result and the trace. */
export async function runApp(node, args, { env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-clients-'));
  const out = join(dir, 'trace.json');
  try {
    const res = await runCmd(process.execPath, [cli, 'run', '--quiet', '--out', out, '--', node, ...args], { env });
    return { ...res, trace: existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : undefined };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Checks that every request of a case names the program's line (the `@line` marker) as its initiator. */
export function checkCaseInitiator({ label, trace, run, app, line, spec }) {
  const where = `${label}: case ${spec.name}`;
  const prefix = `/${run}/${spec.name}/`;
  const reqs = trace.httpRequests.filter((r) => pathOf(r.reqURL).startsWith(prefix)).sort((a, b) => order(a) - order(b));
  assert.ok(reqs.length > 0, `${where}: no request in the trace`);
  assertInitiator(where, reqs, app, line);
}

/**
 * Defines one test per Node version for one client app: runs the app traced (one debuggee for
 * all its cases) and checks each case as a subtest.
 * opts: { client, app, cases, env(servers, run), skip(node) -> reason|undefined, servers, nodes,
 * extra(t, ctx), runtimeArgs (before the app, e.g. ['--import', 'tsx']) }
 */
export function clientTest({ client, app, cases, servers, nodes, env = () => ({}), skip = () => undefined, extra, runtimeArgs = [] }) {
  const file = join(clientApps, app);
  const lines = markerLines(file);
  for (const spec of cases) if (!lines.has(spec.name)) throw new Error(`${app}: no // @line ${spec.name} marker`);
  for (const node of nodes) {
    const reason = skip(node);
    test(`${node.label}: ${client}`, { skip: reason ?? false }, async (t) => {
      const s = servers();
      const run = s.http.newRun(`${client}-${node.major}`);
      const { code, trace, stdout, stderr } = await runApp(node.bin, [...runtimeArgs, file], {
        env: {
          NT_BASE: `${s.http.urls.http}/${run}`,
          NT_HTTPS_BASE: `${s.http.urls.https}/${run}`,
          NT_REFUSED: `${s.http.urls.refused}/${run}`,
          NT_RUN: run,
          ...env(s, run),
        },
      });
      assert.equal(code, 0, `${client} on ${node.label}: the app exited with ${code}\n${stderr}`);
      assert.ok(trace, `${client} on ${node.label}: no trace written\n${stderr}`);
      let out;
      try {
        out = JSON.parse(stdout.trim().split('\n').at(-1));
      } catch {
        assert.fail(`${client} on ${node.label}: the app printed no result\nstdout: ${stdout}\nstderr: ${stderr}`);
      }
      const seen = s.http.entries(run);
      const ctx = { label: `${client} on ${node.label}`, trace, out, seen, run, app: file, lines, node, servers: s };
      for (const spec of cases) {
        await t.test(spec.name, () => checkCase({ ...ctx, line: lines.get(spec.name), spec }));
        await t.test(`${spec.name}: initiator`, () => checkCaseInitiator({ ...ctx, line: lines.get(spec.name), spec }));
        if (hasStream(spec))
          await t.test(`${spec.name}: ${spec.upgrade ? 'webSocket record' : 'events'}`, () => checkCaseStream({ ...ctx, spec }));
      }
      if (extra) await extra(t, ctx);
    });
  }
}

/** The Node versions to run debuggees on, with their major version. */
export function nodesWithMajor(nodeBinaries) {
  return nodeBinaries().map((n) => {
    const major = Number(/(\d+)/.exec(n.label.replace(/^node v?/, ''))[1]);
    return { ...n, major };
  });
}
