// Bench client of bench/tools/large-trace.mjs: REQUESTS GETs over keep-alive `http` (CONCURRENCY in
// flight) to the URL in argv[2], then exits with code 3 (to check `nettrace run` passes it on).
import http from 'node:http';

const url = new URL(process.argv[2]);
const total = Number(process.env.REQUESTS ?? 1_000_000);
const concurrency = Number(process.env.CONCURRENCY ?? 50);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
let next = 0;
let failed = 0;
async function worker() {
  while (next < total) {
    const i = next++;
    await new Promise((resolve) => {
      http
        .get({ host: url.hostname, port: url.port, path: `/r/${i}`, agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', () => {
          failed++;
          resolve();
        });
    });
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
agent.destroy();
if (failed) console.error(`${failed} requests failed`);
process.exitCode = 3;
