// What a program observes of requests a what-if rule may act on (issues 61 and 62; docs/rules.md
// "What-if actions"), one JSON line per request, for whatIfTruth.test.mjs and whatIfBodyFile.test.mjs
// to hold the trace to. NT_MODE:
//   expect    an http PUT with `Expect: 100-continue` to NT_URL (its body sent on `continue`): the
//             events of the request and its response in order, status, rawHeaders, body; and a
//             fetch() and an undici.request() with the same header (undici refuses it): their
//             errors. A request whose `close` never comes prints { hung: true } after 5 s and the
//             program exits 3.
//   requests  each of NT_JOBS ({ client: http|fetch|undici|http2, url, pause }) in turn: status, the
//             headers as the program got them ([name, value] pairs, names lowercased), body length
//             and hash, the error (name, code, cause's code) and the response's events.
//   swap      before anything else, NT_FILE becomes what NT_SWAP says (fifo, symlink, dir, big: a
//             300 MB sparse file); then a child process (traced too, as it inherits NODE_OPTIONS)
//             runs NT_JOBS as `requests` does and prints its peak RSS.
import { createHash } from 'node:crypto';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync, openSync, ftruncateSync, closeSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const hash = (b) => (b.length > 64 ? { length: b.length, sha1: createHash('sha1').update(b).digest('hex') } : b.toString('latin1'));
const errorOf = (e) =>
  e && {
    name: e.name,
    message: e.message,
    code: e.code,
    cause: e.cause && { name: e.cause.name, code: e.cause.code, message: e.cause.message },
  };

function expect(url) {
  return new Promise((resolve) => {
    const events = [];
    const req = http.request(url, {
      method: 'PUT',
      headers: { Expect: '100-continue', 'Content-Type': 'text/plain', 'Content-Length': '5' },
    });
    const emit = req.emit;
    req.emit = function (ev, ...a) {
      events.push(ev);
      return emit.call(this, ev, ...a);
    };
    req.on('continue', () => req.end('hello'));
    let seen = {};
    req.on('error', (e) => (seen.error = errorOf(e)));
    req.on('response', (res) => {
      const rEmit = res.emit;
      res.emit = function (ev, ...a) {
        events.push(`res ${ev}`);
        return rEmit.call(this, ev, ...a);
      };
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on(
        'end',
        () =>
          (seen = {
            ...seen,
            status: res.statusCode,
            message: res.statusMessage,
            rawHeaders: res.rawHeaders,
            body: hash(Buffer.concat(chunks)),
          }),
      );
    });
    const hung = setTimeout(() => {
      out({ job: 'expect', hung: true, events, ...seen });
      process.exit(3);
    }, 5000);
    req.on('close', () => {
      clearTimeout(hung);
      // A tick later: whatever else the request or its socket would emit.
      setImmediate(() => {
        out({ job: 'expect', events, ...seen });
        resolve();
      });
    });
  });
}

async function fetchExpect(url) {
  try {
    const r = await fetch(url, { method: 'PUT', headers: { Expect: '100-continue' }, body: 'hello' });
    out({ job: 'fetch-expect', status: r.status, body: await r.text() });
  } catch (e) {
    out({ job: 'fetch-expect', error: errorOf(e) });
  }
  try {
    const r = await require('undici').request(url, { method: 'PUT', headers: { Expect: '100-continue' }, body: 'hello' });
    out({ job: 'undici-expect', status: r.statusCode, body: await r.body.text() });
  } catch (e) {
    out({ job: 'undici-expect', error: errorOf(e) });
  }
}

const pairs = (flat) => {
  const p = [];
  for (let i = 0; i + 1 < flat.length; i += 2) p.push([String(flat[i]).toLowerCase(), String(flat[i + 1])]);
  return p;
};

function viaHttp(url) {
  return new Promise((resolve) => {
    const events = [];
    const r = http.get(url, (res) => {
      const chunks = [];
      let error;
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => (error = errorOf(e)));
      for (const ev of ['end', 'aborted', 'error', 'close']) res.on(ev, () => events.push(ev));
      res.on('close', () =>
        resolve({ status: res.statusCode, headers: pairs(res.rawHeaders), body: hash(Buffer.concat(chunks)), error, events }),
      );
    });
    r.on('error', (e) => resolve({ error: errorOf(e), events }));
  });
}

async function viaFetch(url) {
  let r;
  try {
    r = await fetch(url);
  } catch (e) {
    return { error: errorOf(e) };
  }
  const headers = [...r.headers];
  try {
    return { status: r.status, headers, body: hash(Buffer.from(await r.arrayBuffer())) };
  } catch (e) {
    return { status: r.status, headers, error: errorOf(e) };
  }
}

async function viaUndici(url) {
  const { request } = require('undici');
  let r;
  try {
    r = await request(url);
  } catch (e) {
    return { error: errorOf(e) };
  }
  const headers = Object.entries(r.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, String(v)]]));
  const chunks = [];
  try {
    for await (const c of r.body) chunks.push(c);
    return { status: r.statusCode, headers, body: hash(Buffer.concat(chunks)) };
  } catch (e) {
    return { status: r.statusCode, headers, got: Buffer.concat(chunks).length, error: errorOf(e) };
  }
}

function viaHttp2(url) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const session = http2.connect(u.origin);
    session.on('error', () => {});
    const stream = session.request({ ':path': u.pathname + u.search });
    const chunks = [];
    let status;
    let headers;
    let error;
    stream.on('response', (h, _flags, raw) => {
      status = h[':status'];
      headers = pairs(raw ?? []).filter(([k]) => k !== ':status');
    });
    stream.on('data', (c) => chunks.push(c));
    stream.on('error', (e) => (error = errorOf(e)));
    stream.on('close', () => {
      session.close();
      resolve({ status, headers, body: hash(Buffer.concat(chunks)), error, rstCode: stream.rstCode });
    });
    stream.end();
  });
}

const CLIENTS = { http: viaHttp, fetch: viaFetch, undici: viaUndici, http2: viaHttp2 };

async function requests() {
  const jobs = JSON.parse(process.env.NT_JOBS ?? '[]');
  for (const [i, j] of jobs.entries()) {
    // `pause`: the connections kept alive go idle first (a request then finds one free at once).
    if (j.pause) await new Promise((r) => setTimeout(r, j.pause));
    out({ job: i, client: j.client, url: j.url, ...(await CLIENTS[j.client](j.url)) });
  }
}

function swap(kind, file) {
  rmSync(file, { recursive: true, force: true });
  if (kind === 'fifo') execFileSync('mkfifo', [file]);
  else if (kind === 'dir') mkdirSync(file);
  else if (kind === 'symlink') {
    writeFileSync(`${file}.target`, 'the target');
    symlinkSync(`${file}.target`, file);
  } else if (kind === 'big') {
    const fd = openSync(`${file}.tmp`, 'w');
    ftruncateSync(fd, 300 * 1024 * 1024);
    closeSync(fd);
    renameSync(`${file}.tmp`, file);
  }
}

const mode = process.env.NT_MODE;
if (mode === 'expect') {
  await expect(process.env.NT_URL);
  await fetchExpect(process.env.NT_URL);
} else if (mode === 'requests') {
  await requests();
} else if (mode === 'swap') {
  swap(process.env.NT_SWAP, process.env.NT_FILE);
  const child = spawnSync(process.execPath, [new URL(import.meta.url).pathname], {
    env: { ...process.env, NT_MODE: 'child' },
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 20000,
  });
  if (child.status !== 0) process.exit(child.status ?? 9);
} else if (mode === 'child') {
  await requests();
  out({ job: 'rss', rss: process.resourceUsage().maxRSS * 1024 });
}
