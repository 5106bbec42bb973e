// HTTP/2 client workload for bench/http2-channel.mjs: one session to <url>, <warmup> streams (not
// timed), then <streams> GET streams one after the other, each body read whole. Prints one JSON
// line {ms, cpuMs (this process's user+system CPU during the timed part), streams}, then exits.
//   node h2-client.cjs <url> <streams> <warmup>
// CommonJS: the preload hooks http2 when `require` loads it (an ESM import is seen only at the next
// TCP connect, after this program's one session opened).
const http2 = require('node:http2');

const [url, streamsArg, warmupArg] = process.argv.slice(2);
const N = Number(streamsArg);
const WARMUP = Number(warmupArg);
const session = http2.connect(url);
session.on('error', (err) => {
  console.error(err);
  process.exit(1);
});

function get(path) {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let bytes = 0;
    stream.on('data', (d) => (bytes += d.length));
    stream.on('end', () => resolve(bytes));
    stream.on('error', reject);
  });
}

async function main() {
  for (let i = 0; i < WARMUP; i++) await get('/warm');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await get('/s');
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ ms, cpuMs: (c.user + c.system) / 1000, streams: N }));
  session.close();
}

void main();
