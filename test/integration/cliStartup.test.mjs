// covers: src/cli/, src/preload/loader.ts
// needs: the build (dist/core.cjs, dist/preload.cjs)
// The CLI's fixed cost (issue 52): `nettrace run` loads only what a run uses (no OpenTelemetry,
// HTTP client or TLS code without --otlp), and ends as soon as the program exited and its
// preloads' last bytes were read, with no settle time after the exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBinaries, root, run } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const preload = join(root, 'dist', 'preload.cjs');
const bin = join(root, 'bin', 'nettrace.cjs');

test('nettrace run without --otlp loads neither OpenTelemetry nor http, https, tls, crypto or fs/promises', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-clistart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Records, at the CLI's exit, Node's own modules it loaded and the files it required.
  const hook = join(dir, 'hook.cjs');
  writeFileSync(
    hook,
    `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(join(dir, 'loaded.json'))}, JSON.stringify({ builtins: process.moduleLoadList, files: Object.keys(require.cache) })));`,
  );
  for (const helper of ['off', 'auto']) {
    const out = join(dir, `t-${helper}.json`);
    const res = await run(process.execPath, [
      '-r',
      hook,
      bin,
      'run',
      '--quiet',
      '--helper',
      helper,
      '--out',
      out,
      '--',
      process.execPath,
      '-e',
      // dns: the preload's body runs at the program's first use of the network (firstUse.ts).
      "require('node:dns')",
    ]);
    assert.equal(res.code, 0, res.stderr);
    const loaded = JSON.parse(readFileSync(join(dir, 'loaded.json'), 'utf8'));
    // The list is real: the collector's socket server and the program's start are in it.
    assert.ok(loaded.builtins.includes('NativeModule net') && loaded.builtins.includes('NativeModule child_process'), `--helper ${helper}`);
    // fs/promises too: a trace that fits the write buffer is written at once (jsonStream.ts).
    const unwanted = loaded.builtins.filter((m) => /^NativeModule (http|https|tls|crypto|http2|zlib|fs\/promises)$/.test(m));
    assert.deepEqual(unwanted, [], `--helper ${helper}: Node modules the run does not use`);
    assert.deepEqual(
      loaded.files.filter((f) => /otlp-wire|rules\.cjs/.test(f)),
      [],
      `--helper ${helper}: bundles the run does not use`,
    );
    assert.equal(JSON.parse(readFileSync(out, 'utf8')).processes.length, 1, 'the trace is whole');
  }
});

/** Runs `node -e <code>` traced into `collector`; resolves when it exited. */
function exitOf(collector, code) {
  const env = core.buildPreloadEnv(process.env, { preloadPath: preload, config: { ipcPath: collector.ipcPath } });
  const child = spawn(process.execPath, ['-e', code], { env, stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
}

test('waitForIdle with settleMs 0 after the program exited: no settle time, and every process it started is in', async () => {
  // Each round: the program starts a child that ends at once, waits for it, then exits; both
  // connect to the collector. The wait after the program's exit is measured against the default
  // settle time of 50 ms from the last bytes (which an old collector always waited, whatever it
  // was given: 40–60 ms here after the exit, against well under 1 ms without it).
  // dns in each: the preload's body runs at a program's first use of the network (firstUse.ts).
  const code = `require('node:dns');require('child_process').spawnSync(process.execPath, ['-e', 'require("node:dns")'], { stdio: 'ignore' });`;
  const waits = [];
  for (let i = 0; i < 3; i++) {
    const collector = await core.startCollector({ description: 'settle' });
    try {
      assert.equal(await exitOf(collector, code), 0);
      const t0 = performance.now();
      assert.ok(await collector.waitForIdle({ timeoutMs: 5000, settleMs: 0 }), 'idle');
      waits.push(performance.now() - t0);
      const trace = collector.session.snapshot();
      assert.equal(trace.processes.length, 2, 'the program and its child');
      assert.ok(
        trace.processes.every((p) => p.exitAt !== undefined),
        `each process's exit was read: ${JSON.stringify(trace.processes)}`,
      );
    } finally {
      await collector.close();
    }
  }
  waits.sort((a, b) => a - b);
  console.error(`# waitForIdle after the exit: ${waits.map((w) => w.toFixed(1)).join(', ')} ms`);
  assert.ok(waits[0] < 20, `the fastest of 3 waits was ${waits[0].toFixed(1)} ms: a settle time`);
});

test("the CLI runs from V8's code cache, made at its first run's exit, one for `run` and one for the other commands, on every Node", async (t) => {
  // bin/nettrace.cjs sets V8's tiering flag (by V8 version) before it reads the cache: V8 takes
  // cached code made under the same flags only, and prints an unknown flag as an error.
  for (const { label, bin: node } of nodeBinaries()) {
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-clicache-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const env = { ...process.env, NETTRACE_CACHE: join(dir, 'cache') };
    const v8 = join(dir, 'cache', 'v8');
    const cliFiles = () =>
      readdirSync(v8)
        .filter((f) => f.startsWith('cli-'))
        .sort();
    const out = join(dir, 't.json');
    const runOnce = async () => {
      const res = await run(node, [bin, 'run', '--quiet', '--helper', 'off', '--out', out, '--', node, '-e', '0'], { env });
      assert.equal(res.code, 0, `${label}: ${res.stderr}`);
    };
    await runOnce();
    const [runCache] = cliFiles();
    assert.match(runCache, /^cli-run-[0-9a-f]{8}-v\d+\.\d+\.\d+-[0-9a-f]{8}\.bin$/, label);
    assert.equal(statSync(join(v8, runCache)).mode & 0o777, 0o600);
    const made = statSync(join(v8, runCache)).mtimeMs;
    const shown = await run(node, [bin, 'show', out], { env });
    assert.equal(shown.code, 0, shown.stderr);
    const files = cliFiles();
    assert.equal(files.length, 2, `${label}: ${files}`);
    assert.ok(
      files.some((f) => /^cli-[0-9a-f]{8}-/.test(f)),
      `${label}: the other commands' cache: ${files}`,
    );
    // V8 took the data: a second run reads it and writes nothing.
    await runOnce();
    assert.deepEqual(cliFiles(), files, label);
    assert.equal(statSync(join(v8, runCache)).mtimeMs, made, `${label}: the cache was taken, not made again`);
    const version = await run(node, [bin, '--version'], { env });
    assert.equal(version.stderr, '', `${label}: nothing on stderr (a flag this V8 does not know is printed there)`);
  }
});
