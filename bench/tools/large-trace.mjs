// Issue 13, item 8: traces too large for one string. Measures, for N requests (default 1,000,000):
//   save    a synthetic trace of N requests (bench/lib/syntheticTrace.mjs) through Session.saveJson
//           and saveHar (the code `nettrace run` and the extension use): time, peak RSS, file size
//   show    `nettrace show FILE` and `nettrace show FILE --json > /dev/null`: time, peak RSS
//   run     `nettrace run --quiet` of a real program making N keep-alive requests to a local
//           server (its own process) and exiting with 3: time, the CLI's peak RSS, exit code,
//           requests in the trace  (BENCH_LARGE_RUN=0 skips it: it takes minutes)
// Peak RSS is time(1)'s maximum resident set size of each process.
//
//   node bench/tools/large-trace.mjs                 BENCH_LARGE_N=200000 node bench/tools/large-trace.mjs
//   BENCH_LARGE_SYNTHETIC=0 / BENCH_LARGE_RUN=0 skip a part
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli.cjs');
const n = Number(process.env.BENCH_LARGE_N ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'nettrace-large-'));
const MiB = (kib) => `${Math.round(kib / 1024)} MiB`;

/** Runs a command under /usr/bin/time; returns seconds, peak RSS (KiB) and the exit code. */
function timed(args, { stdout = 'ignore', env = {} } = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', stdout, 'pipe'],
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  return { s: m ? Number(m[1]) : NaN, kib: m ? Number(m[2]) : NaN, code: r.status, stderr: r.stderr };
}

try {
  if (process.env.BENCH_LARGE_SYNTHETIC !== '0') synthetic();
  if (process.env.BENCH_LARGE_RUN !== '0') await realRun();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function synthetic() {
  const json = join(dir, 'big.json');
  const har = join(dir, 'big.har');
  const saveScript = `
    const core = require(${JSON.stringify(join(root, 'dist', 'core.cjs'))});
    import(${JSON.stringify(join(root, 'bench', 'lib', 'syntheticTrace.mjs'))}).then(async ({ fillSession }) => {
      const s = fillSession(new core.Session({ description: 'synthetic', sourceMaps: false }), ${n});
      let t = Date.now(); await s.saveJson(process.argv[1]); const j = Date.now() - t;
      t = Date.now(); await s.saveHar(process.argv[2]); const h = Date.now() - t;
      console.error('SAVE ' + j + ' ' + h);
    });`;
  const save = timed([process.execPath, '-e', saveScript, json, har]);
  const [, jsonMs, harMs] = /SAVE (\d+) (\d+)/.exec(save.stderr) ?? [];
  console.log(`${n} requests, synthetic (process peak RSS ${MiB(save.kib)}, incl. building the trace):`);
  console.log(
    `  saveJson ${(jsonMs / 1000).toFixed(1)} s → ${(statSync(json).size / 1048576).toFixed(0)} MiB; saveHar ${(harMs / 1000).toFixed(1)} s → ${(statSync(har).size / 1048576).toFixed(0)} MiB`,
  );
  rmSync(har);
  const show = timed([process.execPath, cli, 'show', json]);
  console.log(`  nettrace show:         ${show.s.toFixed(1)} s, peak RSS ${MiB(show.kib)}, exit ${show.code}`);
  const showJson = timed([process.execPath, cli, 'show', json, '--json']);
  console.log(`  nettrace show --json:  ${showJson.s.toFixed(1)} s, peak RSS ${MiB(showJson.kib)}, exit ${showJson.code}`);
  rmSync(json);
}

async function realRun() {
  {
    const server = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:http').createServer({ keepAliveTimeout: 60000 }, (q, r) => r.end('ok')); s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const port = await new Promise((r) => server.stdout.once('data', (d) => r(Number(String(d).trim()))));
    const out = join(dir, 'run.json');
    const run = timed(
      [
        process.execPath,
        cli,
        'run',
        '--quiet',
        '--helper',
        'off',
        '--out',
        out,
        '--',
        process.execPath,
        join(root, 'bench', 'apps', 'many-requests.mjs'),
        `http://127.0.0.1:${port}`,
      ],
      { env: { REQUESTS: String(n) } },
    );
    server.kill();
    const summary = run.stderr.split('\n').find((l) => l.startsWith('nettrace:')) ?? run.stderr.slice(-300);
    console.log(
      `  nettrace run (real, ${n} requests): ${run.s.toFixed(1)} s, CLI peak RSS ${MiB(run.kib)}, exit ${run.code} (program's: 3)`,
    );
    console.log(`    ${summary}; trace ${(statSync(out).size / 1048576).toFixed(0)} MiB`);
  }
}
