// The memory benchmark's client (run with --expose-gc):
//   node --expose-gc memory-client.mjs <requests> <concurrency> <checkpointEvery> <url>
// Makes <requests> keep-alive requests with <concurrency> in flight, alternating `http` (keep-alive
// Agent) and `fetch` (each worker switches client on every request), after 1,000 warm-up
// requests. Before the first and after every <checkpointEvery> requests it lets in-flight work
// settle (200 ms, so a tracer's timer-driven flush runs), forces GC twice and prints one JSON line
// {done, rss, heapUsed, heapTotal, external, arrayBuffers} (bytes). Ends with {final: true, maxRSS}.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const [nArg, concArg, everyArg, url] = process.argv.slice(2);
const total = Number(nArg);
const concurrency = Number(concArg);
const every = Number(everyArg);
if (typeof globalThis.gc !== 'function') {
  console.error('run with --expose-gc');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
let failures = 0;

function viaHttp() {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', () => (failures++, resolve()));
    });
    req.on('error', () => (failures++, resolve()));
  });
}

async function viaFetch() {
  try {
    const res = await fetch(url);
    await res.arrayBuffer();
  } catch {
    failures++;
  }
}

async function run(count) {
  let next = 0;
  const worker = async (w) => {
    let k = w;
    while (next < count) {
      next++;
      await (k++ % 2 === 0 ? viaHttp() : viaFetch());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
}

async function checkpoint(done) {
  await sleep(200);
  globalThis.gc();
  await sleep(10);
  globalThis.gc();
  const m = process.memoryUsage();
  process.stdout.write(
    JSON.stringify({
      done,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      failures,
    }) + '\n',
  );
}

await run(1000);
await checkpoint(0);
for (let done = 0; done < total;) {
  const chunk = Math.min(every, total - done);
  await run(chunk);
  done += chunk;
  await checkpoint(done);
}
process.stdout.write(JSON.stringify({ final: true, maxRSS: process.resourceUsage().maxRSS * 1024, failures, pid: process.pid }) + '\n');
agent.destroy();
process.exit(failures ? 1 : 0);
