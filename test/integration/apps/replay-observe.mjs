// What a program observes of its requests, for the replay tests (test/integration/replay*.test.mjs):
// each call of NT_CALLS (JSON: [{ method, url, body, headers, timeoutMs }]) made with the client
// NT_CLIENT (http, https, fetch, undici, axios, got, node-fetch, http2, ws), one after the other
// (NT_CONCURRENT=1: all at once), and for each one JSON line in call order: status, reason, header
// pairs, body (base64), trailers; or the error's class, code, errno, syscall, message and cause
// chain; for `ws` (a call with `send`: the messages to send once open) the upgrade's head, each
// message and ping received, and the close's code and reason. With NT_TIMES=1 each line also has
// when its head and its end came, ms after the call. NT_KEEPALIVE_MS: see undiciClient.
// NT_AGENT=later (http, https): an Agent that makes each connection itself, a step after the
// request asks for it, as npm's agent does.
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const client = process.env.NT_CLIENT ?? 'http';
const calls = JSON.parse(process.env.NT_CALLS ?? '[]');
const times = process.env.NT_TIMES === '1';

/** An error as the program sees it: class, code, errno, syscall, message, and its causes. */
function errorOf(e, depth = 0) {
  if (!e || typeof e !== 'object' || depth > 4) return e === undefined ? undefined : String(e);
  const out = { class: e.constructor?.name, name: e.name, message: e.message };
  for (const k of ['code', 'errno', 'syscall', 'hostname', 'address', 'port']) if (e[k] !== undefined) out[k] = e[k];
  if (e.cause !== undefined) out.cause = errorOf(e.cause, depth + 1);
  if (e.response?.status !== undefined) out.responseStatus = e.response.status;
  if (e.response?.statusCode !== undefined) out.responseStatus = e.response.statusCode;
  // got's retries of a failed request (each one a request of its own, recorded and replayed).
  if (typeof e.request?.retryCount === 'number') out.retries = e.request.retryCount;
  return out;
}

const b64 = (b) => Buffer.from(b).toString('base64');

/** NT_AGENT=later: connects from a later step (setImmediate), outside the call that made the request. */
function laterAgent(mod) {
  const Base = mod.Agent;
  return new (class extends Base {
    createConnection(options, done) {
      setImmediate(() => {
        try {
          done(null, Base.prototype.createConnection.call(this, options));
        } catch (e) {
          done(e);
        }
      });
    }
  })();
}
const agents = new Map();
const agentFor = (mod) => {
  if (process.env.NT_AGENT !== 'later') return undefined;
  if (!agents.has(mod)) agents.set(mod, laterAgent(mod));
  return agents.get(mod);
};

function nodeClient(mod, c) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const seen = {};
    const agent = agentFor(mod);
    const req = mod.request(c.url, { method: c.method ?? 'GET', headers: c.headers ?? {}, ...(agent ? { agent } : {}) }, (res) => {
      seen.headAt = performance.now() - t0;
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          reason: res.statusMessage,
          headers: res.rawHeaders,
          body: b64(Buffer.concat(parts)),
          trailers: res.rawTrailers,
          ...seen,
          endAt: performance.now() - t0,
        }),
      );
      res.on('error', (e) =>
        resolve({ status: res.statusCode, headers: res.rawHeaders, body: b64(Buffer.concat(parts)), error: errorOf(e), ...seen }),
      );
    });
    if (c.timeoutMs)
      req.setTimeout(c.timeoutMs, () => req.destroy(Object.assign(new Error('the client gave up'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', (e) => resolve({ error: errorOf(e) }));
    req.end(c.body);
  });
}

async function fetchClient(c) {
  const t0 = performance.now();
  try {
    const res = await fetch(c.url, {
      method: c.method ?? 'GET',
      headers: c.headers,
      body: c.body,
      ...(c.timeoutMs ? { signal: AbortSignal.timeout(c.timeoutMs) } : {}),
    });
    const headAt = performance.now() - t0;
    const body = Buffer.from(await res.arrayBuffer());
    return {
      status: res.status,
      reason: res.statusText,
      headers: [...res.headers],
      body: b64(body),
      headAt,
      endAt: performance.now() - t0,
    };
  } catch (e) {
    return { error: errorOf(e) };
  }
}

// NT_KEEPALIVE_MS (undici): the idle connections kept that long (an Agent of the program's own).
let undiciAgent;
async function undiciClient(c) {
  const { request, Agent } = require('undici');
  const keep = Number(process.env.NT_KEEPALIVE_MS);
  if (keep > 0) undiciAgent ??= new Agent({ keepAliveTimeout: keep, keepAliveMaxTimeout: keep });
  const t0 = performance.now();
  try {
    const res = await request(c.url, {
      ...(undiciAgent ? { dispatcher: undiciAgent } : {}),
      method: c.method ?? 'GET',
      headers: c.headers,
      body: c.body,
      ...(c.timeoutMs ? { headersTimeout: c.timeoutMs } : {}),
    });
    const headAt = performance.now() - t0;
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body: b64(body), trailers: res.trailers, headAt, endAt: performance.now() - t0 };
  } catch (e) {
    return { error: errorOf(e) };
  }
}

async function axiosClient(c) {
  const axios = require('axios');
  try {
    const res = await axios.request({
      url: c.url,
      method: c.method ?? 'GET',
      headers: c.headers,
      data: c.body,
      responseType: 'arraybuffer',
      timeout: c.timeoutMs ?? 0,
      validateStatus: () => true,
      decompress: false,
    });
    return { status: res.status, reason: res.statusText, headers: res.headers, body: b64(res.data) };
  } catch (e) {
    return { error: errorOf(e) };
  }
}

async function gotClient(c) {
  const got = (await import('got')).default;
  try {
    const res = await got(c.url, {
      method: c.method ?? 'GET',
      headers: c.headers,
      body: c.body,
      throwHttpErrors: false,
      decompress: false,
      ...(c.timeoutMs ? { timeout: { request: c.timeoutMs } } : {}),
      // got retries as it chooses; only its waits (1 s, 2 s, Retry-After) are cut to 20 ms, so
      // three runs of six failing calls take no minute.
      retry: { calculateDelay: ({ computedValue }) => Math.min(computedValue, 20) },
    });
    return { status: res.statusCode, reason: res.statusMessage, headers: res.rawHeaders, body: b64(res.rawBody), retries: res.retryCount };
  } catch (e) {
    return { error: errorOf(e) };
  }
}

async function nodeFetchClient(c) {
  const { default: nodeFetch } = await import('node-fetch');
  try {
    const res = await nodeFetch(c.url, {
      method: c.method ?? 'GET',
      headers: c.headers,
      body: c.body,
      compress: false,
      ...(c.timeoutMs ? { signal: AbortSignal.timeout(c.timeoutMs) } : {}),
    });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, reason: res.statusText, headers: Object.entries(res.headers.raw()), body: b64(body) };
  } catch (e) {
    return { error: errorOf(e) };
  }
}

/** `ws`: the upgrade's head, then what came (messages, pings) until the close; `c.send` sent once open, one at a time. */
async function wsClient(c) {
  const { default: WebSocket } = await import('ws');
  return new Promise((resolve) => {
    const out = { events: [] };
    const ws = new WebSocket(c.url, { ...(c.timeoutMs ? { handshakeTimeout: c.timeoutMs } : {}) });
    ws.on('upgrade', (res) => {
      out.status = res.statusCode;
      out.reason = res.statusMessage;
      out.headers = res.rawHeaders.map((v, i) => (/^sec-websocket-accept$/i.test(res.rawHeaders[i - 1] ?? '') ? '<accept>' : v));
    });
    ws.on('unexpected-response', (_req, res) => {
      out.status = res.statusCode;
      out.headers = res.rawHeaders;
      ws.terminate();
    });
    ws.on('open', () => {
      for (const m of c.send ?? []) ws.send(m.binary ? Buffer.from(m.binary, 'base64') : m.text);
    });
    ws.on('message', (data, isBinary) => out.events.push(isBinary ? { binary: b64(data) } : { text: data.toString() }));
    ws.on('ping', (data) => out.events.push({ ping: data.toString() }));
    ws.on('error', (e) => (out.error = errorOf(e)));
    ws.on('close', (code, reason) => resolve({ ...out, close: [code, reason.toString()] }));
  });
}

const sessions = new Map();
function http2Client(c) {
  return new Promise((resolve) => {
    const u = new URL(c.url);
    let session = sessions.get(u.origin);
    if (!session || session.destroyed || session.closed) {
      session = http2.connect(u.origin);
      session.on('error', () => {});
      sessions.set(u.origin, session);
    }
    const t0 = performance.now();
    const stream = session.request({ ':method': c.method ?? 'GET', ':path': u.pathname + u.search, ...(c.headers ?? {}) });
    const out = {};
    const parts = [];
    stream.on('response', (headers, _flags, raw) => {
      out.status = headers[':status'];
      out.headers = raw;
      out.headAt = performance.now() - t0;
    });
    stream.on('trailers', (_t, _f, raw) => (out.trailers = raw));
    stream.on('data', (d) => parts.push(d));
    stream.on('end', () => resolve({ ...out, body: b64(Buffer.concat(parts)), endAt: performance.now() - t0 }));
    stream.on('error', (e) => resolve({ ...out, body: b64(Buffer.concat(parts)), error: errorOf(e), rstCode: stream.rstCode }));
    if (c.timeoutMs) stream.setTimeout(c.timeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.end(c.body);
  });
}

const one = (c) => {
  switch (client) {
    case 'https':
      return nodeClient(https, c);
    case 'fetch':
      return fetchClient(c);
    case 'undici':
      return undiciClient(c);
    case 'axios':
      return axiosClient(c);
    case 'got':
      return gotClient(c);
    case 'node-fetch':
      return nodeFetchClient(c);
    case 'http2':
      return http2Client(c);
    case 'ws':
      return wsClient(c);
    default:
      return nodeClient(http, c);
  }
};

// NT_WARMUP (a URL): one call first, not printed (the preload and its collector connection are up
// before the timed calls).
if (process.env.NT_WARMUP) await one({ url: process.env.NT_WARMUP });
// With NT_TIMES=1: how late a 2 ms timer ran at most meanwhile (the loop's lag), printed last.
let lag = 0;
let last = performance.now();
const sampler = times
  ? setInterval(() => {
      const now = performance.now();
      lag = Math.max(lag, now - last - 2);
      last = now;
    }, 2)
  : undefined;
const results = process.env.NT_CONCURRENT === '1' ? await Promise.all(calls.map(one)) : [];
if (results.length === 0) for (const c of calls) results.push(await one(c));
if (sampler) clearInterval(sampler);
for (const r of results) {
  if (!times) {
    delete r.headAt;
    delete r.endAt;
  }
  console.log(JSON.stringify(r));
}
if (times) console.log(JSON.stringify({ lag }));
for (const s of sessions.values()) s.close();
