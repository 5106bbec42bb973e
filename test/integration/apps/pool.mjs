// More requests at once than a connection pool allows: an http.Agent at maxSockets, an undici
// Agent or Pool at connections (undici.request, undici.fetch). Each response is held by the
// server for a known time, so later requests wait for a free connection. The program notes, for
// each request, when it called and when its request got a connection (the 'socket' event of an
// http request; undici's own `undici:request:create`, published when the pool hands it one),
// and prints them: the test compares them with the trace's `blocked`.
import http from 'node:http';
import dc from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { Agent, Pool, request, fetch as undiciFetch } from 'undici';

const base = process.env.NT_BASE;
const [mode, countArg] = process.argv.slice(2);
const count = Number(countArg);
const seen = new Map();
const mark = (path, field) => {
  const e = seen.get(path) ?? {};
  e[field] = performance.now();
  seen.set(path, e);
};
dc.subscribe('undici:request:create', ({ request: r }) => mark(String(r.path).replace(/^https?:\/\/[^/]*/, ''), 'assignedAt'));

function httpGet(agent, path) {
  return new Promise((resolve, reject) => {
    mark(path, 'callAt');
    const rq = http.get(`${base}${path}`, { agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    rq.on('socket', () => mark(path, 'assignedAt'));
    rq.on('error', reject);
  });
}

const paths = Array.from({ length: count }, (_, i) => `/${mode}/${i}`);
if (mode === 'http') {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  await Promise.all(paths.map((p) => httpGet(agent, p)));
  agent.destroy();
} else if (mode === 'undici-request') {
  const agent = new Agent({ connections: 2 });
  await Promise.all(
    paths.map(async (p) => {
      mark(p, 'callAt');
      const r = await request(`${base}${p}`, { dispatcher: agent });
      await r.body.text();
    }),
  );
  await agent.close();
} else if (mode === 'undici-fetch') {
  const agent = new Agent({ connections: 2 });
  await Promise.all(
    paths.map(async (p) => {
      mark(p, 'callAt');
      const r = await undiciFetch(`${base}${p}`, { dispatcher: agent });
      await r.text();
    }),
  );
  await agent.close();
} else if (mode === 'pool') {
  const pool = new Pool(base, { connections: 2 });
  await Promise.all(
    paths.map(async (p) => {
      mark(p, 'callAt');
      const r = await pool.request({ path: p, method: 'GET' });
      await r.body.text();
    }),
  );
  await pool.close();
}
console.log(JSON.stringify(Object.fromEntries(seen)));
