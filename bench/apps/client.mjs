// The benchmark's client: one workload per process.
//   node client.mjs <http|fetch> <seq|conc> <requests> <concurrency> <warmup> <url>
// Makes <warmup> requests first (not timed), then <requests> timed requests, either one after the
// other (seq) or with <concurrency> in flight (conc), over keep-alive connections: `http` with a
// keep-alive Agent, `fetch` with Node's global dispatcher (keep-alive by default). Prints one JSON
// line {ms, cpuMs (this process's user+system CPU during the timed part), requests, ...} on
// stdout and exits. Knows nothing about what traces it, except that a preload may leave
// `globalThis.__benchFinish` (async, returns extra fields to report, e.g. the OpenTelemetry
// preload's span count after a flush).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [client, mode, nArg, concArg, warmArg, url] = process.argv.slice(2);
const n = Number(nArg);
const concurrency = mode === 'seq' ? 1 : Number(concArg);
const warmup = Number(warmArg);
if (!['http', 'fetch'].includes(client) || !['seq', 'conc'].includes(mode) || !(n > 0) || !url) {
  console.error('usage: client.mjs <http|fetch> <seq|conc> <requests> <concurrency> <warmup> <url>');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, concurrency) });
let bytes = 0;
let failures = 0;

function viaHttp() {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      res.on('data', (c) => (bytes += c.length));
      res.on('end', resolve);
      res.on('error', () => (failures++, resolve()));
    });
    req.on('error', () => (failures++, resolve()));
  });
}

async function viaFetch() {
  try {
    const res = await fetch(url);
    bytes += (await res.arrayBuffer()).byteLength;
  } catch {
    failures++;
  }
}

const one = client === 'http' ? viaHttp : viaFetch;

async function run(count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

await run(warmup);
bytes = 0;
const c0 = process.cpuUsage();
const t0 = performance.now();
await run(n);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(c0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const extra = typeof globalThis.__benchFinish === 'function' ? await globalThis.__benchFinish() : {};
process.stdout.write(
  JSON.stringify({ client, mode, requests: n, warmup, concurrency, ms, cpuMs, bytes, failures, pid: process.pid, ...extra }) + '\n',
);
agent.destroy();
process.exit(failures ? 1 : 0);
