// The program of record.test.mjs: every client a replay must answer (node:http and node:https,
// the global fetch, userland undici.request, node:http2, axios, got; ws and Node's WebSocket)
// against the test's servers, each case answered, streamed or failed as its path says, one JSON
// line per case of what the program saw: the status, the header list it was given, the bytes it
// read (the body as its client handed it over, base64), or the error (name, code, message).
// Run with `nettrace run --record`; a second process (NT_CHILD) checks the run's cap across processes.
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const { NT_HTTP, NT_HTTPS, NT_H2, NT_REFUSED, NT_NX, NT_EXPIRED, NT_WS, NT_CA, NT_CASES, NT_CLIENTS } = process.env;
const ca = readFileSync(NT_CA);
const only = (list) => (list ? new Set(list.split(',')) : undefined);
const clients = only(NT_CLIENTS);
const cases = only(NT_CASES);
const TIMEOUT_MS = 300;

/** An error as the program saw it. */
const errorOf = (e) => ({
  name: e?.name,
  code: e?.code ?? e?.cause?.code,
  cause: e?.cause?.code,
  message: String(e?.message ?? e).slice(0, 200),
});

/** Each case: its path (or a whole URL, for the failures), method and body. */
const CASES = {
  json: { path: '/json' },
  gzip: { path: '/gzip' },
  binary: { path: '/binary' },
  trailers: { path: '/trailers' },
  sse: { path: '/sse' },
  busy: { path: '/503' },
  post: { path: '/echo', method: 'POST', body: JSON.stringify({ order: 7, items: ['a', 'b'], note: 'é' }) },
  // node:http only: a `100 Continue` before the answer.
  continue: { path: '/continue', method: 'PUT', body: 'after the interim head', expect: true, only: 'http' },
  resetHead: { path: '/reset-head' },
  resetMid: { path: '/reset-mid' },
  never: { path: '/never', timeout: true },
  refused: { base: (b) => b.replace(/:\d+$/, `:${NT_REFUSED}`) },
  nxdomain: { base: (b) => b.replace(/\/\/[^:/]+/, `//${NT_NX}`) },
  expired: { base: (b) => (b === NT_H2 ? process.env.NT_H2_EXPIRED : NT_EXPIRED) },
};

/** node:http / node:https: the response read whole, its raw header list. */
function nodeClient(url, c) {
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const headers = {
      authorization: 'Bearer never-recorded',
      cookie: 'sid=never-recorded',
      ...(c.expect ? { expect: '100-continue' } : {}),
    };
    const req = mod.request(url, { method: c.method ?? 'GET', ca, headers }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks).toString('base64'),
          trailers: res.rawTrailers,
        }),
      );
      res.on('error', (e) => reject(Object.assign(e, { read: Buffer.concat(chunks).length })));
    });
    req.on('error', reject);
    if (c.timeout) setTimeout(() => req.destroy(Object.assign(new Error('client timeout'), { name: 'TimeoutError' })), TIMEOUT_MS);
    if (c.expect) req.on('continue', () => req.end(c.body));
    else req.end(c.body);
  });
}

async function fetchClient(url, c) {
  const r = await fetch(url, {
    method: c.method ?? 'GET',
    body: c.body,
    headers: { authorization: 'Bearer never-recorded' },
    signal: c.timeout ? AbortSignal.timeout(TIMEOUT_MS) : undefined,
  });
  let read = 0;
  const chunks = [];
  try {
    for await (const chunk of r.body ?? []) {
      chunks.push(Buffer.from(chunk));
      read += chunk.length;
    }
  } catch (e) {
    throw Object.assign(e, { read });
  }
  return { status: r.status, headers: [...r.headers], body: Buffer.concat(chunks).toString('base64') };
}

let undiciAgent;
async function undiciClient(url, c) {
  const { Agent, request } = await import('undici');
  undiciAgent ??= new Agent({ connect: { ca } });
  const r = await request(url, {
    method: c.method ?? 'GET',
    body: c.body,
    dispatcher: undiciAgent,
    headersTimeout: c.timeout ? TIMEOUT_MS : undefined,
  });
  const chunks = [];
  try {
    for await (const chunk of r.body) chunks.push(chunk);
  } catch (e) {
    throw Object.assign(e, { read: Buffer.concat(chunks).length });
  }
  return {
    status: r.statusCode,
    headers: Object.entries(r.headers),
    body: Buffer.concat(chunks).toString('base64'),
    trailers: Object.entries(r.trailers ?? {}),
  };
}

async function axiosClient(url, c) {
  const { default: axios } = await import('axios');
  const r = await axios.request({
    url,
    method: c.method ?? 'GET',
    data: c.body,
    headers: c.body ? { 'content-type': 'application/json' } : {},
    httpsAgent: new https.Agent({ ca }),
    responseType: 'arraybuffer',
    decompress: true,
    timeout: c.timeout ? TIMEOUT_MS : 0,
    validateStatus: () => true,
  });
  return { status: r.status, rawHeaders: r.request.res.rawHeaders, body: Buffer.from(r.data).toString('base64') };
}

async function gotClient(url, c) {
  const { default: got } = await import('got');
  const r = await got(url, {
    method: c.method ?? 'GET',
    body: c.body,
    https: { certificateAuthority: ca },
    responseType: 'buffer',
    throwHttpErrors: false,
    retry: { limit: 0 },
    timeout: c.timeout ? { request: TIMEOUT_MS } : undefined,
  });
  return { status: r.statusCode, rawHeaders: r.rawHeaders, body: r.body.toString('base64') };
}

/** node:http2: one session per case (closed after), the stream read whole. */
function http2Client(url, c) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const session = http2.connect(u.origin, { ca });
    session.on('error', () => {});
    const stream = session.request({ ':method': c.method ?? 'GET', ':path': u.pathname + u.search });
    const chunks = [];
    let head;
    let trailers;
    stream.on('response', (h, _flags, raw) => (head = { status: h[':status'], rawHeaders: raw }));
    stream.on('trailers', (_t, _flags, raw) => (trailers = raw));
    stream.on('data', (d) => chunks.push(d));
    stream.on('end', () => resolve({ ...head, body: Buffer.concat(chunks).toString('base64'), trailers }));
    stream.on('error', (e) => reject(Object.assign(e, { read: Buffer.concat(chunks).length, rstCode: stream.rstCode })));
    stream.on('close', () => {
      session.close();
      if (!head && !stream.errored)
        reject(Object.assign(new Error(`stream closed (RST_STREAM ${stream.rstCode})`), { code: 'ERR_HTTP2_STREAM_ERROR' }));
    });
    if (c.timeout)
      stream.setTimeout(TIMEOUT_MS, () => {
        reject(Object.assign(new Error('client timeout'), { name: 'TimeoutError' }));
        stream.close(http2.constants.NGHTTP2_CANCEL);
      });
    stream.end(c.body);
  });
}

const CLIENTS = {
  http: { run: nodeClient, base: NT_HTTP },
  https: { run: nodeClient, base: NT_HTTPS },
  fetch: { run: fetchClient, base: NT_HTTPS },
  undici: { run: undiciClient, base: NT_HTTP },
  http2: { run: http2Client, base: NT_H2 },
  axios: { run: axiosClient, base: NT_HTTPS },
  got: { run: gotClient, base: NT_HTTP },
};

for (const [client, { run, base }] of Object.entries(CLIENTS)) {
  if (clients && !clients.has(client)) continue;
  for (const [name, c] of Object.entries(CASES)) {
    if ((cases && !cases.has(name)) || (c.only && c.only !== client)) continue;
    const id = `${process.env.NT_CHILD === '2' ? 'child-' : ''}${client}-${name}`;
    const url = `${c.base ? c.base(base) : base}${c.path ?? '/x'}?id=${id}`;
    const out = { id, client, case: name, url };
    try {
      Object.assign(out, { ok: true }, await run(url, c));
    } catch (e) {
      Object.assign(out, { ok: false, error: errorOf(e), read: e?.read, rstCode: e?.rstCode });
    }
    console.log(JSON.stringify(out));
  }
}

// WebSockets: `ws`, and Node's own (22+): a few messages each way, binary and text, then the close.
if (!clients || clients.has('ws')) {
  const { default: WebSocket } = await import('ws');
  const seen = await wsRun(new WebSocket(`${NT_WS}/ws?id=ws`));
  console.log(JSON.stringify({ id: 'ws', client: 'ws', ok: true, messages: seen }));
  if (typeof globalThis.WebSocket === 'function') {
    const seen2 = await wsRun(new globalThis.WebSocket(`${NT_WS}/ws?id=ws-global`));
    console.log(JSON.stringify({ id: 'ws-global', client: 'ws-global', ok: true, messages: seen2 }));
  }
}

/** Sends three messages, reads the server's answers until it closes: the messages the program got, base64. */
function wsRun(ws) {
  return new Promise((resolve, reject) => {
    const seen = [];
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      ws.send('hello');
      ws.send(new Uint8Array([0, 1, 2, 250, 255]));
      ws.send('x'.repeat(70000));
    };
    ws.onmessage = (m) => seen.push(typeof m.data === 'string' ? { text: m.data } : { binary: Buffer.from(m.data).toString('base64') });
    ws.onerror = (e) => reject(e.error ?? new Error('websocket error'));
    ws.onclose = () => resolve(seen);
  });
}

// The run's cap across processes: a child process, traced too, downloads as much again.
if (process.env.NT_CHILD === '1') {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, NT_CHILD: '2' }, stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
await undiciAgent?.close();
