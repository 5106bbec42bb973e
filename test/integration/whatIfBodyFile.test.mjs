// covers: src/preload/rules/bodyFile.ts, src/cli/rulesCommand.ts
// A `respond` rule's bodyFile (issue 61 finding 4, docs/rules.md "What-if actions"): a regular file
// of at most 1 MiB, opened without following a link and without blocking, checked on its
// descriptor and read through it. `nettrace run` refuses any other (too large, a FIFO, a symbolic
// link, a directory) with a plain error and starts nothing, at once (a FIFO's open does not wait
// for a writer); a program whose file became one after the run started (apps/whatif-truth.mjs
// `swap`: a child process started after the file was swapped, traced as it inherits the preload)
// refuses the rule itself: its requests reach the real server, the trace's warnings say which
// file and why, the rule counts nothing, the program exits at once and its memory stays small
// (the issue: a 300 MB file reached the program whole, RSS 1 GB; a FIFO kept it from exiting). A
// file of exactly 1 MiB is the answer's body, byte for byte, on http and fetch, on every Node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBinaries, run, cli, root, runTraced } from './harness.mjs';

const MiB = 1024 * 1024;
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-bodyfile-'));
const atCap = randomBytes(MiB);
let server;
let port;
/** Paths the real server was asked for. */
const served = [];

before(async () => {
  server = http.createServer((req, res) => {
    served.push(req.url);
    res.end('real');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
  writeFileSync(join(tmp, 'cap.bin'), atCap);
  writeFileSync(join(tmp, 'over.bin'), Buffer.alloc(MiB + 1, 97));
  writeFileSync(join(tmp, 'target.txt'), 'the target');
  symlinkSync(join(tmp, 'target.txt'), join(tmp, 'link.txt'));
  mkdirSync(join(tmp, 'dir'));
  execFileSync('mkfifo', [join(tmp, 'fifo')]);
});
after(() => {
  server.closeAllConnections?.();
  server.close();
  rmSync(tmp, { recursive: true, force: true });
});

const sha1 = (b) => createHash('sha1').update(b).digest('hex');
const lines = (stdout) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('nettrace run refuses a bodyFile that cannot be a body, at once', () => {
  const CASES = {
    'over 1 MiB': ['over.bin', /over\.bin" is 1048577 bytes, over the 1048576 bytes \(1 MiB\) a body may have/],
    'a FIFO': ['fifo', /fifo" is a FIFO \(a named pipe\), not a regular file/],
    'a symbolic link': ['link.txt', /link\.txt" is a symbolic link/],
    'a directory': ['dir', /dir" is a directory/],
    missing: ['nope.json', /nope\.json" does not exist/],
  };
  for (const [name, [file, message]] of Object.entries(CASES)) {
    test(name, async () => {
      const started = performance.now();
      const r = await run(process.execPath, [
        cli,
        'run',
        '--out',
        join(tmp, `never-${file}.json`),
        '--rule',
        `respond respond=200:@${join(tmp, file)} path == "/x"`,
        '--',
        process.execPath,
        '-e',
        'console.log("started")',
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /rule "rule-1": its bodyFile/);
      assert.doesNotMatch(r.stdout, /started/, 'the program was not started');
      assert.ok(performance.now() - started < 10_000, 'at once');
    });
  }
});

for (const { label, bin } of nodeBinaries()) {
  describe(`${label}: respond bodyFile`, { concurrency: true }, () => {
    test('a file of exactly 1 MiB is the body the program gets, byte for byte (http and fetch)', async () => {
      const jobs = ['http', 'fetch'].map((client) => ({ client, url: `http://127.0.0.1:${port}/cap-${client}` }));
      const r = await runTraced(bin, 'whatif-truth.mjs', {
        env: { NT_MODE: 'requests', NT_JOBS: JSON.stringify(jobs), NODE_PATH: join(root, 'node_modules') },
        cliArgs: ['--rule', `respond respond=200:@${join(tmp, 'cap.bin')} path ~ "/cap-*"`],
      });
      assert.equal(r.code, 0, r.stderr);
      const seen = lines(r.stdout);
      for (const o of seen) {
        assert.equal(o.status, 200);
        assert.deepEqual(o.body, { length: MiB, sha1: sha1(atCap) }, o.client);
        assert.equal(o.error, undefined);
      }
      assert.equal(
        served.some((u) => u.startsWith('/cap-')),
        false,
        'the server was not asked',
      );
      const rule = r.trace.traceRules.rules.find((x) => x.id === 'rule-1');
      assert.equal(rule.acted, 2);
      for (const rec of r.trace.httpRequests) {
        assert.equal(rec.whatIf?.action, 'respond');
        assert.equal(rec.respContentLen, MiB);
      }
    });

    // The file is swapped after `nettrace run` checked it: the program's own check refuses it.
    const SWAPS = {
      fifo: /is a FIFO \(a named pipe\), not a regular file/,
      symlink: /is a symbolic link/,
      dir: /is a directory/,
      big: /is 314572800 bytes, over the 1048576 bytes \(1 MiB\)/,
    };
    for (const [swap, message] of Object.entries(SWAPS)) {
      test(`a bodyFile that became ${swap === 'big' ? 'a 300 MB file' : `a ${swap}`} is refused by the program: its requests reach the server, the trace says why`, async () => {
        const file = join(tmp, `${label.replace(/\W/g, '')}-${swap}.json`);
        writeFileSync(file, '{"fake":true}');
        const tag = `${swap}-${label.replace(/\W/g, '')}`;
        const jobs = ['http', 'fetch'].map((client) => ({ client, url: `http://127.0.0.1:${port}/swap-${tag}-${client}` }));
        const started = performance.now();
        const r = await runTraced(bin, 'whatif-truth.mjs', {
          env: { NT_MODE: 'swap', NT_SWAP: swap, NT_FILE: file, NT_JOBS: JSON.stringify(jobs), NODE_PATH: join(root, 'node_modules') },
          cliArgs: ['--rule', `respond respond=200:@${file} path ~ "/swap-*"`],
        });
        const took = performance.now() - started;
        rmSync(file, { recursive: true, force: true });
        rmSync(`${file}.target`, { force: true });
        assert.equal(r.code, 0, r.stderr);
        assert.ok(took < 20_000, `the program exited at once (${Math.round(took)} ms)`);
        const seen = lines(r.stdout);
        const answers = seen.filter((o) => o.client !== undefined);
        assert.equal(answers.length, 2, r.stdout);
        for (const o of answers) {
          assert.equal(o.status, 200, JSON.stringify(o));
          assert.equal(o.body, 'real', 'the real server answered');
        }
        for (const client of ['http', 'fetch']) assert.ok(served.includes(`/swap-${tag}-${client}`));
        const rss = seen.find((o) => o.job === 'rss').rss;
        assert.ok(rss < 200 * MiB, `the program's memory stayed small (${Math.round(rss / MiB)} MiB)`);
        const warnings = r.trace.stats.warnings.join('\n');
        assert.match(warnings, /what-if rule "rule-1" is refused and acts on no request: its bodyFile/);
        assert.match(warnings, message);
        const rule = r.trace.traceRules.rules.find((x) => x.id === 'rule-1');
        assert.equal(rule.acted, 0, 'not counted as acting');
        for (const rec of r.trace.httpRequests.filter((x) => x.reqURL.includes('/swap-'))) {
          assert.equal(rec.whatIf, undefined, 'no what-if mark');
          assert.equal(rec.respStatusCode, 200);
        }
      });
    }
  });
}
