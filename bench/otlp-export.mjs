// Issue 38: `nettrace export --otlp` of a large saved trace. A synthetic trace of N requests
// (default 100,000; bench/lib/syntheticTrace.mjs, saved by the Session's own code) is sent to a
// local OTLP receiver (test/integration/otlpReceiver.mjs: decodes every request with the
// opentelemetry-proto definitions and counts the spans), over http/protobuf and grpc, and written
// as an OTLP/JSON file: the CLI's wall time, spans per second, its CPU time and peak RSS (time(1)).
//
//   node bench/otlp-export.mjs            BENCH_OTLP_N=1000000 node bench/otlp-export.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { startReceiver } from '../test/integration/otlpReceiver.mjs';
import { fillSession } from './lib/syntheticTrace.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.cjs');
const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const n = Number(process.env.BENCH_OTLP_N ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'nettrace-otlp-bench-'));

/** Runs a command under /usr/bin/time without blocking this process (the receiver runs here); seconds, peak RSS (KiB), CPU seconds (user + system), exit code, stderr. */
function timed(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %M %U %S', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      const m = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      resolve({ s: m ? Number(m[1]) : NaN, kib: m ? Number(m[2]) : NaN, cpu: m ? Number(m[3]) + Number(m[4]) : NaN, code, stderr });
    });
  });
}

try {
  const json = join(dir, 'big.json');
  await fillSession(new core.Session({ description: 'synthetic', sourceMaps: false }), n).saveJson(json);
  console.log(`${n} requests, trace file ${(statSync(json).size / 1048576).toFixed(0)} MiB`);
  for (const protocol of ['http/protobuf', 'grpc']) {
    const receiver = await startReceiver(protocol);
    const r = await timed([process.execPath, cli, 'export', '--otlp', receiver.url, json], { OTEL_EXPORTER_OTLP_PROTOCOL: protocol });
    const spans = receiver.spans.length;
    await receiver.close();
    console.log(
      `  export --otlp (${protocol}): ${r.s.toFixed(1)} s, ${Math.round(spans / r.s)} spans/s (${spans} spans received, ${receiver.state.requests} requests), CPU ${r.cpu.toFixed(1)} s, peak RSS ${Math.round(r.kib / 1024)} MiB, exit ${r.code}`,
    );
    receiver.spans.length = 0;
  }
  const file = join(dir, 'spans.jsonl');
  const f = await timed([process.execPath, cli, 'export', '--otlp-file', file, json]);
  console.log(
    `  export --otlp-file: ${f.s.toFixed(1)} s → ${(statSync(file).size / 1048576).toFixed(0)} MiB, CPU ${f.cpu.toFixed(1)} s, peak RSS ${Math.round(f.kib / 1024)} MiB, exit ${f.code}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
