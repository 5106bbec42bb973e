// What a program observes of one request through an http/https-based client (issue 51, "the
// program cannot tell a faked failure from a real one"): NT_CLIENT (http, https, axios, got,
// node-fetch) requests NT_URL (NT_TIMEOUT_MS: the program's own timeout; NT_CA: a CA file to
// trust) and prints one JSON line: the error (class, name, code, errno, syscall, message, own
// property names, cause chain, axios' shape), got's retries, the status, headers, rawHeaders,
// body (its length and a hash when large), the order of the events of the request and response,
// and when the first byte and the end of the body came (ms after the call).
// whatIfHttp.test.mjs runs it against a real failure or answer and, traced, with a what-if rule.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const client = process.env.NT_CLIENT;
const url = process.env.NT_URL;
const timeoutMs = Number(process.env.NT_TIMEOUT_MS || 0);
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
let firstByte;
let ended;

function bodyView(buf) {
  return buf.length > 4096 ? { length: buf.length, sha1: createHash('sha1').update(buf).digest('hex') } : buf.toString('utf8');
}

let start;
function print(o) {
  process.stdout.write(JSON.stringify({ ...o, start, firstByte, ended, lag: Math.ceil(loop.max / 1e6) }) + '\n');
}

/** One request with the core module; resolves once its observation is printed. */
function viaCore(mod, url) {
  return new Promise((resolve) => {
    const print1 = (o) => {
      print(o);
      resolve();
    };
    once(mod, url, print1);
  });
}

function once(mod, url, print) {
  const events = [];
  start = at();
  firstByte = ended = undefined;
  loop.reset();
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
  const marks = {};
  req.on('socket', (sock) => {
    marks.socket = at() - start;
    sock.once('connect', () => (marks.connect = at() - start));
  });
  req.on('finish', () => (marks.finish = at() - start));
  req.on('response', (res) => {
    marks.response = at() - start;
    const rEmit = res.emit;
    res.emit = function (ev, ...args) {
      events.push(`res ${ev}`);
      return rEmit.call(this, ev, ...args);
    };
    const chunks = [];
    res.on('data', (c) => {
      firstByte ??= at();
      chunks.push(c);
    });
    res.on('error', (e) => (resError = errorView(e)));
    res.on('end', () => {
      ended = at();
      print({
        status: res.statusCode,
        message: res.statusMessage,
        headers: res.headers,
        rawHeaders: res.rawHeaders,
        body: bodyView(Buffer.concat(chunks)),
        events,
        marks,
      });
    });
    res.on('close', () => {
      if (resError) setImmediate(() => print({ status: res.statusCode, resError, error, got: Buffer.concat(chunks).length, events }));
    });
  });
  req.on('close', () => {
    if (error && !resError && !req.res) setImmediate(() => print({ error, events, destroyed: req.destroyed }));
  });
}

async function viaAxios() {
  const axios = (await import('axios')).default;
  try {
    const res = await axios.get(url, {
      timeout: timeoutMs || 0,
      responseType: 'arraybuffer',
      validateStatus: () => true,
      httpsAgent: https.globalAgent,
    });
    ended = at();
    print({ status: res.status, headers: { ...res.headers }, body: bodyView(Buffer.from(res.data)) });
  } catch (e) {
    print({ error: errorView(e) });
  }
}

async function viaGot() {
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
    ended = at();
    print({ status: res.statusCode, headers: res.headers, rawHeaders: res.rawHeaders, body: bodyView(res.body), retries });
  } catch (e) {
    print({ error: errorView(e), retries });
  }
}

async function viaNodeFetch() {
  const fetch = (await import('node-fetch')).default;
  try {
    const res = await fetch(url, {
      signal: timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined,
      agent: url.startsWith('https') ? https.globalAgent : undefined,
    });
    const headers = Object.fromEntries(res.headers.entries());
    const buf = Buffer.from(await res.arrayBuffer());
    ended = at();
    print({ status: res.status, statusText: res.statusText, headers, body: bodyView(buf) });
  } catch (e) {
    print({ error: errorView(e) });
  }
}

if (client === 'http' || client === 'https') {
  const mod = client === 'http' ? http : https;
  // NT_COMPARE: a request not acted on first (twice: the first warms up), so a delay is measured against it in one process.
  if (process.env.NT_COMPARE) for (let i = 0; i < 2; i++) await viaCore(mod, process.env.NT_COMPARE);
  loop.reset();
  await viaCore(mod, url);
} else if (client === 'axios') await viaAxios();
else if (client === 'got') await viaGot();
else if (client === 'node-fetch') await viaNodeFetch();
else throw new Error(`NT_CLIENT: ${client}`);
