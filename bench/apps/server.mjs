// The benchmark's HTTP server, run in its own process so its cost never mixes with the client's:
// listens on 127.0.0.1 (port 0 unless given), answers every request with a ~100-byte body, keeps
// connections alive, and prints {"port":N} on stdout once listening. Exits on SIGTERM or when
// its stdin closes (so a crashed parent leaves no server behind).
import { createServer } from 'node:http';

const body = Buffer.from(JSON.stringify({ ok: true, pad: 'x'.repeat(79) }) + '\n'); // 100 bytes
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
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
