// What http/https programs really do, for http-truth.test.mjs: redirects followed by axios,
// the clients' own timeouts and a real abort, WebSocket upgrades (ws), server-sent events and a
// long chunked response, CONNECT by hand and through https-proxy-agent. Each scenario prints
// one JSON line of what the program got, for the test to compare with the trace.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import axios from 'axios';
import got from 'got';
import needle from 'needle';
import WebSocket from 'ws';
import { HttpsProxyAgent } from 'https-proxy-agent';

const base = process.env.NT_BASE;
const certs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'certs');
const ca = readFileSync(join(certs, 'ca.pem'));
const out = (o) => console.log(JSON.stringify(o));
const errOf = (e) => ({ message: e.message, code: e.code, name: e.name });

const scenarios = {
  /** Header bytes above 0x7f: what each client reads them as. */
  async headerBytes() {
    for (const [id, query] of [
      ['b1', ''],
      ['b2', '&cookie=1'],
    ]) {
      const res = await fetch(`${base}/header-bytes?id=${id}${query}`);
      await res.text();
      out({ id, value: res.headers.get('x-bytes') });
    }
    await new Promise((resolve, reject) => {
      http
        .get(`${base}/header-bytes?id=b3`, (res) => {
          out({ id: 'b3', value: res.headers['x-bytes'] });
          res.resume().on('end', resolve);
        })
        .on('error', reject);
    });
  },

  async redirects() {
    const a = await axios.get(`${base}/redirect?id=a1`);
    out({ id: 'a1', status: a.status, data: a.data });
    const b = await axios.get(`${base}/redirect-body?id=a2`);
    out({ id: 'a2', status: b.status, data: b.data });
    // A program that reads only the head of a response and closes it.
    await new Promise((resolve, reject) => {
      const req = http.get(`${base}/big?id=h1`, (res) => {
        out({ id: 'h1', status: res.statusCode });
        req.destroy();
        resolve();
      });
      req.on('error', reject);
    });
  },

  async timeouts() {
    try {
      await axios.get(`${base}/slow?id=t1`, { timeout: 300 });
    } catch (e) {
      out({ id: 't1', ...errOf(e) });
    }
    await new Promise((resolve) => {
      const req = http.get(`${base}/slow?id=t2`);
      req.setTimeout(300, () => req.destroy(new Error('my own timeout')));
      req.on('error', (e) => (out({ id: 't2', ...errOf(e) }), resolve()));
    });
    await new Promise((resolve) => {
      const req = http.get(`${base}/slow?id=t3`);
      req.setTimeout(300, () => req.destroy());
      req.on('error', (e) => (out({ id: 't3', ...errOf(e) }), resolve()));
      req.on('close', () => setTimeout(resolve, 50));
    });
    try {
      await got(`${base}/slow?id=t4`, { timeout: { request: 300 }, retry: { limit: 0 } });
    } catch (e) {
      out({ id: 't4', ...errOf(e) });
    }
    await new Promise((resolve) => {
      needle.get(`${base}/slow?id=t5`, { response_timeout: 300 }, (e) => (out({ id: 't5', ...(e ? errOf(e) : {}) }), resolve()));
    });
    // A real abort: the program aborts once the request has been sent, not from a timer.
    await new Promise((resolve) => {
      const ac = new AbortController();
      const req = http.get(`${base}/slow?id=t6`, { signal: ac.signal });
      req.on('finish', () => setImmediate(() => ac.abort()));
      req.on('error', (e) => (out({ id: 't6', ...errOf(e) }), resolve()));
    });
    // An AbortController aborted from the program's timer: its own timeout (the error it gets is
    // an AbortError, as with ky's and openai's `timeout`).
    await new Promise((resolve) => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 200);
      http.get(`${base}/slow?id=t7`, { signal: ac.signal }).on('error', (e) => (out({ id: 't7', ...errOf(e) }), resolve()));
    });
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 200);
      await axios.get(`${base}/slow?id=t8`, { signal: ac.signal });
    } catch (e) {
      out({ id: 't8', ...errOf(e) });
    }
    // AbortSignal.timeout: a timeout, whose AbortError carries the TimeoutError as its cause.
    await new Promise((resolve) => {
      http.get(`${base}/slow?id=t9`, { signal: AbortSignal.timeout(200) }).on('error', (e) => (out({ id: 't9', ...errOf(e) }), resolve()));
    });
  },

  async websocket() {
    const wsBase = base.replace(/^http/, 'ws');
    await new Promise((resolve, reject) => {
      const ws = new WebSocket(`${wsBase}/ws?id=w1`);
      const got = [];
      ws.on('open', () => {
        ws.send('hello');
        ws.send(Buffer.from([1, 2, 3, 4, 5]));
      });
      ws.on('message', (data) => {
        got.push(data.length);
        if (got.length === 2) ws.close(4000, 'bye');
      });
      ws.on('close', (code, reason) => (out({ id: 'w1', code, reason: String(reason), got }), resolve()));
      ws.on('error', reject);
    });
    // The server closes this one.
    await new Promise((resolve, reject) => {
      const ws = new WebSocket(`${wsBase}/ws-server-closes?id=w2`);
      ws.on('close', (code, reason) => (out({ id: 'w2', code, reason: String(reason) }), resolve()));
      ws.on('error', reject);
    });
    // wss://: the frames are read above TLS.
    if (process.env.NT_SECURE) {
      await new Promise((resolve, reject) => {
        const ws = new WebSocket(`${process.env.NT_SECURE.replace(/^https/, 'wss')}/ws?id=w4`, { ca });
        ws.on('open', () => ws.send('x'.repeat(300)));
        ws.on('message', () => ws.close(1000));
        ws.on('close', (code) => (out({ id: 'w4', code }), resolve()));
        ws.on('error', reject);
      });
    }
    // An Upgrade request without an 'upgrade' listener: Node destroys the socket.
    await new Promise((resolve) => {
      const req = http.request(`${base}/ws?id=w3`, {
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version': '13',
        },
      });
      const events = [];
      for (const ev of ['response', 'error', 'close']) req.on(ev, (x) => events.push(ev === 'error' ? `error:${x.code}` : ev));
      req.on('close', () => setTimeout(() => (out({ id: 'w3', events }), resolve()), 50));
      req.end();
    });
  },

  async streams() {
    for (const id of ['s1', 'c1']) {
      await new Promise((resolve, reject) => {
        http
          .get(`${base}/${id === 's1' ? 'sse' : 'chunked'}?id=${id}`, (res) => {
            let n = 0;
            res.on('data', (d) => (n += d.length));
            res.on('end', () => (out({ id, status: res.statusCode, bytes: n }), resolve()));
          })
          .on('error', reject);
      });
    }
  },

  async connect() {
    const { hp } = JSON.parse(process.env.NT_PROXIES);
    const target = new URL(process.env.NT_HTTPS);
    await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: hp, method: 'CONNECT', path: `${target.hostname}:${target.port}` });
      req.on('connect', (res, socket) => {
        out({ id: 'k1', status: res.statusCode });
        const secure = tls.connect({ socket, servername: 'localhost', ca });
        https
          .get(`${target.origin}/via-connect?id=k2&size=5000`, { createConnection: () => secure }, (r) => {
            let n = 0;
            r.on('data', (d) => (n += d.length));
            r.on('end', () => (out({ id: 'k2', status: r.statusCode, bytes: n }), secure.end(), resolve()));
          })
          .on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    const agent = new HttpsProxyAgent(`http://127.0.0.1:${hp}`, { ca });
    await new Promise((resolve, reject) => {
      https
        .get(`${target.origin}/via-agent?id=k3&size=6000`, { agent, ca }, (r) => {
          let n = 0;
          r.on('data', (d) => (n += d.length));
          r.on('end', () => (out({ id: 'k3', status: r.statusCode, bytes: n }), resolve()));
        })
        .on('error', reject);
    });
    agent.destroy();
  },
};

for (const name of process.argv.slice(2)) await scenarios[name]();
out({ done: true });
