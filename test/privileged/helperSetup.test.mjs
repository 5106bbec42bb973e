// covers: src/helper/install.ts
// needs: the build (dist/cli.cjs, dist/helper.cjs)
// Setting up the kernel helper (src/helper/install.ts, used by "Net Trace: Set Up Kernel Helper"
// and `nettrace helper setup`), as root: install into a temporary prefix (under /var/lib: the
// setup refuses a folder under /tmp, which others can write), check what was
// installed, and start the installed helper as a session would (its ready line: eBPF metrics,
// conntrack, packet capture). Then for an ordinary user created for the run: the plan adds file
// capabilities and a sudoers rule for exactly `node <prefix>/dist/helper.cjs *`, and that user's
// `nettrace helper check` gets eBPF metrics through the capabilities and packet capture through
// `sudo -n` without a password. Skipped loudly when not root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, root, skipLoudly, skipReason } from './lib.mjs';

function whyNot() {
  const base = skipReason({ pcap: true });
  if (base) return base;
  for (const tool of ['useradd', 'userdel', 'sudo', 'setcap', 'getcap', 'visudo', 'setpriv']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed — run scripts/install-native-deps.sh`;
  }
  if (!existsSync('/etc/sudoers.d')) return '/etc/sudoers.d is missing (sudo not installed)';
  if (!existsSync(join(root, 'dist', 'cli.cjs'))) return 'dist/cli.cjs is missing — run npm run build';
  return undefined;
}

const skip = whyNot();

test('as root: the setup installs a root-owned copy and the installed helper starts with every feature', async (t) => {
  if (skip) return skipLoudly(t, skip);
  const m = api();
  const prefix = mkdtempSync('/var/lib/nettrace-prefix-');
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  // An earlier setup's install there, with the `cap` package (libpcap bindings) it used to copy.
  mkdirSync(join(prefix, 'dist'));
  writeFileSync(join(prefix, 'dist', 'helper.cjs'), '// earlier');
  mkdirSync(join(prefix, 'node_modules', 'cap', 'lib'), { recursive: true });
  writeFileSync(join(prefix, 'node_modules', 'cap', 'lib', 'Cap.js'), '// earlier');
  const payload = m.findPayload(root);
  assert.ok(payload, 'the checkout is a payload');
  const inspection = m.inspectPayload(payload);
  assert.equal(inspection.nativeProblem, undefined);
  const plan = m.planSetup({ payload, inspection, nodePath: process.execPath, capture: true, prefix });
  assert.equal(plan.fileCapabilities, false, 'root needs no file capabilities');
  assert.equal(plan.sudoers, undefined, 'nor a sudoers rule');
  assert.deepEqual(plan.notes, [], 'packet capture is not left off');
  // Only the Node side and the native helper (which reads the capture) are copied.
  assert.deepEqual(
    plan.files.map((f) => f.target),
    ['dist/helper.cjs', 'native/build/nettrace-helper'],
  );
  assert.ok(
    plan.steps.some((s) => s.argv.join(' ') === `rm -rf -- ${prefix}/node_modules/cap`),
    "the earlier install's cap package is removed, as a step shown",
  );
  const logged = [];
  const r = m.runPlanAsRoot(plan, (l) => logged.push(l));
  assert.ok(r.ok, `${r.message}\n${logged.join('\n')}`);
  // Each step was logged before its output.
  assert.equal(logged.filter((l) => l.startsWith('+ ')).length, plan.steps.length);
  for (const [file, mode] of [
    ['dist/helper.cjs', 0o644],
    ['native/build/nettrace-helper', 0o755],
  ]) {
    const st = statSync(join(prefix, file));
    assert.equal(st.uid, 0, `${file} is root's`);
    assert.equal(st.mode & 0o777, mode, `${file} mode`);
  }
  assert.equal(existsSync(join(prefix, 'node_modules')), false, 'no cap package left in the install');
  const v = await m.verifyHelper({ root: prefix, nodePath: process.execPath, capture: true });
  assert.ok(v.ok, v.lines.join('\n'));
  assert.equal(v.metrics.authority, 'root');
  assert.equal(v.metrics.mode, 'bpf');
  assert.equal(v.capture.unavailable.capture, undefined);
  assert.deepEqual(v.lines, ['kernel TCP metrics (eBPF): on (root)', 'conntrack (NAT): on', 'packet capture (Save PCAP): on (root)']);

  // A session finds the installed copy when its own root has no helper (NETTRACE_HELPER_PREFIX).
  const saved = process.env.NETTRACE_HELPER_PREFIX;
  process.env.NETTRACE_HELPER_PREFIX = prefix;
  try {
    assert.deepEqual(m.resolveHelperRoot(join(prefix, 'nowhere')), { found: true, root: prefix });
  } finally {
    if (saved === undefined) delete process.env.NETTRACE_HELPER_PREFIX;
    else process.env.NETTRACE_HELPER_PREFIX = saved;
  }
});

test('as root: a Node binary its user could rewrite gets no sudoers rule', (t) => {
  if (skip) return skipLoudly(t, skip);
  const m = api();
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-node-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const node = join(dir, 'node');
  copyFileSync(process.execPath, node);
  chownSync(node, 12345, 12345);
  assert.match(m.nodeUnsafeForSudo(node), /owned by uid 12345, not root/);
  chownSync(node, 0, 0);
  chmodSync(node, 0o777);
  assert.match(m.nodeUnsafeForSudo(node), /writable by every user/);
  const payload = m.findPayload(root);
  const inspection = m.inspectPayload(payload);
  const prefix = mkdtempSync('/var/lib/nettrace-prefix-');
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  const plan = m.planSetup({ payload, inspection, nodePath: node, capture: true, prefix, user: { name: 'x', uid: 12345 } });
  assert.equal(plan.sudoers, undefined);
  assert.ok(
    plan.notes.some((n) => /packet capture will be off: .*writable by every user/.test(n)),
    plan.notes.join('\n'),
  );
  assert.ok(
    plan.steps.some((s) => s.argv[0] === 'setcap'),
    'file capabilities still',
  );
  assert.throws(() => m.planSetup({ payload, inspection, nodePath: node, capture: true, prefix: '/tmp/a b' }), /install folder/);
});

test('for an ordinary user: file capabilities and the sudoers rule; their `nettrace helper check` gets metrics and capture', async (t) => {
  if (skip) return skipLoudly(t, skip);
  const m = api();
  const unsafe = m.nodeUnsafeForSudo(process.execPath);
  if (unsafe) return skipLoudly(t, `this Node cannot be named in a sudoers rule: ${unsafe}`);
  const tag = `nts${process.pid % 100000}`;
  const prefix = mkdtempSync('/var/lib/nettrace-prefix-');
  chmodSync(prefix, 0o755);
  spawnSync('userdel', [tag], { stdio: 'ignore' });
  execFileSync('useradd', ['-M', '-N', '-s', '/bin/sh', tag]);
  const uid = Number(execFileSync('id', ['-u', tag], { encoding: 'utf8' }).trim());
  const sudoersFile = `/etc/sudoers.d/nettrace-${uid}`;
  const cleanup = () => {
    rmSync(sudoersFile, { force: true });
    rmSync(`${sudoersFile}.new`, { force: true });
    spawnSync('userdel', [tag], { stdio: 'ignore' });
    rmSync(prefix, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  t.after(cleanup);

  const payload = m.findPayload(root);
  const inspection = m.inspectPayload(payload);
  const plan = m.planSetup({ payload, inspection, nodePath: process.execPath, capture: true, prefix, user: { name: tag, uid } });
  assert.equal(plan.sudoers.file, sudoersFile, plan.notes.join('\n'));
  assert.ok(!plan.files.some((f) => f.target.startsWith('node_modules/')), 'no cap package copied');
  assert.equal(plan.sudoers.rule, `#${uid} ALL=(root) NOPASSWD: ${process.execPath} ${prefix}/dist/helper.cjs *`);
  // What the user is shown lists every command that runs, the rule included.
  const shown = m.describePlan(plan);
  for (const s of plan.steps) assert.ok(shown.includes(m.stepLine(s)));
  assert.match(shown, /setcap cap_bpf,cap_perfmon,cap_net_admin,cap_sys_admin,cap_setpcap\+ep /);
  assert.ok(shown.includes(plan.sudoers.rule));
  // The same steps as one script (what sudo/pkexec run): run it as root through /bin/sh.
  const { command, args } = m.privilegedCommand(plan, 'root');
  const run = spawnSync(command, args, { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal((run.stdout.match(/^\+ /gm) ?? []).length, plan.steps.length, 'each step echoed before it ran');
  assert.match(
    execFileSync('getcap', [join(prefix, 'native/build/nettrace-helper')], { encoding: 'utf8' }),
    /cap_net_admin,cap_sys_admin,cap_setpcap,cap_perfmon,cap_bpf[=+]ep|cap_bpf/,
  );
  const st = statSync(sudoersFile);
  assert.equal(st.mode & 0o777, 0o440);
  assert.equal(st.uid, 0);
  assert.ok(readFileSync(sudoersFile, 'utf8').includes(plan.sudoers.rule));
  assert.equal(existsSync(`${sudoersFile}.new`), false);

  // The user runs the CLI's check (a copy of the bundle they can read).
  const cliDir = join(prefix, 'cli');
  mkdirSync(join(cliDir, 'dist'), { recursive: true });
  copyFileSync(join(root, 'dist', 'cli.cjs'), join(cliDir, 'dist', 'cli.cjs'));
  const check = spawnSync(
    'setpriv',
    [
      `--reuid=${uid}`,
      `--regid=${uid}`,
      '--init-groups',
      process.execPath,
      join(cliDir, 'dist', 'cli.cjs'),
      'helper',
      'check',
      '--helper-root',
      prefix,
    ],
    { encoding: 'utf8', cwd: '/', env: { PATH: process.env.PATH, HOME: '/' }, timeout: 60_000 },
  );
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stderr, /kernel TCP metrics \(eBPF\): on \(capabilities\)/);
  assert.match(check.stderr, /conntrack \(NAT\): on/);
  assert.match(check.stderr, /packet capture \(Save PCAP\): on \(sudo\)/);

  // Without the rule, the same check says capture is off, and why.
  rmSync(sudoersFile);
  const without = spawnSync(
    'setpriv',
    [
      `--reuid=${uid}`,
      `--regid=${uid}`,
      '--init-groups',
      process.execPath,
      join(cliDir, 'dist', 'cli.cjs'),
      'helper',
      'check',
      '--helper-root',
      prefix,
    ],
    { encoding: 'utf8', cwd: '/', env: { PATH: process.env.PATH, HOME: '/' }, timeout: 60_000 },
  );
  assert.equal(without.status, 1);
  assert.match(without.stderr, /kernel TCP metrics \(eBPF\): on \(capabilities\)/);
  assert.match(without.stderr, /packet capture \(Save PCAP\): off/);
});
