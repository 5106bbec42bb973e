// covers: src/collector/server.ts, src/collector/session.ts
// needs: the build (dist/core.cjs)
// Fuzzing the collector socket (issue 13): while a real program is traced by `nettrace run`, a
// same-user peer connects to the collector's socket and sends 10,000 random lines and mutations
// of real protocol lines (recorded from a real preload session). The collector must not crash,
// its memory must stay bounded, the program's exit code must pass through, and the real trace
// must be intact: every real request recorded once, with the status and URL the server saw.
// (The helper's stdin gets the same treatment in test/privileged/fuzzHelper.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { apps, cli, root } from './harness.mjs';
import { fuzzFrames, fuzzLines, peakRssKiB, splitWire } from '../lib/fuzz.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const SEED = Number(process.env.FUZZ_SEED ?? 13);
const LINES = Number(process.env.FUZZ_LINES ?? 10_000);
const REAL = 200;
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 2_000);

/**
 * Real protocol messages (splitWire): a real program traced into a socket that only records what
 * arrives; `events` false sends its records as JSON lines (NETTRACE_EVENTS=0), true as events frames.
 */
async function recordCorpus(base, dir, events) {
  const ipcPath = join(dir, `corpus-${events}.sock`);
  const chunks = [];
  const server = createServer((s) => s.on('data', (d) => chunks.push(d)));
  await new Promise((r) => server.listen(ipcPath, r));
  const env = core.buildPreloadEnv(
    { ...process.env, NETTRACE_EVENTS: events ? '1' : '0' },
    { preloadPath: core.preloadPath(), config: { ipcPath, bodies: true, sockTrace: true } },
  );
  const script = `
    const r = await fetch(${JSON.stringify(base)} + '/corpus?token=x', { method: 'POST', body: 'hello body', headers: { authorization: 'Bearer t' } });
    await r.text();
    await fetch('http://127.0.0.1:1/refused').catch(() => {});
  `;
  await new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', resolve);
  });
  await new Promise((r) => setTimeout(r, 200));
  server.close();
  return splitWire(Buffer.concat(chunks));
}

/**
 * One peer of `peers` on the collector's socket: writes `first`, then every `peers`-th item from
 * index `p` (as `item` makes it), waiting for drain and 1 ms every `pauseEvery` items, then `last`;
 * resolves how many items it wrote before the collector closed it or it ended.
 */
function sendShare(ipcPath, p, peers, items, { first, item, last, pauseEvery }) {
  return new Promise((resolve) => {
    const s = connect(ipcPath);
    let n = 0;
    s.on('error', () => resolve(n));
    s.on('close', () => resolve(n));
    s.on('connect', async () => {
      if (first !== undefined) s.write(first);
      for (let i = p; i < items.length; i += peers) {
        if (s.destroyed) break;
        if (!s.write(item(items[i]))) await new Promise((r) => s.once('drain', r));
        n++;
        if (i % pauseEvery === p) await new Promise((r) => setTimeout(r, 1));
      }
      if (last !== undefined) s.write(last);
      s.end();
    });
  });
}

test(`collector socket: ${LINES} fuzz lines from a same-user peer during a real traced run`, { timeout: 240_000 }, async (t) => {
  const seen = [];
  const server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    seen.push(req.url);
    res.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}`;
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // Blob bytes are not lines: the JSON lines of the corpus recorded with JSON records.
  const corpus = (await recordCorpus(base, dir, false)).map((m) => m.line).filter((l) => l.startsWith('{'));
  assert.ok(corpus.length >= 8, `a corpus of real lines: ${corpus.length}`);
  assert.ok(
    corpus.some((l) => l.startsWith('{"type":"blob"')),
    'the corpus has blob headers',
  );
  const lines = fuzzLines(corpus, LINES, { seed: SEED });
  // Record events as the preload sends them by default: binary frames, fuzzed as bytes.
  const realFrames = (await recordCorpus(base, dir, true)).filter((m) => m.body && m.line.startsWith('{"type":"events"'));
  assert.ok(realFrames.length >= 1, `a corpus of real events frames: ${realFrames.length}`);
  const frames = fuzzFrames(realFrames, FRAMES, { seed: SEED });

  const nonce = randomBytes(6).toString('hex');
  const out = join(dir, 'real.json');
  const run = spawn(
    process.execPath,
    [cli, 'run', '--quiet', '--helper', 'off', '--out', out, '--', process.execPath, join(apps, 'fuzz-target.mjs'), base, nonce],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, REQUESTS: String(REAL) },
    },
  );
  let stderr = '';
  run.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => run.on('exit', (code) => r(code)));
  const { ipcPath } = JSON.parse(await new Promise((r) => createInterface({ input: run.stdout }).once('line', r)));

  let peak = 0;
  const sampler = setInterval(() => {
    const k = peakRssKiB(run.pid);
    if (k) peak = Math.max(peak, k);
  }, 50);
  t.after(() => clearInterval(sampler));
  const baseline = peakRssKiB(run.pid);

  run.stdin.write('go\n');
  // 8 peers, each sending its share; some announce themselves first, some end mid-line.
  const hello = corpus.find((l) => l.startsWith('{"type":"hello"'));
  const peers = 8;
  const sent = await Promise.all(
    Array.from({ length: peers }, (_, p) =>
      sendShare(ipcPath, p, peers, lines, {
        first: p % 2 === 0 ? hello + '\n' : undefined,
        item: (line) => line + '\n',
        last: p === peers - 1 ? '{"type":"record","kind":"httpReq' : undefined,
        pauseEvery: 500,
      }),
    ),
  );
  // 4 more peers send fuzzed events frames, each after a real hello (so it is read as a preload).
  const framePeers = 4;
  const framesSent = await Promise.all(
    Array.from({ length: framePeers }, (_, p) =>
      sendShare(ipcPath, p, framePeers, frames, { first: hello + '\n', item: (frame) => frame, pauseEvery: 200 }),
    ),
  );
  // The program exits when its requests are done and its stdin has ended: the collector (which
  // ends with it) is up for every peer, however long the peers take on a loaded machine.
  run.stdin.end();
  const code = await exited;
  clearInterval(sampler);
  const total = sent.reduce((a, b) => a + b, 0);
  console.error(
    `# fuzz: ${total} lines sent by ${peers} peers, ${framesSent.reduce((a, b) => a + b, 0)} events frames by ${framePeers}; collector peak RSS ${Math.round(peak / 1024)} MiB (at start ${Math.round((baseline ?? 0) / 1024)} MiB)`,
  );
  assert.equal(code, 7, `the program's exit code passes through; stderr: ${stderr.slice(-2000)}`);
  assert.ok(total >= LINES * 0.9, `most lines were delivered (${total})`);
  // A frame that lies about its length holds the rest of its connection; the others get through.
  const framesTotal = framesSent.reduce((a, b) => a + b, 0);
  assert.ok(framesTotal >= FRAMES * 0.9, `most frames were delivered (${framesTotal})`);
  assert.ok(peak < 512 * 1024, `collector peak RSS ${peak} KiB stays under 512 MiB`);

  const trace = JSON.parse(readFileSync(out, 'utf8'));
  const realPid = trace.processes.find((p) => p.argv?.some((a) => a.endsWith('fuzz-target.mjs')))?.pid;
  assert.ok(realPid, 'the real process is in the trace');
  const real = trace.httpRequests.filter((r) => typeof r.reqURL === 'string' && r.reqURL.includes(`run=${nonce}`));
  assert.equal(real.length, REAL, 'every real request once');
  const served = seen.filter((u) => u.includes(`run=${nonce}`));
  assert.equal(served.length, REAL);
  for (const [i, r] of real.entries()) {
    assert.equal(r.pid, realPid);
    assert.equal(r.respStatusCode, 200, JSON.stringify(r));
    assert.equal(r.reqURL, `${base}/real/${i}?run=${nonce}`);
    assert.equal(r.reqMethod, 'GET');
    assert.ok(r.respDoneAt >= r.reqStartAt, JSON.stringify(r));
    assert.equal(r.reqError, undefined);
  }
  // What the peers' junk became is said, not silent: warnings, and no crash of show.
  assert.ok(trace.stats.warnings.length > 0);
  const show = spawn(process.execPath, [cli, 'show', out], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NETTRACE_DEBUG: '1' },
  });
  let showErr = '';
  show.stderr.on('data', (d) => (showErr += d));
  assert.equal(await new Promise((r) => show.on('exit', r)), 0, `nettrace show: ${showErr.slice(-2000)}`);
});
