'use strict';
// The load generator of bench/servers.mjs (never traced): WARMUP requests, then the server's CPU
// reading, REQUESTS requests at CONCURRENCY over keep-alive, the reading again. Prints
// {"cpuUs":…,"wallMs":…,"failed":…}: the server's CPU over the timed part.
const http = require('node:http');

const [port, requests, concurrency, warmup] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function get(path) {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(res.statusCode === 200 ? body : null));
      })
      .on('error', () => resolve(null));
  });
}

async function batch(n) {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next++ < n) if ((await get('/')) === null) failed++;
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}

(async () => {
  await batch(warmup);
  const before = JSON.parse(await get('/__cpu')).cpuUs;
  const t0 = performance.now();
  const failed = await batch(requests);
  const wallMs = performance.now() - t0;
  const after = JSON.parse(await get('/__cpu')).cpuUs;
  process.stdout.write(JSON.stringify({ cpuUs: after - before, wallMs, failed }) + '\n');
  agent.destroy();
})();
