// covers: src/helper/
// The setup's final check (`nettrace helper check`, the end of `nettrace helper setup` and of
// "Set Up Kernel Helper": verifyHelper) starts the installed helper with packet capture, as a
// session would, and stops it (issue 48, item 8b): the capture's spool folder
// (`/tmp/nettrace-pcap-*`) goes with it, as a session's does. Skipped loudly when not root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { api, root, skipLoudly, skipReason } from './lib.mjs';

const skip = skipReason();

test('as root: the check leaves no packet capture spool behind', async (t) => {
  if (skip) return skipLoudly(t, skip);
  const m = api();
  const prefix = mkdtempSync('/var/lib/nettrace-prefix-');
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  const payload = m.findPayload(root);
  const plan = m.planSetup({ payload, inspection: m.inspectPayload(payload), nodePath: process.execPath, capture: true, prefix });
  const installed = m.runPlanAsRoot(plan, () => {});
  assert.ok(installed.ok, installed.message);
  // The helpers the check starts, as it starts them.
  const clients = [];
  const start = async (options) => {
    const client = await m.startHelper(options);
    clients.push(client);
    return client;
  };
  const v = await m.verifyHelper({ root: prefix, nodePath: process.execPath, capture: true, start });
  assert.ok(v.ok, v.lines.join('\n'));
  assert.equal(v.capture.unavailable.capture, undefined, 'the capture was on');
  // Each helper names its spool in its `capture` lines.
  const spools = clients.map((c) => c.messages.findLast((msg) => msg.type === 'capture')?.spool).filter(Boolean);
  assert.equal(spools.length, 1, 'the capture run had a spool');
  assert.match(basename(dirname(spools[0])), /^nettrace-pcap-/);
  assert.equal(existsSync(dirname(spools[0])), false, `${dirname(spools[0])} is left behind`);
});
