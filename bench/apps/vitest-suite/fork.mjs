// What one of the suite's vitest workers does, without vitest's pool (bench/tools/fork-callgrind.mjs):
// an ES module that loads vitest's `expect` (@vitest/expect on chai, as its worker builds it), axios and
// node:http, then runs orders.test.ts's 20 cases (FORK_CASES) one after the other: 5 calls each (fetch, axios
// on a keep-alive agent, node:http kept alive and on a fresh connection, a 404), 100 in all, to
// the suite's services (API_URL). Prints {"requests":100,"failures":0} and exits.
// httpJson, fetchJson and the loop restate tests/client.ts and tests/orders.test.ts: Node 20 runs no
// TypeScript without a loader, which the worker's cost would then hold. A change to those is made here too.
import http from 'node:http';
import axios from 'axios';
import { JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect';
import * as chai from 'chai';

// vitest's `expect` as its worker builds it (vitest itself refuses to load outside its runner).
chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);
const { expect } = chai;

const API = process.env.API_URL ?? 'http://127.0.0.1:1';
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });
const api = axios.create({ baseURL: API, httpAgent: keepAlive, validateStatus: () => true, timeout: 20000 });

function httpJson(method, url, body, fresh = false) {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent: fresh ? false : keepAlive,
        headers: {
          accept: 'application/json',
          ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function fetchJson(method, url) {
  const res = await fetch(url, { method, headers: { accept: 'application/json' } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

let requests = 0;
let failures = 0;
for (const id of Array.from({ length: Number(process.env.FORK_CASES ?? 20) }, (_, i) => 11 + i * 23)) {
  try {
    const order = await fetchJson('GET', `${API}/api/orders/${id}`);
    expect(order.status).toBe(200);
    const owner = await api.get(`/api/users/${order.body.userId || 1}`);
    expect(owner.status).toBe(200);
    const products = await httpJson('GET', `${API}/api/products?category=order-${id}`);
    expect(products.body.products.length).toBeGreaterThan(0);
    const again = await httpJson('GET', `${API}/api/orders/${id}`, undefined, true);
    expect(again.body).toEqual(order.body);
    const missing = await api.get(`/api/orders/${id + 9000}`);
    expect(missing.status).toBe(404);
  } catch (err) {
    failures++;
    console.error(err);
  }
  requests += 5;
}
keepAlive.destroy();
console.log(JSON.stringify({ requests, failures: failures || undefined }));
