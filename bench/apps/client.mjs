// The benchmark's client: one workload per process.
//   node client.mjs <http|fetch> <seq|conc> <requests> <concurrency> <warmup> <url> [options]
// Makes <warmup> requests first (not timed), then <requests> timed requests, either one after the
// other (seq) or with <concurrency> in flight (conc), over keep-alive connections: `http` with a
// keep-alive Agent, `fetch` with Node's global dispatcher (keep-alive by default). Options (http
// only):
//   --new-conn           a new connection per request: `agent: false` (a fresh non-keep-alive
//                        Agent, so the request says `Connection: close` and the server closes)
//   --lookup=literal     pass `lookup` to http.get: answers 127.0.0.1 at once (next tick), no DNS
//   --lookup=cares:IP:PORT  pass `lookup` to http.get: c-ares (`dns.Resolver`, setServers to
//                        IP:PORT) — resolve4, or resolve4 + resolve6 in parallel for family 0
//                        (what the in-process resolver of the DNS trace does), NODATA ignored
//   (no --lookup: Node's default dns.lookup, or the tracer's resolver when one is installed)
// Prints one JSON line {ms, cpuMs (this process's user+system CPU during the timed part),
// requests, ...} on stdout, then exits; its last `exit` listener prints a second line
// {cpuToExitMs, msToExit, tailMs}: CPU and wall time from the start of the timed part to the end
// of the process (counting work a tracer defers past the last response). Knows nothing about what
// traces it, except that a preload may leave `globalThis.__benchFinish` (async, returns extra
// fields to report, e.g. the OpenTelemetry preload's span count after a flush).
import dns from 'node:dns';
import { writeSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [client, mode, nArg, concArg, warmArg, url, ...flags] = process.argv.slice(2);
const newConn = flags.includes('--new-conn');
const lookupOpt = flags.find((o) => o.startsWith('--lookup='))?.slice('--lookup='.length);
const n = Number(nArg);
const concurrency = mode === 'seq' ? 1 : Number(concArg);
const warmup = Number(warmArg);
if (!['http', 'fetch'].includes(client) || !['seq', 'conc'].includes(mode) || !(n > 0) || !url) {
  console.error(
    'usage: client.mjs <http|fetch> <seq|conc> <requests> <concurrency> <warmup> <url> [--new-conn] [--lookup=literal|cares:IP:PORT]',
  );
  process.exit(2);
}
if (client === 'fetch' && (newConn || lookupOpt)) {
  console.error('--new-conn and --lookup are for the http client only');
  process.exit(2);
}

/** `lookup` answers in dns.lookup's shapes (a single address, or all of them). */
function answer(opts, cb, list) {
  if (opts?.all) cb(null, list);
  else cb(null, list[0].address, list[0].family);
}

function literalLookup(host, opts, cb) {
  if (typeof opts === 'function') ((cb = opts), (opts = {}));
  process.nextTick(answer, opts, cb, [{ address: '127.0.0.1', family: 4 }]);
}

function caresLookup(server) {
  const resolver = new dns.Resolver();
  resolver.setServers([server]);
  const query = (rrtype, host) =>
    new Promise((resolve, reject) =>
      resolver.resolve(host, rrtype, (err, addrs) => {
        if (err && err.code !== dns.NODATA) reject(err);
        else resolve((addrs ?? []).map((address) => ({ address, family: rrtype === 'AAAA' ? 6 : 4 })));
      }),
    );
  return function lookup(host, opts, cb) {
    if (typeof opts === 'function') ((cb = opts), (opts = {}));
    const family = typeof opts === 'number' ? opts : (opts?.family ?? 0);
    const types = family === 4 ? ['A'] : family === 6 ? ['AAAA'] : ['A', 'AAAA'];
    Promise.all(types.map((t) => query(t, host))).then(
      (lists) => {
        const list = lists.flat();
        if (!list.length) cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host }));
        else answer(opts, cb, list);
      },
      (err) => cb(err),
    );
  };
}

const lookup =
  lookupOpt === undefined
    ? undefined
    : lookupOpt === 'literal'
      ? literalLookup
      : lookupOpt.startsWith('cares:')
        ? caresLookup(lookupOpt.slice(6))
        : undefined;
if (lookupOpt !== undefined && !lookup) {
  console.error(`unknown --lookup=${lookupOpt}`);
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, concurrency) });
const httpOptions = { agent: newConn ? false : agent };
if (lookup) httpOptions.lookup = lookup;
let bytes = 0;
let failures = 0;
let firstError;
const fail = (err) => {
  failures++;
  firstError ??= `${err?.code ?? ''} ${err?.message ?? err}`.trim();
};

function viaHttp() {
  return new Promise((resolve) => {
    const req = http.get(url, httpOptions, (res) => {
      res.on('data', (c) => (bytes += c.length));
      res.on('end', resolve);
      res.on('error', (err) => (fail(err), resolve()));
    });
    req.on('error', (err) => (fail(err), resolve()));
  });
}

async function viaFetch() {
  try {
    const res = await fetch(url);
    bytes += (await res.arrayBuffer()).byteLength;
  } catch (err) {
    fail(err);
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
const tEnd = performance.now();
const extra = typeof globalThis.__benchFinish === 'function' ? await globalThis.__benchFinish() : {};
// Work a tracer defers past the last response (OpenTelemetry's forceFlush above, Net Trace's
// queue flushed at exit) is the program's cost too: the last exit listener (this one, registered
// after any --require preload's) reports the CPU and wall time from the start of the timed part
// to the very end of the process.
process.on('exit', () => {
  const all = process.cpuUsage(c0);
  writeSync(
    1,
    JSON.stringify({ cpuToExitMs: (all.user + all.system) / 1000, msToExit: performance.now() - t0, tailMs: performance.now() - tEnd }) +
      '\n',
  );
});
process.stdout.write(
  JSON.stringify({
    client,
    mode,
    requests: n,
    warmup,
    concurrency,
    newConn,
    lookup: lookupOpt,
    ms,
    cpuMs,
    bytes,
    failures,
    firstError,
    pid: process.pid,
    ...extra,
  }) + '\n',
);
agent.destroy();
if (failures) console.error(`client: ${failures} failed requests, first: ${firstError}`);
process.exit(failures ? 1 : 0);
