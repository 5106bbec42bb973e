// covers: src/helper/
// needs: the build (dist/helper.cjs)
// Fuzzing the helper's stdin (issue 13): dist/helper.cjs runs as root on a real program that makes
// TCP connections; meanwhile its stdin gets 10,000 random lines and mutations of real commands
// (with real `stats` commands among them). It must not crash or stop, its memory must stay
// bounded, the real commands must be answered, and every real connection must get its metrics.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { root, skipLoudly, skipReason } from './lib.mjs';
import { fuzzLines, peakRssKiB } from '../lib/fuzz.mjs';

const SEED = Number(process.env.FUZZ_SEED ?? 13);
const LINES = Number(process.env.FUZZ_LINES ?? 10_000);
const CONNS = 40;

const program = `
  const net = require('node:net');
  const [port, n] = process.argv.slice(1).map(Number);
  // Starts at the first input, ends when its stdin ends.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.once('data', async () => {
    for (let i = 0; i < n; i++) {
      await new Promise((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => {
          console.log('CONN ' + c.localPort);
          c.write('hello');
        });
        c.on('data', () => c.end());
        c.on('close', resolve);
        c.on('error', reject);
      });
      await new Promise((r) => setTimeout(r, 30));
    }
  });
`;

test(`helper stdin: ${LINES} fuzz lines while a real program is traced`, { timeout: 240_000 }, async (t) => {
  const reason = skipReason();
  if (reason) return skipLoudly(t, reason);
  const server = createServer((s) => {
    s.on('data', () => s.write('ok'));
    s.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());

  const prog = spawn(process.execPath, ['-e', program, String(server.address().port), String(CONNS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.after(() => prog.kill());
  const ports = [];
  createInterface({ input: prog.stdout }).on('line', (l) => ports.push(Number(l.split(' ')[1])));
  const progExit = new Promise((r) => prog.on('exit', r));

  const helper = spawn(process.execPath, [join(root, 'dist', 'helper.cjs'), '--pid', String(prog.pid), '--no-conntrack'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => helper.kill('SIGKILL'));
  const messages = [];
  createInterface({ input: helper.stdout }).on('line', (l) => messages.push(JSON.parse(l)));
  let stderr = '';
  helper.stderr.on('data', (d) => (stderr += d));
  const helperExit = new Promise((r) => helper.on('exit', (code, signal) => r({ code, signal })));
  for (let i = 0; i < 400 && !messages.some((m) => m.type === 'ready'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(
    messages.some((m) => m.type === 'ready'),
    `helper ready: ${JSON.stringify(messages)} ${stderr}`,
  );

  let peak = 0;
  const sampler = setInterval(() => {
    const k = peakRssKiB(helper.pid);
    if (k) peak = Math.max(peak, k);
  }, 50);
  t.after(() => clearInterval(sampler));

  // A stop command (however spelled) would end the helper legitimately: those are not fuzz.
  const isStop = (line) => {
    try {
      return JSON.parse(line)?.type === 'stop';
    } catch {
      return false;
    }
  };
  const corpus = ['{"type":"stats"}', '{"type":"snapshot"}', '{"type":"stop"}', '{"type": "stats", "extra": [1, {"a": null}]}'];
  const lines = fuzzLines(corpus, LINES, { seed: SEED, accept: (l) => !isStop(l) });
  prog.stdin.write('go');
  let realStats = 0;
  for (let i = 0; i < lines.length; i++) {
    if (i % 1000 === 0) {
      helper.stdin.write('{"type":"stats"}\n');
      realStats++;
    }
    if (!helper.stdin.write(lines[i] + '\n')) await new Promise((r) => helper.stdin.once('drain', r));
    if (i % 200 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  for (let i = 0; i < 200 && ports.length < CONNS; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(helper.exitCode, null, `the helper still runs after the fuzz: ${stderr}`);
  // The target ends: the helper sends its last readings and exits by itself.
  prog.stdin.end();
  assert.equal(await progExit, 0);
  const { code, signal } = await helperExit;
  clearInterval(sampler);
  console.error(
    `# helper fuzz: ${lines.length} lines, ${realStats} real stats commands; helper (Node side) peak RSS ${Math.round(peak / 1024)} MiB`,
  );
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, stderr);
  assert.ok(peak < 200 * 1024, `peak RSS ${peak} KiB`);
  assert.ok(messages.filter((m) => m.type === 'stats').length >= realStats, 'every real stats command answered');
  assert.ok(messages.some((m) => m.type === 'exit'));
  assert.equal(ports.length, CONNS);
  for (const port of ports) {
    const final = messages.find((m) => m.type === 'tcpMetrics' && m.final && m.addrTuple?.srcPort === port);
    assert.ok(final, `final metrics of the real connection from port ${port}`);
    assert.equal(final.pid, prog.pid);
  }
});
