// What a program observes of answers cut short (test/integration/replayClosed.test.mjs): for each
// path of NT_BASE, through NT_CLIENT (http, fetch or axios), the events and errors it saw, in
// order, one JSON line per request: a server's orderly close mid-body, one before any answer, and
// a reset mid-body (recorded against the real server, then replayed with the server gone).
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const base = process.env.NT_BASE;
const client = process.env.NT_CLIENT;
const err = (e) => (e ? { name: e.name, message: e.message, code: e.code, syscall: e.syscall } : undefined);

function viaHttp(url) {
  return new Promise((done) => {
    const seen = [];
    let bytes = 0;
    const req = http.get(url, (res) => {
      seen.push(['response', res.statusCode]);
      res.on('data', (d) => (bytes += d.length));
      res.on('aborted', () => seen.push(['res aborted']));
      res.on('error', (e) => seen.push(['res error', err(e)]));
      res.on('end', () => seen.push(['res end']));
      res.on('close', () => done([...seen, ['res close', bytes]]));
    });
    req.on('error', (e) => {
      seen.push(['req error', err(e)]);
      if (!req.res) done(seen);
    });
  });
}

async function viaFetch(url) {
  const seen = [];
  let bytes = 0;
  try {
    const res = await fetch(url);
    seen.push(['response', res.status]);
    for await (const c of res.body) bytes += c.length;
    seen.push(['body', bytes]);
  } catch (e) {
    seen.push(['error', err(e), err(e.cause), bytes]);
  }
  return seen;
}

async function viaAxios(url) {
  const axios = require('axios');
  try {
    const res = await axios.get(url, { responseType: 'text' });
    return [['response', res.status, res.data.length]];
  } catch (e) {
    return [['error', err(e), e.response?.status]];
  }
}

const go = { http: viaHttp, fetch: viaFetch, axios: viaAxios }[client];
for (const path of ['/fin-mid', '/fin-before', '/rst-mid']) {
  process.stdout.write(JSON.stringify({ path, seen: await go(`${base}${path}`) }) + '\n');
}
