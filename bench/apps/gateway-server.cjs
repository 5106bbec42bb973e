'use strict';
// The measured server of bench/servers.mjs: an http server whose handler answers at once
// (`plain`) or after CALLS sequential awaited calls to a backend over a keep-alive agent
// (`calls`). GET /__cpu answers the process's CPU time so far (µs), which the load generator
// reads before and after its timed part. Prints {"port":N} when listening.
const http = require('node:http');

const [mode, backendPort, calls = '3'] = process.argv.slice(2);
const CALLS = Number(calls);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function call(path) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: Number(backendPort), path, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  if (req.url === '/__cpu') {
    const u = process.cpuUsage();
    res.end(JSON.stringify({ cpuUs: u.user + u.system }));
    return;
  }
  if (mode === 'calls') for (let i = 0; i < CALLS; i++) await call(`/b${i}`);
  res.setHeader('content-type', 'text/plain');
  res.end('ok');
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
process.on('SIGTERM', () => process.exit(0));
