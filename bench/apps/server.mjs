// The benchmark's HTTP server, run in its own process so its cost never mixes with the client's:
// listens on 127.0.0.1 (port 0 unless given) and answers every request with a JSON body of
// ~100 bytes, or exactly 10,240 bytes when the path is /10k (the bodies condition's workload).
// Keeps connections alive unless the client asks otherwise (`Connection: close`), and prints
// {"port":N} on stdout once listening. Exits on SIGTERM or when its stdin closes (so a crashed
// parent leaves no server behind).
import { createServer } from 'node:http';

const jsonOf = (bytes) => {
  const shell = JSON.stringify({ ok: true, pad: '' }) + '\n';
  return Buffer.from(JSON.stringify({ ok: true, pad: 'x'.repeat(bytes - shell.length) }) + '\n');
};
const small = jsonOf(100);
const large = jsonOf(10 * 1024);
const server = createServer((req, res) => {
  const body = req.url === '/10k' || req.url.startsWith('/10k?') ? large : small;
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
  process.stdout.write(JSON.stringify({ port: server.address().port, bodyBytes: small.length, largeBodyBytes: large.length }) + '\n');
});
const stop = () => {
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
