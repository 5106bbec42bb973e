// The local services a benchmark's test suite calls (bench/suite-vitest.mjs), run in their own
// process so their cost never mixes with the suite's: an API on one port (users, orders, products,
// search; JSON in and out, some 4xx) and an auth service on another (tokens; 401 on bad
// credentials). Both keep connections alive unless the client asks otherwise. Prints
// {"api":PORT,"auth":PORT} once listening; on each line "count" of its stdin prints the requests
// seen so far, {"count":N,"byStatus":{...},"closes":N} (closes: requests that asked for
// `Connection: close`), and "reset" zeroes them. Exits on SIGTERM or when its stdin closes.
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

let count = 0;
let closes = 0;
let byStatus = {};

const names = ['Ada', 'Grace', 'Linus', 'Margaret', 'Barbara', 'Ken', 'Dennis', 'Frances', 'Edsger', 'Radia'];
const user = (id) => ({
  id,
  name: `${names[id % names.length]} ${id}`,
  email: `user${id}@example.test`,
  roles: id % 7 === 0 ? ['admin', 'user'] : ['user'],
  createdAt: new Date(Date.UTC(2024, id % 12, (id % 28) + 1)).toISOString(),
  address: { street: `${id} Main St`, city: ['Lyon', 'Oslo', 'Lima', 'Kyoto'][id % 4], zip: String(10000 + id) },
});
const product = (id, category) => ({
  id,
  sku: `SKU-${id}`,
  category,
  title: `Product ${id}`,
  price: ((id * 37) % 10000) / 100,
  stock: id % 50,
});
const order = (id) => ({
  id,
  userId: (id * 13) % 1000,
  status: ['pending', 'paid', 'shipped', 'delivered'][id % 4],
  items: Array.from({ length: (id % 5) + 1 }, (_, i) => ({ productId: id * 10 + i, qty: (i % 3) + 1, price: ((id + i) * 7) % 100 })),
});
const big = JSON.stringify({ items: Array.from({ length: 400 }, (_, i) => product(i, 'bulk')) });

/** The status and body an API request gets. */
function api(method, url, body, headers) {
  const u = new URL(url, 'http://x');
  const parts = u.pathname.split('/').filter(Boolean); // ['api', 'users', '12']
  if (parts[0] !== 'api') return [404, { error: 'not found' }];
  const [, kind, idText] = parts;
  const id = Number(idText);
  if (kind === 'users') {
    if (method === 'GET' && idText === undefined) {
      const page = Number(u.searchParams.get('page') ?? 1);
      return [200, { page, users: Array.from({ length: 20 }, (_, i) => user((page - 1) * 20 + i + 1)) }];
    }
    if (method === 'POST') {
      if (!body || typeof body.name !== 'string') return [422, { error: 'name is required' }];
      return [201, { ...body, id: 5000 + (count % 1000) }];
    }
    if (!(id >= 1 && id <= 1000)) return [404, { error: `no user ${idText}` }];
    if (method === 'GET') return [200, user(id)];
    if (method === 'PUT' || method === 'PATCH') return [200, { ...user(id), ...body }];
    if (method === 'DELETE') return [204, null];
  }
  if (kind === 'orders' && method === 'GET') {
    if (!(id >= 1 && id <= 500)) return [404, { error: `no order ${idText}` }];
    return [200, order(id)];
  }
  if (kind === 'products' && method === 'GET') {
    if (idText === 'bulk') return [200, big];
    const category = u.searchParams.get('category') ?? 'all';
    return [200, { category, products: Array.from({ length: 10 }, (_, i) => product(i + 1, category)) }];
  }
  if (kind === 'search' && method === 'POST') {
    const q = String(body?.q ?? '');
    if (!q) return [400, { error: 'q is required' }];
    return [200, { q, hits: Array.from({ length: q.length % 8 }, (_, i) => ({ id: i, title: `${q} result ${i}` })) }];
  }
  if (kind === 'admin') {
    return headers.authorization === 'Bearer token-admin' ? [200, { ok: true }] : [403, { error: 'forbidden' }];
  }
  return [404, { error: 'not found' }];
}

/** The status and body an auth request gets. */
function auth(method, url, body) {
  if (method === 'POST' && url === '/token') {
    if (body?.password !== 'correct horse') return [401, { error: 'invalid credentials' }];
    return [200, { token: body.user === 'admin' ? 'token-admin' : `token-${body.user}`, expiresIn: 3600 }];
  }
  if (method === 'GET' && url === '/health') return [200, { status: 'ok' }];
  return [404, { error: 'not found' }];
}

function serve(handler) {
  const server = createServer((req, res) => {
    count++;
    if (req.headers.connection === 'close') closes++;
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        body = undefined;
      }
      const [status, out] = handler(req.method, req.url, body, req.headers);
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      const text = out === null ? '' : typeof out === 'string' ? out : JSON.stringify(out);
      const head = { 'content-length': Buffer.byteLength(text) };
      if (out !== null) head['content-type'] = 'application/json; charset=utf-8';
      res.writeHead(status, head);
      res.end(text);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;
  return server;
}

const servers = [serve(api), serve(auth)];
await Promise.all(servers.map((s) => new Promise((r) => s.listen(0, '127.0.0.1', r))));
process.stdout.write(JSON.stringify({ api: servers[0].address().port, auth: servers[1].address().port }) + '\n');

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'count') process.stdout.write(JSON.stringify({ count, byStatus, closes }) + '\n');
  if (line === 'reset') {
    count = 0;
    closes = 0;
    byStatus = {};
    for (const s of servers) s.closeIdleConnections?.();
    process.stdout.write(JSON.stringify({ reset: true }) + '\n');
  }
});
const stop = () => {
  for (const s of servers) s.closeAllConnections?.();
  setTimeout(() => process.exit(0), 200).unref();
  Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
