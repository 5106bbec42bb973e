// covers: src/extension/terminalRouter.ts, src/collector/server.ts
// needs: the build (dist/cli.cjs, dist/preload.cjs)
// A traced process trusts only its own collector (issue 61, finding 1), as two real users: A's
// traced program leaves a detached child behind (a daemon, a job restarted by pm2) that first
// uses the network after A's trace ended, and starts a process of its own then (which reads the
// rules file at its start). The collector removed its private folder when the run ended; B, who
// saw the folder's name under /tmp, makes it again — with a socket of B's that answers with a
// rule and Send Again, and a rules file of B's. Before the fix A's processes connected to B's
// socket (B got their hello, records and stacks), took B's rules file and rule, and sent their
// requests again with A's Authorization to wherever B asked. Now they send nothing to B, take
// nothing from B, and stay quietly untraced. The same for a JavaScript Debug Terminal's router.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';
import { root } from './lib.mjs';

const cli = join(root, 'dist', 'cli.cjs');
const preload = join(root, 'dist', 'preload.cjs');
const tag = `ntct${process.pid % 100000}`;
const A = `${tag}a`;
const B = `${tag}b`;

function whyNot() {
  if (process.getuid?.() !== 0) return 'NOT ROOT: this test creates users (CI runs it as root)';
  if (!existsSync(cli)) return 'dist/cli.cjs is missing — run npm run build';
  for (const tool of ['useradd', 'userdel', 'setpriv']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}
const reason = whyNot();
if (reason) console.error(`# SKIPPED collectorTrust.test.mjs: ${reason}`);

let base;
let uidA;
let uidB;
const cleanup = () => {
  spawnSync('pkill', ['-u', A], { stdio: 'ignore' });
  spawnSync('pkill', ['-u', B], { stdio: 'ignore' });
  if (base) rmSync(base, { recursive: true, force: true });
  for (const u of [A, B]) spawnSync('userdel', [u], { stdio: 'ignore' });
};

/** Spawns `cmd args` as `uid` (real and effective uid and gid, no groups). */
const spawnAs = (uid, cmd, args, opts = {}) => spawn('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', cmd, ...args], opts);
const runAs = (uid, cmd, args, opts = {}) =>
  spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', cmd, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    ...opts,
  });

before(() => {
  if (reason) return;
  cleanup();
  process.on('exit', cleanup);
  execFileSync('useradd', ['-M', '-N', '-s', '/bin/sh', A]);
  execFileSync('useradd', ['-M', '-N', '-s', '/bin/sh', B]);
  uidA = Number(execFileSync('id', ['-u', A], { encoding: 'utf8' }));
  uidB = Number(execFileSync('id', ['-u', B], { encoding: 'utf8' }));
  base = mkdtempSync('/tmp/nettrace-trust-');
  chmodSync(base, 0o755);
});
after(cleanup);

/** A's program: the parent leaves a detached child (Send Again on, as a launch sets it) and exits. */
const PARENT = `
const { spawn } = require('node:child_process');
const config = JSON.parse(process.env.NETTRACE_CONFIG);
config.sendAgain = true;
spawn(process.execPath, [__dirname + '/child.js'], {
  detached: true, stdio: 'ignore', env: { ...process.env, NETTRACE_CONFIG: JSON.stringify(config) },
}).unref();
`;
/**
 * The child: writes its configuration for the test (B would read the folder's name off /tmp), waits
 * for 'go', then makes its first request (the first use of the network) and starts a new process
 * (it reads the rules file as it starts), each with A's credentials; both stay a while, so a Send
 * Again from B would have time to act, and write what they got.
 */
const CHILD = `
const fs = require('node:fs');
const http = require('node:http');
const { spawn } = require('node:child_process');
const home = __dirname;
fs.writeFileSync(home + '/config.json', process.env.NETTRACE_CONFIG);
const until = Date.now() + 60000;
const wait = () => {
  if (!fs.existsSync(home + '/go')) return Date.now() < until && setTimeout(wait, 50);
  spawn(process.execPath, [home + '/request.js', 'grandchild'], { stdio: 'ignore' });
  require(home + '/request.js');
};
wait();
`;
const REQUEST = `
const fs = require('node:fs');
const http = require('node:http');
const who = process.argv[2] || 'child';
const { url } = JSON.parse(fs.readFileSync(__dirname + '/server.json', 'utf8'));
http.get(url + '/' + who, { headers: { authorization: 'Bearer A-SECRET-' + who } }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (c) => (body += c));
  res.on('end', () => setTimeout(() => {
    fs.writeFileSync(__dirname + '/result-' + who + '.json', JSON.stringify({ status: res.statusCode, body }));
  }, 1500));
}).on('error', (e) => fs.writeFileSync(__dirname + '/result-' + who + '.json', JSON.stringify({ error: e.message })));
`;

/**
 * B's collector at A's old path: logs each connection and the bytes it got, answers with a rule
 * that makes every request 418 "from B" and Send Again of A's first requests; writes a rules file
 * of its own saying the same when A's configuration names one.
 */
const FAKE_COLLECTOR = `
const fs = require('node:fs');
const net = require('node:net');
const [sock, rulesFile, log] = process.argv.slice(2);
const set = { type: 'rules', version: 99, defaultAction: 'trace', rules: [{
  id: 'b', name: 'b', condition: 'method == "GET"', action: 'respond', limit: null, enabled: true,
  respond: { status: 418, headers: [], body: 'from B' },
}] };
if (rulesFile !== '-') { fs.writeFileSync(rulesFile, JSON.stringify(set)); fs.chmodSync(rulesFile, 0o644); }
const server = net.createServer((s) => {
  fs.appendFileSync(log, 'connection\\n');
  s.on('data', (d) => fs.appendFileSync(log, 'bytes ' + d.length + ' ' + JSON.stringify(d.toString('latin1').slice(0, 200)) + '\\n'));
  s.on('error', () => {});
  s.write(JSON.stringify(set) + '\\n');
  for (let i = 1; i <= 5; i++)
    s.write(JSON.stringify({ type: 'sendAgain', ask: i, id: 'r' + i, edits: { url: process.env.B_URL } }) + '\\n');
});
server.listen(sock, () => { fs.chmodSync(sock, 0o777); console.log('listening'); });
`;

/** A real server (root's, on loopback) that counts what it gets and answers 200 "real". */
async function realServer() {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization });
    res.end('real');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { seen, url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/** B's server, where B's Send Again would send A's requests. */
async function bServer() {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization });
    res.end('b');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { seen, url: `http://127.0.0.1:${server.address().port}/stolen`, close: () => server.close() };
}

/** A's home for one case: 0700 A's, with the program and the real server's address. */
function homeFor(name, real) {
  const home = join(base, name);
  mkdirSync(home, { mode: 0o700 });
  writeFileSync(join(home, 'parent.js'), PARENT);
  writeFileSync(join(home, 'child.js'), CHILD);
  writeFileSync(join(home, 'request.js'), REQUEST);
  writeFileSync(join(home, 'server.json'), JSON.stringify({ url: real.url }));
  execFileSync('chown', ['-R', `${uidA}:${uidA}`, home]);
  return home;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, fn, ms = 30_000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * The attack once A's trace ended: B makes A's old folder again (open to A), listens there and
 * writes the rules file; then A's detached child goes on. Asserts that nothing reached B.
 */
async function attackAfterEnd(home, real) {
  const config = JSON.parse(
    await waitFor(
      'the child configuration',
      () => existsSync(join(home, 'config.json')) && readFileSync(join(home, 'config.json'), 'utf8'),
    ),
  );
  const dir = config.ipcPath.slice(0, config.ipcPath.lastIndexOf('/'));
  await waitFor(`${dir} to be removed at the trace's end`, () => !existsSync(dir), 15_000);
  writeFileSync(join(base, 'fake-collector.cjs'), FAKE_COLLECTOR);
  const b = await bServer();
  const log = join(base, `${B}-${Date.now()}.log`);
  writeFileSync(log, '');
  chmodSync(log, 0o666);
  assert.equal(runAs(uidB, 'mkdir', ['-m', '0777', dir]).status, 0, 'B makes the folder again');
  const fake = spawnAs(uidB, process.execPath, [join(base, 'fake-collector.cjs'), config.ipcPath, config.rulesFile ?? '-', log], {
    env: { PATH: process.env.PATH, B_URL: b.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise((resolve, reject) => {
      fake.stdout.on('data', (d) => String(d).includes('listening') && resolve());
      fake.on('exit', (code) => reject(new Error(`B's collector exited (${code})`)));
    });
    writeFileSync(join(home, 'go'), '');
    const results = {};
    for (const who of ['child', 'grandchild']) {
      const file = join(home, `result-${who}.json`);
      results[who] = JSON.parse(await waitFor(`A's ${who} result`, () => existsSync(file) && readFileSync(file, 'utf8')));
    }
    // Every way B could have gained, said together.
    const problems = [];
    const got = readFileSync(log, 'utf8');
    if (got !== '') problems.push(`B's collector heard from A's processes:\n${got}`);
    for (const who of ['child', 'grandchild'])
      if (JSON.stringify(results[who]) !== JSON.stringify({ status: 200, body: 'real' }))
        problems.push(`A's ${who} got another answer than the real server's (a rule of B's acted): ${JSON.stringify(results[who])}`);
    if (b.seen.length > 0) problems.push(`A's requests were sent again to B: ${JSON.stringify(b.seen)}`);
    const reached = real.seen.map((s) => s.url).sort();
    if (JSON.stringify(reached) !== JSON.stringify(['/child', '/grandchild']))
      problems.push(`the real server did not get each of A's requests once: ${JSON.stringify(reached)}`);
    assert.deepEqual(problems, []);
  } finally {
    fake.kill();
    b.close();
  }
}

test(
  "after A's run ended, B's collector at its old path gets nothing and gives no rule, rules file or Send Again",
  { skip: reason, timeout: 120_000 },
  async () => {
    const real = await realServer();
    try {
      const home = homeFor('run', real);
      // Enough rules that the set goes through the collector's rules file (over 16 KiB as JSON).
      const rules = Array.from({ length: 150 }, (_, i) => ({
        id: `mark-${i}`,
        name: `mark ${i} ${'x'.repeat(80)}`,
        condition: `host == "h${i}.invalid"`,
        action: 'mark',
        tag: `t${i}`,
      }));
      writeFileSync(join(home, 'rules.json'), JSON.stringify(rules));
      chownSync(join(home, 'rules.json'), uidA, uidA);
      const r = runAs(
        uidA,
        process.execPath,
        [
          cli,
          'run',
          '--quiet',
          '--helper',
          'off',
          '--rules',
          join(home, 'rules.json'),
          '--out',
          join(home, 't.json'),
          '--',
          process.execPath,
          join(home, 'parent.js'),
        ],
        { cwd: home, env: { PATH: process.env.PATH, HOME: home, TMPDIR: '/tmp' } },
      );
      assert.equal(r.status, 0, r.stderr);
      const config = JSON.parse(
        await waitFor(
          'the child configuration',
          () => existsSync(join(home, 'config.json')) && readFileSync(join(home, 'config.json'), 'utf8'),
        ),
      );
      assert.equal(config.rules, undefined, 'the set went through the rules file');
      assert.equal(typeof config.rulesFile, 'string');
      await attackAfterEnd(home, real);
    } finally {
      real.close();
    }
  },
);

test(
  "after A's debug terminal closed, B's socket at its router's old path gets nothing and gives nothing",
  { skip: reason, timeout: 120_000 },
  async () => {
    const real = await realServer();
    try {
      const home = homeFor('terminal', real);
      // The router and a command's collector as the extension runs them, as A (src/extension/terminalRouter.ts).
      bundleTs(
        ["export { TerminalRouter } from './src/extension/terminalRouter';", "export { startCollector } from './src/collector/server';"],
        { dir: base, name: 'router.cjs' },
      );
      writeFileSync(
        join(home, 'terminal.cjs'),
        `
const { TerminalRouter, startCollector } = require(${JSON.stringify(join(base, 'router.cjs'))});
const { spawnSync } = require('node:child_process');
(async () => {
  const collectors = [];
  const router = new TerminalRouter({
    shellPid: () => process.pid,
    open: async () => { const c = await startCollector({}); collectors.push(c); return { key: 'k', ipcPath: c.ipcPath }; },
    idle: () => {},
    idleMs: 100,
  });
  const ipcPath = await router.listen();
  spawnSync(process.execPath, [__dirname + '/parent.js'], {
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: '--require ' + ${JSON.stringify(preload)}, NETTRACE_CONFIG: JSON.stringify({ ipcPath }) },
  });
  await router.close();
  for (const c of collectors) await c.close();
})();
`,
      );
      chownSync(join(home, 'terminal.cjs'), uidA, uidA);
      const r = runAs(uidA, process.execPath, [join(home, 'terminal.cjs')], {
        cwd: home,
        env: { PATH: process.env.PATH, HOME: home, TMPDIR: '/tmp' },
      });
      assert.equal(r.status, 0, r.stderr);
      await attackAfterEnd(home, real);
    } finally {
      real.close();
    }
  },
);
