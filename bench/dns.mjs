// Issue 4, DNS resolver latency floor: the in-process resolver (src/preload/dns/resolver.ts, bundled
// on the fly with esbuild) against c-ares (`dns.promises.Resolver#resolve4`, `setServers` to the same
// server), one lookup at a time, against the local DNS server of the integration tests running in
// its own process (test/integration/dnsServer.mjs). The two are interleaved lookup by lookup (which
// one goes first alternates) so drift and noise hit both alike; warm-up lookups are excluded.
// Medians over BENCH_LOOKUPS lookups each; the floor is nettrace/c-ares ≤ 1.2 for family 4 (one A
// query, as resolve4). Family 0 (A and AAAA in parallel) is compared with resolve4 + resolve6 run in
// parallel, for information. Writes the table to its own section of test-results/bench/runs.md.
//
//   node bench/dns.mjs
//   BENCH_LOOKUPS=5000 BENCH_WARMUP=500 node bench/dns.mjs
//   node bench/dns.mjs --no-write          do not touch test-results/bench/runs.md
//   node bench/dns.mjs --profile FILE      also writes a CPU profile (.cpuprofile) of the run
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resultsPath, writeResults } from './lib/common.mjs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dns from 'node:dns';
import { bundleTs } from '../test/lib/bundleTs.mjs';
import { Session } from 'node:inspector/promises';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const SECTION = 'DNS resolver — issue 4';
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 5000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 500);
const FLOOR = 1.2;
const args = process.argv.slice(2);
const write = !args.includes('--no-write');
const profileAt = args.indexOf('--profile');
const profileFile = profileAt >= 0 ? args[profileAt + 1] : undefined;

/** Starts the DNS server in its own process; resolves with its address and a stop function. */
function startServerProcess() {
  const child = spawn(process.execPath, [join(root, 'test/integration/dnsServer.mjs'), '127.0.0.1', '0'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`DNS server exited (${code})`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const { address } = JSON.parse(buf.slice(0, nl));
      resolve({ address, stop: () => child.stdin.end() });
    });
  });
}

function machine() {
  let nproc = os.cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    /* os.cpus() it is */
  }
  return {
    nproc,
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map((x) => x.toFixed(2)),
    date: new Date().toISOString(),
  };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const us = (ms) => (ms * 1000).toFixed(1);

/** Times `fn` (which returns a promise) in microsecond-resolution milliseconds. */
async function time(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Replaces (or appends) this benchmark's `## SECTION` in bench/RESULTS.md, leaving others alone. */
function writeSection(body) {
  const heading = `## ${SECTION}`;
  const text = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '# Benchmark runs\n';
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  const block = [heading, '', ...body.trim().split('\n'), ''];
  let out;
  if (start < 0) {
    out = `${text.replace(/\n*$/, '\n\n')}${block.join('\n')}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end < 0) end = lines.length;
    out = [...lines.slice(0, start), ...block, ...lines.slice(end)].join('\n');
  }
  writeResults(out.replace(/\n*$/, '\n'));
}

const dir = mkdtempSync(join(os.tmpdir(), 'nettrace-bench-dns-'));
const server = await startServerProcess();
let session;
try {
  const { createResolver } = bundleTs(["export * from './src/preload/dns/resolver';"], { dir, name: 'dnsResolver.cjs' });
  // Empty resolv.conf and hosts so the run depends only on the local server.
  const emptyConf = join(dir, 'resolv.conf');
  const emptyHosts = join(dir, 'hosts');
  writeFileSync(emptyConf, '');
  writeFileSync(emptyHosts, '');
  const records = { udpConns: 0, dnsQueries: 0 };
  let n = 0;
  const resolver = createResolver(
    { nameservers: [server.address], resolvConfPath: emptyConf, hostsPath: emptyHosts, timeoutMs: 5000, attempts: 1 },
    { udpConn: () => records.udpConns++, tcpConn: () => {}, dnsQuery: () => records.dnsQueries++ },
    (prefix) => `${prefix}${++n}`,
  );
  const lookup = resolver.lookup('dial-1');
  const ours = (family) =>
    new Promise((resolve, reject) => lookup('bench.test', { family, all: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));
  const cares = new dns.promises.Resolver({ timeout: 5000, tries: 1 });
  cares.setServers([server.address]);

  // Sanity: same answers.
  const a = await ours(4);
  const b = await cares.resolve4('bench.test');
  if (a.length !== 1 || a[0].address !== b[0]) throw new Error(`answers differ: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);

  if (profileFile) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  }

  const cases = [
    { label: 'family 4: one A query vs `resolve4`', ours: () => ours(4), cares: () => cares.resolve4('bench.test'), floor: true },
    {
      label: 'family 0: A + AAAA in parallel vs `resolve4` + `resolve6` in parallel',
      ours: () => ours(0),
      cares: () => Promise.all([cares.resolve4('bench.test'), cares.resolve6('bench.test')]),
      floor: false,
    },
  ];
  const rows = [];
  for (const c of cases) {
    const tOurs = [];
    const tCares = [];
    for (let i = 0; i < WARMUP + LOOKUPS; i++) {
      let x;
      let y;
      if (i % 2 === 0) {
        x = await time(c.ours);
        y = await time(c.cares);
      } else {
        y = await time(c.cares);
        x = await time(c.ours);
      }
      if (i >= WARMUP) {
        tOurs.push(x);
        tCares.push(y);
      }
    }
    const mo = median(tOurs);
    const mc = median(tCares);
    rows.push({ ...c, mo, mc, p90o: quantile(tOurs, 0.9), p90c: quantile(tCares, 0.9), ratio: mo / mc });
  }

  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
    session.disconnect();
    console.error(`bench: CPU profile written to ${profileFile}`);
  }
  resolver.close();

  const m = machine();
  const table = [
    '| case | nettrace resolver median (µs) | c-ares median (µs) | nettrace p90 (µs) | c-ares p90 (µs) | ratio (median) | floor |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${us(r.mo)} | ${us(r.mc)} | ${us(r.p90o)} | ${us(r.p90c)} | ${r.ratio.toFixed(2)}× | ${r.floor ? (r.ratio <= FLOOR ? `≤ ${FLOOR}× ✅` : `≤ ${FLOOR}× ❌`) : 'info'} |`,
    ),
  ].join('\n');
  const body = `Lookup latency of the in-process resolver (\`src/preload/dns/resolver.ts\`, what \`dnsTrace\` uses)
against c-ares (\`dns.promises.Resolver\` with \`setServers\` to the same server), one lookup at a time,
${LOOKUPS} lookups each per case after ${WARMUP} warm-up lookups, interleaved (the one going first
alternates). Server: \`test/integration/dnsServer.mjs\` (dns-packet, UDP on 127.0.0.1) in its own
process. The resolver does its full job per lookup (/etc/hosts check, search list, id
matching, a dnsQueries record with every message; ${records.dnsQueries} record upserts were produced
and discarded); its UDP socket to the server is reused, as c-ares reuses its own. Floor: family-4
median ≤ ${FLOOR}× c-ares. A load average above the CPU count means other work shared the machine;
the interleaving spreads it over both sides. Run: \`node bench/dns.mjs\`.

Machine: ${m.nproc} CPUs (nproc) · ${m.cpu} · Node ${m.node} · ${m.os} · ${m.date} · load average at start ${m.loadavg.join(' / ')}

${table}`;
  console.log(body);
  if (write) {
    writeSection(body);
    console.error(`bench: wrote the "${SECTION}" section of ${resultsPath}`);
  }
  const failed = rows.filter((r) => r.floor && r.ratio > FLOOR);
  if (failed.length) {
    console.error(`bench: FLOOR MISSED: ${failed.map((r) => `${r.label}: ${r.ratio.toFixed(2)}×`).join('; ')}`);
    process.exitCode = 1;
  }
} finally {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}
