// How the helper gets its privileges (src/helper/launch.ts): chooseAuthorityAsync, which runs its
// probes at once so `nettrace run --helper auto` does not wait for their sum, answers as
// chooseAuthority (the probes one by one) on every combination of what the machine offers —
// file capabilities, `sudo -n` (for everything, or only for the helper), pkexec in an interactive
// session — with packet capture and without. The probes are stand-ins on PATH; the choices run as
// an unprivileged user (root is always "root"), so the test runs as root and is skipped otherwise.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
        // `sudo -n true`, or `sudo -n -- node helper.cjs --pid 0` (the helper refuses pid 0: exit 3, a JSON line).
        tool(
          'sudo',
          sudo === 'all'
            ? '[ "$2" = true ] && exit 0; echo \'{"type":"error"}\'; exit 3'
            : sudo === 'helper'
              ? '[ "$2" = true ] && exit 1; echo \'{"type":"error"}\'; exit 3'
              : 'echo "sudo: a password is required" >&2; exit 1',
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
