// covers: src/helper/
// needs: the build (dist/helper.cjs)
// The Node side of the helper (dist/helper.cjs) started as root: once setup ends it keeps no
// privilege on any path (uid/gid nobody, no effective/permitted/ambient capabilities, checked in
// /proc/<pid>/status), and its stdin reader holds no more than a bounded line.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { root, skipLoudly, skipReason } from './lib.mjs';

const helperScript = join(root, 'dist', 'helper.cjs');

function status(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => text.match(new RegExp(`^${name}:[ \\t]*(.*)$`, 'm'))?.[1].trim();
  return {
    uid: field('Uid').split(/\s+/).map(Number),
    gid: field('Gid').split(/\s+/).map(Number),
    groups: field('Groups'),
    capEff: field('CapEff'),
    capPrm: field('CapPrm'),
    capAmb: field('CapAmb'),
    capBnd: field('CapBnd'),
    rssKiB: Number(field('VmRSS').split(/\s+/)[0]),
    hwmKiB: Number(field('VmHWM').split(/\s+/)[0]),
  };
}

/** Starts dist/helper.cjs as root on `pid`; resolves once it said `ready`. */
async function startHelper(t, args) {
  const h = spawn(process.execPath, [helperScript, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => h.kill('SIGKILL'));
  h.lines = [];
  let rest = '';
  h.stdout.setEncoding('utf8').on('data', (d) => {
    const parts = (rest + d).split('\n');
    rest = parts.pop();
    for (const p of parts) if (p) h.lines.push(JSON.parse(p));
  });
  let stderr = '';
  h.stderr.on('data', (d) => (stderr += d));
  const deadline = Date.now() + 20_000;
  while (!h.lines.some((m) => m.type === 'ready')) {
    if (h.exitCode !== null || Date.now() > deadline) assert.fail(`helper not ready: ${JSON.stringify(h.lines)} ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return h;
}

/** Waits until the helper's status shows `uid` (the drop happens right after `ready`). */
async function statusOnceDropped(pid) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const s = status(pid);
    if (s.uid[0] !== 0 || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function assertUnprivileged(s) {
  assert.deepEqual(s.uid, [65534, 65534, 65534, 65534], 'real, effective, saved and fs uid are nobody');
  assert.deepEqual(s.gid, [65534, 65534, 65534, 65534], 'all gids are nogroup');
  assert.equal(s.groups, '', 'no supplementary groups');
  assert.equal(BigInt('0x' + s.capEff), 0n, `CapEff ${s.capEff}`);
  assert.equal(BigInt('0x' + s.capPrm), 0n, `CapPrm ${s.capPrm}`);
  assert.equal(BigInt('0x' + s.capAmb), 0n, `CapAmb ${s.capAmb}`);
}

describe('Node helper privileges', { timeout: 90_000 }, () => {
  test('without --pcap: no root, no capabilities for the session; an overlong stdin line is refused in bounded memory', async (t) => {
    const reason = skipReason();
    if (reason) return skipLoudly(t, reason);
    const target = spawn('sleep', ['60']);
    t.after(() => target.kill());
    const h = await startHelper(t, ['--pid', String(target.pid), '--no-conntrack']);
    const s = await statusOnceDropped(h.pid);
    console.error(`# helper (no pcap) status: uid ${s.uid} CapEff ${s.capEff} CapPrm ${s.capPrm} CapBnd ${s.capBnd}`);
    assertUnprivileged(s);

    // A 300 MB line used to be held whole by the root process (396 MB RSS).
    const before = status(h.pid).rssKiB;
    const mib = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < 300; i++) {
      if (!h.stdin.write(mib)) await new Promise((r) => h.stdin.once('drain', r));
    }
    h.stdin.write('\n{"type":"stats"}\n');
    const deadline = Date.now() + 10_000;
    while (!h.lines.some((m) => m.type === 'stats') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const after = status(h.pid);
    console.error(`# helper RSS before ${before} KiB, after a 300 MiB line ${after.rssKiB} KiB (peak ${after.hwmKiB} KiB)`);
    assert.ok(after.hwmKiB < before + 64 * 1024, `peak RSS ${after.hwmKiB} KiB grew by more than 64 MiB over ${before} KiB`);
    const warning = h.lines.find((m) => m.type === 'warning' && /command line over \d+ bytes was ignored/.test(m.message));
    assert.ok(warning, `a warning says the line was refused: ${JSON.stringify(h.lines)}`);
    assert.ok(
      h.lines.some((m) => m.type === 'stats'),
      'the command after the overlong line still works',
    );
  });

  test('with --pcap in another network namespace: both the nsenter parent and the capturing helper drop root', async (t) => {
    const reason = skipReason({ pcap: true });
    if (reason) return skipLoudly(t, reason);
    const ns = `ntpriv${process.pid % 10000}`;
    spawn('ip', ['netns', 'add', ns]).on('exit', () => {});
    await new Promise((r) => setTimeout(r, 300));
    t.after(() => spawn('ip', ['netns', 'del', ns]));
    spawn('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const target = spawn('ip', ['netns', 'exec', ns, 'sleep', '60']);
    t.after(() => target.kill());
    // `ip netns exec` execs sleep in place: the pid is the target's.
    await new Promise((r) => setTimeout(r, 300));
    const h = await startHelper(t, ['--pid', String(target.pid), '--pcap', '--no-conntrack']);
    const ready = h.lines.find((m) => m.type === 'ready');
    assert.equal(ready.features.captureFilter, true, JSON.stringify(ready));
    const outer = await statusOnceDropped(h.pid);
    assertUnprivileged(outer);
    const inner = (() => {
      const kids = readFileSync(`/proc/${h.pid}/task/${h.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      // nsenter execs node in place: the child is the capturing helper.
      return kids.find((k) => /helper\.cjs/.test(readFileSync(`/proc/${k}/cmdline`, 'utf8')));
    })();
    assert.ok(inner, 'the helper in the target namespace runs');
    const s = await statusOnceDropped(inner);
    console.error(`# capturing helper status: uid ${s.uid} CapEff ${s.capEff} CapBnd ${s.capBnd}`);
    assertUnprivileged(s);
  });
});
