// The benchmark's client: one workload per process.
//   node client.mjs <http|fetch|mixed> <seq|conc> <requests> <concurrency> <warmup> <url> [options]
// Makes <warmup> requests first (not timed), then <requests> timed requests, either one after the
// other (seq) or with <concurrency> in flight (conc), over keep-alive connections: `http` with a
// keep-alive Agent (`https` and an https.Agent for an https: URL), `fetch` with Node's global
// dispatcher (keep-alive by default; for https it trusts what NODE_EXTRA_CA_CERTS adds), `mixed`
// half of each: in-flight slot i uses `http` when i is even, `fetch` when odd (sequentially, the
// requests alternate). Options for every client:
//   --parse-json         read each response body whole and JSON.parse it (http: concatenated
//                        chunks; fetch: res.json()), as a program consuming an API does
//   --passes=K           run the timed part K times back to back in this process (default 1);
//                        the output line then also has `passes: [{ms, cpuMs}, ...]`, and ms/cpuMs
//                        are the first pass's. Pass 1 carries the JIT warm-up that <warmup>
//                        requests did not absorb, later passes run on warm code (issue 17's
//                        JIT share)
//   --mark-passes        print {"pass": K} on stdout as pass K starts, and {"pass": passes + 1} after
//                        the last (bench/tools/deopts.mjs tells V8's --trace-deopt lines of the warm-up,
//                        of each pass and of the exit apart by them)
//   --numbered           add `?n=K` to each request's URL, K counting requests from 0 (warm-up
//                        included), so trace rules can pick a share of them (bench/rules-hooks.mjs)
//   --wait-inspector     before the warm-up, print {"inspectorUrl": inspector.url()} and wait until
//                        an inspector client calls globalThis.__benchRelease() (Runtime.evaluate),
//                        so a peer that enables the Network domain sees every request
// Options (http only):
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
import https from 'node:https';
import inspector from 'node:inspector';
import { performance } from 'node:perf_hooks';

const [client, mode, nArg, concArg, warmArg, url, ...flags] = process.argv.slice(2);
const newConn = flags.includes('--new-conn');
const lookupOpt = flags.find((o) => o.startsWith('--lookup='))?.slice('--lookup='.length);
const parseJson = flags.includes('--parse-json');
const passes = Number(flags.find((o) => o.startsWith('--passes='))?.slice('--passes='.length) ?? 1);
const markPasses = flags.includes('--mark-passes');
const waitInspector = flags.includes('--wait-inspector');
const numbered = flags.includes('--numbered');
let requestNo = 0;
/** The URL of the next request: `url`, or with --numbered `url?n=K`. */
const nextUrl = numbered ? () => `${url}${url.includes('?') ? '&' : '?'}n=${requestNo++}` : () => url;
const n = Number(nArg);
const concurrency = mode === 'seq' ? 1 : Number(concArg);
const warmup = Number(warmArg);
if (!['http', 'fetch', 'mixed'].includes(client) || !['seq', 'conc'].includes(mode) || !(n > 0) || !url || !(passes >= 1)) {
  console.error(
    'usage: client.mjs <http|fetch|mixed> <seq|conc> <requests> <concurrency> <warmup> <url> [--new-conn] [--lookup=literal|cares:IP:PORT] [--parse-json] [--passes=K] [--mark-passes] [--numbered] [--wait-inspector]',
  );
  process.exit(2);
}
if (client !== 'http' && (newConn || lookupOpt)) {
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

const tls = url.startsWith('https:');
const httpMod = tls ? https : http;
const agent = new httpMod.Agent({ keepAlive: true, maxSockets: Math.max(1, concurrency) });
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
    const req = httpMod.get(nextUrl(), httpOptions, (res) => {
      if (parseJson) {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          bytes += body.length;
          try {
            JSON.parse(body.toString('utf8'));
          } catch (err) {
            fail(err);
          }
          resolve();
        });
      } else {
        res.on('data', (c) => (bytes += c.length));
        res.on('end', resolve);
      }
      res.on('error', (err) => (fail(err), resolve()));
    });
    req.on('error', (err) => (fail(err), resolve()));
  });
}

async function viaFetch() {
  try {
    const res = await fetch(nextUrl());
    if (parseJson) {
      await res.json();
      bytes += Number(res.headers.get('content-length') ?? 0);
    } else bytes += (await res.arrayBuffer()).byteLength;
  } catch (err) {
    fail(err);
  }
}

/** The request function of in-flight slot `i`. */
const oneOf = (i) => (client === 'http' ? viaHttp : client === 'fetch' ? viaFetch : i % 2 === 0 ? viaHttp : viaFetch);

async function run(count) {
  let next = 0;
  const worker = async (slot) => {
    const one = oneOf(slot);
    while (next < count) {
      // Sequentially (one slot), `mixed` alternates by request number.
      const k = next++;
      await (concurrency === 1 && client === 'mixed' ? oneOf(k) : one)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, i) => worker(i)));
}

if (waitInspector) {
  // The peer (bench/apps/inspector-peer.mjs) enables the Network domain, then releases us.
  // The inspector's server does not keep the event loop alive: a timer does, until released.
  const released = new Promise((resolve) => (globalThis.__benchRelease = resolve));
  const keepAlive = setInterval(() => {}, 1000);
  process.stdout.write(JSON.stringify({ inspectorUrl: inspector.url() }) + '\n');
  await released;
  clearInterval(keepAlive);
}
await run(warmup);
bytes = 0;
const c0 = process.cpuUsage();
const t0 = performance.now();
const passTimes = [];
for (let p = 0, pc = c0, pt = t0; p < passes; p++) {
  if (markPasses) writeSync(1, `${JSON.stringify({ pass: p + 1 })}\n`);
  await run(n);
  const pcpu = process.cpuUsage(pc);
  const now = performance.now();
  passTimes.push({ ms: now - pt, cpuMs: (pcpu.user + pcpu.system) / 1000 });
  pc = process.cpuUsage();
  pt = performance.now();
}
if (markPasses) writeSync(1, `${JSON.stringify({ pass: passes + 1 })}\n`);
const { ms, cpuMs } = passTimes[0];
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
    node: process.version,
    ...(passes > 1 ? { passes: passTimes } : {}),
    ...extra,
  }) + '\n',
);
agent.destroy();
if (failures) console.error(`client: ${failures} failed requests, first: ${firstError}`);
process.exit(failures ? 1 : 0);
