// What a program observes of one request through an http/https-based client (issue 51, "the
// program cannot tell a faked failure from a real one"): NT_CLIENT (http, https, axios, got,
// node-fetch) requests NT_URL (NT_TIMEOUT_MS: the program's own timeout; NT_CA: a CA file to
// trust) and prints one JSON line: the error (class, name, code, errno, syscall, message, own
// property names, cause chain, axios' shape), got's retries, the status, headers, rawHeaders,
// body (its length and a hash when large), the order of the events of the request and response,
// and when the first byte and the end of the body came (ms after the call).
// NT_JOBS (a JSON list of jobs: runJob below) runs several such requests one after the other, a
// line each (`job`: its index); the agents' pooled connections are closed between them, so each
// starts on a new connection (the https agent's TLS sessions are kept, as in any program: a later
// connection to the same server resumes one). NT_COMPARE: see runJob's `compare`.
// whatIfHttp.test.mjs runs it against a real failure or answer and, traced, with a what-if rule.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import dc from 'node:diagnostics_channel';
import http from 'node:http';
import https from 'node:https';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const ca = process.env.NT_CA ? readFileSync(process.env.NT_CA) : undefined;
if (ca) https.globalAgent.options.ca = ca;

function errorView(e, depth = 0) {
  if (e === undefined || e === null || depth > 4) return e;
  if (typeof e !== 'object') return { value: String(e) };
  return {
    class: e.constructor && e.constructor.name,
    name: e.name,
    message: e.message,
    code: e.code,
    errno: e.errno,
    syscall: e.syscall,
    address: e.address,
    port: e.port,
    hostname: e.hostname,
    reason: e.reason,
    host: e.host,
    own: Object.getOwnPropertyNames(e)
      .filter((n) => n !== 'stack')
      .sort(),
    axios: e.isAxiosError ? { status: e.response?.status, hasRequest: !!e.request, hasResponse: !!e.response } : undefined,
    cause: errorView(e.cause, depth + 1),
  };
}

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const t0 = performance.now();
const at = () => Math.round((performance.now() - t0) * 10) / 10;

function bodyView(buf) {
  return buf.length > 4096 ? { length: buf.length, sha1: createHash('sha1').update(buf).digest('hex') } : buf.toString('utf8');
}

/** One request's state: what it printed carries its job's index and its own times (a late line still names its job). */
function jobState(job) {
  const j = { job, start: at(), firstByte: undefined, ended: undefined, marks: undefined };
  loop.reset();
  j.print = (o) => {
    const { job, start, firstByte, ended, marks } = j;
    process.stdout.write(JSON.stringify({ job, marks, ...o, start, firstByte, ended, lag: Math.ceil(loop.max / 1e6) }) + '\n');
  };
  return j;
}

/** When a request's socket came, connected, was written to and answered (ms after its start). */
function watchMarks(req, j) {
  const marks = (j.marks = {});
  const onSocket = (sock) => {
    marks.socket = at() - j.start;
    sock.once('connect', () => (marks.connect = at() - j.start));
  };
  // Node publishes a request on its channel when it is ended: a library's has its socket by then (still connecting).
  if (req.socket) onSocket(req.socket);
  else req.on('socket', onSocket);
  req.on('finish', () => (marks.finish = at() - j.start));
  req.on('response', () => (marks.response = at() - j.start));
}

/**
 * The request of a library client (axios, got, node-fetch) whose marks are taken: its
 * ClientRequest, seen on Node's own `http.client.request.start` channel (nothing of the library's
 * changed; its first byte is when its response's head was parsed).
 */
let timed;
function timeLibraryRequests() {
  if (timed !== undefined) return;
  timed = null;
  dc.subscribe('http.client.request.start', ({ request }) => {
    const j = timed;
    timed = null;
    if (!j) return;
    watchMarks(request, j);
    request.on('response', () => (j.firstByte ??= at()));
  });
}

/** One request with the core module; resolves once its observation is printed. */
function viaCore(mod, url, timeoutMs, j) {
  return new Promise((resolve) => {
    const print = j.print;
    j.print = (o) => {
      print(o);
      resolve();
    };
    once(mod, url, timeoutMs, j);
  });
}

function once(mod, url, timeoutMs, j) {
  const events = [];
  const req = mod.get(url);
  const emit = req.emit;
  req.emit = function (ev, ...args) {
    events.push(ev);
    return emit.call(this, ev, ...args);
  };
  if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error('the program timed out')));
  let error;
  let resError;
  req.on('error', (e) => (error = errorView(e)));
  watchMarks(req, j);
  req.on('response', (res) => {
    const rEmit = res.emit;
    res.emit = function (ev, ...args) {
      events.push(`res ${ev}`);
      return rEmit.call(this, ev, ...args);
    };
    const chunks = [];
    res.on('data', (c) => {
      j.firstByte ??= at();
      chunks.push(c);
    });
    res.on('error', (e) => (resError = errorView(e)));
    res.on('end', () => {
      j.ended = at();
      j.print({
        status: res.statusCode,
        message: res.statusMessage,
        headers: res.headers,
        rawHeaders: res.rawHeaders,
        body: bodyView(Buffer.concat(chunks)),
        events,
      });
    });
    res.on('close', () => {
      if (resError) setImmediate(() => j.print({ status: res.statusCode, resError, error, got: Buffer.concat(chunks).length, events }));
    });
  });
  req.on('close', () => {
    if (error && !resError && !req.res) setImmediate(() => j.print({ error, events, destroyed: req.destroyed }));
  });
}

async function viaAxios(url, timeoutMs, j) {
  const axios = (await import('axios')).default;
  try {
    const res = await axios.get(url, {
      timeout: timeoutMs || 0,
      responseType: 'arraybuffer',
      validateStatus: () => true,
      httpsAgent: https.globalAgent,
    });
    j.ended = at();
    j.print({ status: res.status, headers: { ...res.headers }, body: bodyView(Buffer.from(res.data)) });
  } catch (e) {
    j.print({ error: errorView(e) });
  }
}

async function viaGot(url, timeoutMs, j) {
  const got = (await import('got')).default;
  let retries = 0;
  try {
    const res = await got(url, {
      timeout: timeoutMs ? { request: timeoutMs } : undefined,
      retry: { limit: 2, calculateDelay: ({ computedValue }) => (computedValue ? 5 : 0) },
      throwHttpErrors: false,
      https: ca ? { certificateAuthority: ca } : undefined,
      responseType: 'buffer',
      hooks: { beforeRetry: [() => retries++] },
    });
    j.ended = at();
    j.print({ status: res.statusCode, headers: res.headers, rawHeaders: res.rawHeaders, body: bodyView(res.body), retries });
  } catch (e) {
    j.print({ error: errorView(e), retries });
  }
}

async function viaNodeFetch(url, timeoutMs, j) {
  const fetch = (await import('node-fetch')).default;
  try {
    const res = await fetch(url, {
      signal: timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined,
      agent: url.startsWith('https') ? https.globalAgent : undefined,
    });
    const headers = Object.fromEntries(res.headers.entries());
    const buf = Buffer.from(await res.arrayBuffer());
    j.ended = at();
    j.print({ status: res.status, statusText: res.statusText, headers, body: bodyView(buf) });
  } catch (e) {
    j.print({ error: errorView(e) });
  }
}

/** The next request starts on a new connection: the pooled ones closed, and gone. */
async function fresh() {
  http.globalAgent.destroy();
  https.globalAgent.destroy();
  await new Promise((r) => setImmediate(r));
}

const CLIENTS = { axios: viaAxios, got: viaGot, 'node-fetch': viaNodeFetch };

/** One request of `client`, its marks taken (a library's through the channel when `timing`). */
async function request(client, url, timeoutMs, j, timing) {
  if (client === 'http' || client === 'https') return viaCore(client === 'http' ? http : https, url, timeoutMs, j);
  const via = CLIENTS[client];
  if (via === undefined) throw new Error(`client: ${client}`);
  if (timing) {
    timeLibraryRequests();
    timed = j;
  }
  await via(url, timeoutMs, j);
}

/**
 * One job: { client, url, timeoutMs, compare, warm, keep, timing }. compare: a request not acted on
 * first (twice: the first warms up), its line before the job's, so a delay is measured against it
 * in one process (the marks of a library's request are then taken too, as with `timing`). warm: a
 * URL requested first, on a connection closed before the job's request (`keep`: kept for it).
 */
async function runJob({ client, url, timeoutMs = 0, compare, warm, keep, timing }, job) {
  if (warm) {
    await request(client, warm, 0, jobState(job));
    if (!keep) await fresh();
  }
  if (compare) for (let i = 0; i < 2; i++) await request(client, compare, 0, jobState(job), true);
  await request(client, url, timeoutMs, jobState(job), !!compare || !!timing);
}

const jobs = process.env.NT_JOBS
  ? JSON.parse(process.env.NT_JOBS)
  : [
      {
        client: process.env.NT_CLIENT,
        url: process.env.NT_URL,
        timeoutMs: Number(process.env.NT_TIMEOUT_MS || 0),
        compare: process.env.NT_COMPARE,
      },
    ];
for (const [i, job] of jobs.entries()) {
  if (i > 0) await fresh();
  await runJob(job, i);
}
