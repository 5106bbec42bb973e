// covers: src/helper/rootEnv.ts, src/helper/rootOwned.ts
// needs: the build (dist/helper-api.cjs)
// The root helper's environment (src/helper/rootEnv.ts) and the root-only path check
// (src/helper/rootOwned.ts): which variables are refused and when, what the helper keeps, and
// which paths count as only root's. No root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const h = createRequire(import.meta.url)('../../dist/helper-api.cjs');

test('the variables Node acts on at start are named, LD_* by prefix; harmless ones are not', () => {
  const env = {
    NODE_OPTIONS: '--require /home/u/x.js',
    LD_PRELOAD: '/x.so',
    LD_AUDIT: 'a',
    OPENSSL_CONF: '/c',
    PATH: '/home/u/bin',
    NODE_ENV: 'production',
    TERM: 'xterm',
  };
  assert.deepEqual(h.startupVariables(env), ['LD_AUDIT', 'LD_PRELOAD', 'NODE_OPTIONS', 'OPENSSL_CONF']);
  assert.deepEqual(h.startupVariables({ PATH: '/bin', HOME: '/root', SUDO_UID: '1000' }), []);
  for (const k of ['NODE_PATH', 'NODE_V8_COVERAGE', 'NODE_REDIRECT_WARNINGS', 'OPENSSL_MODULES', 'GCONV_PATH']) {
    assert.deepEqual(h.startupVariables({ [k]: 'x' }), [k], k);
  }
  // Only a CA file read as root (often set machine-wide): dropped by the reset, not refused.
  assert.deepEqual(h.startupVariables({ NODE_EXTRA_CA_CERTS: '/c.pem', SSL_CERT_FILE: '/c.pem', SSL_CERT_DIR: '/c' }), []);
});

test('refused only as root working for another user (sudo or pkexec), with code EENV and what to fix', () => {
  const bad = { NODE_OPTIONS: '--require /home/u/x.js', SUDO_UID: '1000' };
  const r = h.environmentRefusal(bad, 0);
  assert.equal(r.code, 'EENV');
  assert.match(r.message, /as root for uid 1000 with NODE_OPTIONS/);
  assert.match(r.message, /remove SETENV, env_keep of them and !env_reset from the sudoers rule/);
  assert.match(h.environmentRefusal({ OPENSSL_CONF: '/x', PKEXEC_UID: '1001' }, 0).message, /pkexec passed them/);
  // Not root: the helper runs as the user with the user's rights anyway.
  assert.equal(h.environmentRefusal(bad, 1000), undefined);
  // Root for root (sudo by root, or root itself): root's own environment.
  assert.equal(h.environmentRefusal({ NODE_OPTIONS: '--x', SUDO_UID: '0' }, 0), undefined);
  assert.equal(h.environmentRefusal({ NODE_OPTIONS: '--x' }, 0), undefined);
  // Nothing dangerous: runs.
  assert.equal(h.environmentRefusal({ SUDO_UID: '1000', PATH: '/home/u/bin', HOME: '/home/u' }, 0), undefined);
  assert.equal(h.rootForAnotherUser({ PKEXEC_UID: '1000' }, 0), true);
  assert.equal(h.rootForAnotherUser({ PKEXEC_UID: '1000' }, 5), false);
});

test('the safe environment: the system PATH and who the helper works for, nothing else', () => {
  const env = {
    PATH: '/home/u/bin:/usr/bin',
    TMPDIR: '/home/u/tmp',
    HOME: '/home/u',
    SUDO_UID: '1000',
    SUDO_GID: '1000',
    SUDO_USER: 'u',
    PKEXEC_UID: undefined,
    NODE_OPTIONS: '--x',
  };
  assert.deepEqual(h.safeEnvironment(env), { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', SUDO_UID: '1000', SUDO_GID: '1000', SUDO_USER: 'u' });
  assert.equal(h.ROOT_PATH, '/usr/sbin:/usr/bin:/sbin:/bin');
});

test('a system program is found by absolute path in root-only folders', () => {
  const sh = h.systemProgram('sh');
  assert.match(sh.path, /^\/(usr\/)?s?bin\/sh$/);
  assert.match(h.systemProgram('no-such-program-nettrace').problem, /not installed in \/usr\/sbin, \/usr\/bin, \/sbin, \/bin/);
});

test('root-only paths: system files pass; a folder under /tmp, a relative path and a link into one fail', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-rootonly-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(h.notRootOnly('/usr/bin'), undefined);
  assert.equal(h.notRootOnly('/usr/bin/not-there-yet/sub'), undefined, 'judged by the nearest existing folder');
  assert.match(h.notRootOnly(join(dir, 'x')), /writable by every user|not root/);
  assert.match(h.notRootOnly('relative/x'), /not an absolute path/);
  writeFileSync(join(dir, 'f'), '');
  symlinkSync(join(dir, 'f'), join(dir, 'link'));
  assert.match(h.notRootOnly(join(dir, 'link')), /writable by every user|not root/);
  // /tmp itself: sticky and writable by all; accepted only with allowSticky (a file root owns there).
  if (process.getuid() === 0) {
    assert.match(h.notRootOnly('/tmp', { what: 'x' }), /\/tmp is writable by every user \(a shared folder like \/tmp\): they could swap x/);
    assert.equal(h.notRootOnly('/tmp', { allowSticky: true }), undefined);
  }
});
