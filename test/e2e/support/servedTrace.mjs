// A real server's trace for the Summary view's end-to-end test (test/e2e/summary.e2e.test.mjs):
// a Fastify server (server.js, written into the workspace) calling a backend, traced by the CLI
// (`nettrace run --helper off --out F -- node server.js`) while this process sends it `n`
// requests over 8 keep-alive connections, then stops once it has answered them all. Not a test
// file (support/, no `.test.mjs`).
import { spawn } from 'node:child_process';
import { createServer, Agent, request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './codeServer.mjs';

/** The traced program: three routes Fastify names; two call the backend (one twice), /health calls nothing. */
export const SERVER_JS = `const http = require('node:http');
const fastify = require('fastify')();
const backend = process.env.BACKEND;
const agent = new http.Agent({ keepAlive: true });

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(backend + path, { method, agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

fastify.get('/users/:id', async (request, reply) => {
  const user = await call('GET', '/db/users/' + request.params.id);
  reply.code(user.status === 200 ? 200 : 404);
  return user.body;
});

fastify.post('/orders', async (request, reply) => {
  const stock = await call('GET', '/db/stock/' + request.body.item);
  const order = await call('POST', '/db/orders', { item: request.body.item, left: stock.body.left });
  reply.code(201);
  return order.body;
});

fastify.get('/health', async () => ({ ok: true }));

// Stops once it has answered every request of the load test.
let answered = 0;
fastify.addHook('onResponse', async () => {
  if (++answered === Number(process.env.REQUESTS)) setImmediate(() => fastify.close().then(() => agent.destroy()));
});

fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then(() => console.log('listening'));
`;

/**
 * The backend server.js calls, on 127.0.0.1 (a free port): users (404 for ids divisible by 97),
 * stock and orders; `slow.users` ms more on GET /db/users/:id while set.
 */
export async function startBackend() {
  const slow = { users: 0 };
  const server = createServer((req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const m = /^\/db\/users\/(\d+)$/.exec(req.url);
    if (m) {
      const id = Number(m[1]);
      return void setTimeout(
        () => (id % 97 === 0 ? send(404, { error: 'no such user' }) : send(200, { id, name: `user ${id}` })),
        slow.users,
      );
    }
    if (req.url.startsWith('/db/stock/')) return void send(200, { left: 7 });
    if (req.method === 'POST' && req.url === '/db/orders') {
      req.resume();
      return void req.on('end', () => send(201, { order: Math.floor(Math.random() * 1e6) }));
    }
    send(404, {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, slow, url: `http://127.0.0.1:${server.address().port}` };
}

/** One request of the load test: i % 3 picks GET /users/:id, POST /orders or GET /health. */
function send(agent, port, i) {
  const kind = i % 3;
  const path = kind === 0 ? `/users/${1000 + i}` : kind === 1 ? '/orders' : '/health';
  const body = kind === 1 ? JSON.stringify({ item: 100 + (i % 50) }) : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: kind === 1 ? 'POST' : 'GET',
        agent,
        headers: body ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Runs server.js (in `dir`) under `nettrace run` on `port`, sends it `n` requests, 8 at a time,
 * and resolves with the CLI's exit code once it wrote `out`.
 */
export async function traceServer({ dir, out, port, backend, n, node = process.execPath, log = () => {} }) {
  writeFileSync(join(dir, 'server.js'), SERVER_JS);
  const cli = join(root, 'bin', 'nettrace.cjs');
  const child = spawn(node, [cli, 'run', '--helper', 'off', '--out', out, '--', node, 'server.js'], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), BACKEND: backend, REQUESTS: String(n), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      if (text.includes('listening')) resolve();
    });
    exited.then((code) => reject(new Error(`server.js exited (${code}) before listening: ${stderr}`)));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const t0 = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < n) await send(agent, port, next++);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  agent.destroy();
  log(`${n} requests sent in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const code = await exited;
  if (code !== 0) throw new Error(`nettrace run exited ${code}: ${stderr}`);
  return code;
}
