// covers: src/helper/launch.ts, src/helper/probeCache.ts
// How the helper gets its privileges (src/helper/launch.ts): chooseAuthorityAsync, which runs its
// probes at once so `nettrace run --helper auto` does not wait for their sum, answers as
// chooseAuthority (the probes one by one) on every combination of what the machine offers —
// file capabilities, `sudo -n` (for everything, or only for the helper), pkexec in an interactive
// session — with packet capture and without. The probes are stand-ins on PATH; the choices run as
// an unprivileged user (root is always "root"), so the test runs as root and is skipped otherwise.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const isRoot = process.getuid?.() === 0;
const runuser = spawnSync('runuser', ['--help'], { stdio: 'ignore' }).status === 0;
const skip = !isRoot || !runuser ? 'needs root and runuser (the choices run as the user nobody)' : false;

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-authority-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('chooseAuthorityAsync answers as chooseAuthority on every combination of probes', { skip }, () => {
  chmodSync(tmp, 0o755);
  bundleTs(["export { chooseAuthority, chooseAuthorityAsync } from './src/helper/launch';"], { dir: tmp, name: 'bundle.cjs' });
  const bundleFile = join(tmp, 'bundle.cjs');
  // A root whose native helper exists (getcap decides whether it has capabilities).
  const root = join(tmp, 'root');
  mkdirSync(join(root, 'native', 'build'), { recursive: true });
  writeFileSync(join(root, 'native', 'build', 'nettrace-helper'), '');
  const script = join(tmp, 'choose.cjs');
  writeFileSync(
    script,
    `const m = require(${JSON.stringify(bundleFile)});
     (async () => {
       const out = [];
       for (const pcap of [false, true]) {
         const o = { pid: 1, pcap, root: ${JSON.stringify(root)}, nodePath: '/bin/false' };
         out.push({ pcap, sync: m.chooseAuthority(o), async: await m.chooseAuthorityAsync(o) });
       }
       process.stdout.write(JSON.stringify(out));
     })();`,
  );
  const results = [];
  for (const caps of [false, true])
    for (const sudo of ['none', 'all', 'helper'])
      for (const pkexec of [false, true]) {
        const bin = join(tmp, `bin-${caps}-${sudo}-${pkexec}`);
        mkdirSync(bin);
        const tool = (name, body) => {
          writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
          chmodSync(join(bin, name), 0o755);
        };
        tool('getcap', caps ? 'echo "$1 cap_bpf,cap_perfmon=ep"' : 'exit 0');
        // `sudo -n -k true`, or `sudo -k -n -- node helper.cjs --pid 0` (the helper refuses pid 0:
        // exit 3, a JSON line). Without -k a password typed earlier would count: the stand-in says no.
        tool(
          'sudo',
          'case " $* " in *" -k "*) ;; *) exit 1;; esac\n' +
            (sudo === 'all'
              ? '[ "$3" = true ] && exit 0; echo \'{"type":"error"}\'; exit 3'
              : sudo === 'helper'
                ? '[ "$3" = true ] && exit 1; echo \'{"type":"error"}\'; exit 3'
                : 'echo "sudo: a password is required" >&2; exit 1'),
        );
        tool('pkexec', pkexec ? 'exit 0' : 'exit 127');
        const r = spawnSync('runuser', ['-u', 'nobody', '--', 'env', `PATH=${bin}:/usr/bin:/bin`, 'DISPLAY=:9', process.execPath, script], {
          encoding: 'utf8',
        });
        assert.equal(r.status, 0, r.stderr);
        for (const c of JSON.parse(r.stdout)) {
          assert.equal(c.async, c.sync, `caps ${caps}, sudo ${sudo}, pkexec ${pkexec}, pcap ${c.pcap}`);
          results.push({ caps, sudo, pkexec, ...c });
        }
      }
  const pick = (caps, sudo, pkexec, pcap) =>
    results.find((r) => r.caps === caps && r.sudo === sudo && r.pkexec === pkexec && r.pcap === pcap).async;
  // The order of native/README.md: capabilities (no capture), sudo, pkexec, capabilities, unprivileged.
  assert.equal(pick(false, 'none', false, false), 'unprivileged');
  assert.equal(pick(true, 'all', true, false), 'capabilities');
  assert.equal(pick(true, 'all', true, true), 'sudo');
  assert.equal(pick(false, 'helper', false, false), 'sudo');
  assert.equal(pick(true, 'none', true, true), 'pkexec');
  assert.equal(pick(true, 'none', false, true), 'capabilities');
});

// What the probes found is remembered (src/helper/probeCache.ts): a later choice runs none, until
// something it rests on changes (here the sudo on PATH is replaced) or an hour has passed.
test('chooseAuthorityAsync remembers its probes until what they rest on changes', { skip }, () => {
  const dir = join(tmp, 'remember');
  mkdirSync(dir, { recursive: true });
  bundleTs(["export { chooseAuthorityAsync, rememberedAuthority } from './src/helper/launch';"], { dir, name: 'bundle.cjs' });
  const root = join(dir, 'root');
  mkdirSync(join(root, 'native', 'build'), { recursive: true });
  writeFileSync(join(root, 'native', 'build', 'nettrace-helper'), '');
  const bin = join(dir, 'bin');
  const home = join(dir, 'home');
  const log = join(dir, 'probes.log');
  mkdirSync(bin);
  mkdirSync(home);
  writeFileSync(log, '');
  spawnSync('chown', ['-R', 'nobody', home, log]);
  const tool = (name, body) => {
    const file = join(bin, name);
    rmSync(file, { force: true });
    writeFileSync(file, `#!/bin/sh\necho ${name} >> ${log}\n${body}\n`);
    chmodSync(file, 0o755);
  };
  tool('getcap', 'exit 0');
  tool('sudo', 'exit 1');
  const script = join(dir, 'choose.cjs');
  writeFileSync(
    script,
    `const m = require(${JSON.stringify(join(dir, 'bundle.cjs'))});
     const o = { pid: 1, root: ${JSON.stringify(root)}, nodePath: '/bin/false' };
     (async () => process.stdout.write(JSON.stringify({ before: m.rememberedAuthority(o) ?? null, chosen: await m.chooseAuthorityAsync(o) })))();`,
  );
  const choose = () => {
    const before = readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    // Its cache in its HOME, whatever cache folder the environment names (CI's NETTRACE_CACHE is root's).
    const r = spawnSync(
      'runuser',
      [
        '-u',
        'nobody',
        '--',
        'env',
        '-u',
        'NETTRACE_CACHE',
        '-u',
        'XDG_CACHE_HOME',
        `PATH=${bin}:/usr/bin:/bin`,
        `HOME=${home}`,
        process.execPath,
        script,
      ],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    return { ...JSON.parse(r.stdout), probes: readFileSync(log, 'utf8').split('\n').filter(Boolean).length - before };
  };
  assert.deepEqual(choose(), { before: null, chosen: 'unprivileged', probes: 3 });
  assert.deepEqual(choose(), { before: 'unprivileged', chosen: 'unprivileged', probes: 0 });
  const kept = join(home, '.cache', 'nettrace', 'helper-probes.json');
  assert.equal(statSync(kept).mode & 0o777, 0o600);
  assert.equal(statSync(join(home, '.cache', 'nettrace')).mode & 0o777, 0o700);
  // sudo without a password set up since: the remembered answer is not used.
  tool('sudo', 'exit 0');
  assert.deepEqual(choose(), { before: null, chosen: 'sudo', probes: 3 });
  assert.deepEqual(choose(), { before: 'sudo', chosen: 'sudo', probes: 0 });
  // Older than an hour: asked again.
  const entries = JSON.parse(readFileSync(kept, 'utf8'));
  for (const e of Object.values(entries)) e.at -= 60 * 60 * 1000 + 1;
  writeFileSync(kept, JSON.stringify(entries));
  assert.deepEqual(choose(), { before: null, chosen: 'sudo', probes: 3 });
  // A damaged file is no file.
  writeFileSync(kept, '{"not json');
  assert.deepEqual(choose(), { before: null, chosen: 'sudo', probes: 3 });
});
