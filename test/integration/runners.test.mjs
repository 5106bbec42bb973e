// covers: src/preload/initiator/runtimeMaps.ts
// Requests made from test files run by test runners (issue 62, finding 4): vitest (its forks and
// threads pools) and Jest (two workers, babel-jest) transform each test file and run the result
// from memory, with a source map Node never sees. Every request the tests make with `http`,
// `fetch` and axios must name the test file's line as written (`// @line <name>`), not the line
// of the transformed code; the runner's own frames (its bin, tinypool's and jest-worker's child
// processes) are a library's. Suites under test/integration/apps/runners, run under `nettrace run`
// against a local server, on every Node installed; on 22 and 26 with `--enable-source-maps` too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, nodeBinaries, root, run } from './harness.mjs';
import { markerLines } from './clientsCheck.mjs';

const suites = join(apps, 'runners');
let server;
let base;
/** Paths the server was asked for, with how many times. */
const seen = new Map();

before(async () => {
  server = http.createServer((req, res) => {
    seen.set(req.url, (seen.get(req.url) ?? 0) + 1);
    res.setHeader('content-type', 'text/plain');
    res.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

/** Every `// @line <name>` marker of a suite's test files: name → { file, line }. */
function markers(dir) {
  const out = new Map();
  for (const f of readdirSync(dir).filter((n) => /\.test\.[jt]s$/.test(n))) {
    for (const [name, line] of markerLines(join(dir, f))) out.set(name, { file: join(dir, f), line });
  }
  return out;
}

const RUNS = [
  { name: 'vitest forks', dir: 'vitest', prefix: 'vitest', args: ['--pool', 'forks'] },
  { name: 'vitest threads', dir: 'vitest', prefix: 'vitest', args: ['--pool', 'threads'] },
  { name: 'jest workers', dir: 'jest', prefix: 'jest', args: ['--maxWorkers=2'] },
];

/** The runner's command line (after the Node binary) for a suite, its cache in `cache`. */
function command(r, cache) {
  const dir = join(suites, r.dir);
  if (r.dir === 'vitest') return [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', dir, ...r.args];
  // A fresh cache: Jest runs a few fast test files in its own process when it has timings for them.
  return [join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--rootDir', dir, '--cacheDirectory', join(cache, 'jest'), ...r.args];
}

for (const node of nodeBinaries()) {
  const major = /node v?(\d+)/.exec(node.label)?.[1];
  const sourceMaps = major === '22' || major === '26';
  for (const r of RUNS) {
    test(`${node.label}: ${r.name}${sourceMaps ? ' (--enable-source-maps)' : ''}: each request names the test file's line`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nettrace-runners-'));
      const out = join(dir, 'trace.json');
      const where = `${r.name} on ${node.label}`;
      try {
        for (const k of [...seen.keys()]) if (k.startsWith(`/${r.prefix}-`)) seen.delete(k);
        const res = await run(process.execPath, [cli, 'run', '--quiet', '--out', out, '--', node.bin, ...command(r, dir)], {
          cwd: join(suites, r.dir),
          env: {
            NT_BASE: base,
            NT_CACHE_DIR: join(dir, 'vite'),
            CI: '1',
            ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
          },
          timeoutMs: 120000,
        });
        assert.equal(res.code, 0, `${where}: the suite failed (exit ${res.code})\n${res.stdout}\n${res.stderr}`);
        assert.ok(existsSync(out), `${where}: no trace written\n${res.stderr}`);
        const trace = JSON.parse(readFileSync(out, 'utf8'));
        const lines = markers(join(suites, r.dir));
        assert.deepEqual([...lines.keys()].sort(), ['axios', 'fetch', 'http'], `${where}: the suite's markers (test setup)`);
        const problems = [];
        let moved = 0;
        for (const [name, mark] of lines) {
          const path = `/${r.prefix}-${name}`;
          const reqs = trace.httpRequests.filter((q) => new URL(q.reqURL).pathname === path);
          assert.equal(seen.get(path), 1, `${where}: the server saw ${path} ${seen.get(path) ?? 0} times (test setup)`);
          if (reqs.length !== 1) {
            problems.push(`${name}: ${reqs.length} requests to ${path} in the trace, the server saw 1`);
            continue;
          }
          const q = reqs[0];
          const f = q.initiator?.frames?.[0];
          const got = f ? `${f.file}:${f.line}:${f.column}${f.library ? ' (library)' : ''}` : 'no initiator';
          if (!f || f.library || f.file !== mark.file || f.line !== mark.line)
            problems.push(`${name}: expected ${mark.file}:${mark.line}, trace has ${got}`);
          if (f?.generated && f.generated.line !== f.line) moved++;
          // Who made it: a runner's worker, not its main process.
          const proc = trace.processes.find((p) => p.pid === q.pid && p.threadId === q.threadId);
          const argv = (proc?.argv ?? []).join(' ');
          if (r.name === 'vitest threads' && !(q.threadId > 0)) problems.push(`${name}: made on thread ${q.threadId}, not a worker thread`);
          if (r.name === 'vitest forks' && !argv.includes('tinypool')) problems.push(`${name}: made by ${argv}, not a tinypool child`);
          if (r.name === 'jest workers' && !argv.includes('jest-worker')) problems.push(`${name}: made by ${argv}, not a jest worker`);
        }
        assert.deepEqual(problems, [], `${where}:\n  ${problems.join('\n  ')}`);
        // Were the lines not moved by the transform, this test could not tell a mapped line from an unmapped one.
        assert.ok(moved >= 1, `${where}: the runner's transform moved none of the lines (test setup)`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}
