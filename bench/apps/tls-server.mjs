// The realistic row's server (issue 17), in its own process: HTTPS on 127.0.0.1 with the test
// CA's `localhost` certificate (test/fixtures/certs), keep-alive, and every response held for
// <delayMs> (default 2) before it is sent, like an API doing a little work. Each response is the
// same JSON document (~1.5 KB: a page of 12 small items) that the client parses. Prints
// {"port":N,"bodyBytes":B} once listening; exits on SIGTERM or when its stdin closes.
//   node tls-server.mjs [delayMs] [port]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const certs = join(fileURLToPath(new URL('../../test/fixtures/certs/', import.meta.url)));
const delayMs = Number(process.argv[2] ?? 2);
const items = Array.from({ length: 12 }, (_, i) => ({
  id: 1000 + i,
  name: `item ${i}`,
  price: +(9.99 + i).toFixed(2),
  tags: ['bench', i % 2 ? 'odd' : 'even'],
  updatedAt: new Date(Date.UTC(2026, 10, 22, 12, i)).toISOString(),
}));
const body = Buffer.from(JSON.stringify({ page: 1, total: 120, items }) + '\n');
const server = createServer(
  { key: readFileSync(join(certs, 'localhost.key')), cert: readFileSync(join(certs, 'localhost.pem')) },
  (req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      }, delayMs),
    );
  },
);
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;
server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port, bodyBytes: body.length }) + '\n');
});
const stop = () => {
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
