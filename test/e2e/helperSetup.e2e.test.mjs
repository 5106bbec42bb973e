// covers: src/extension/helperSetup.ts, src/helper/
// End-to-end: "Net Trace: Set Up Kernel Helper" in a real VS Code (code-server), as root (CI).
// The packaged extension alone (no checkout): a first debug session with packet capture on has
// no helper, and Save PCAP says so naming the command; the command, run from the command
// palette, shows its privileged steps in a modal, installs the helper the .vsix carries (into a
// temporary prefix under /var/lib: NETTRACE_HELPER_PREFIX), checks it and reports; the next session's Save PCAP
// writes a pcapng with the session's packets.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  e2e,
  extensionsStarted,
  missing,
  onCleanup,
  openBrowser,
  openFile,
  openWorkbench,
  prepareWorkspace,
  quickInput,
  runCommand,
  saveLogs,
  sleep,
  startCodeServer,
  statusCount,
  until,
} from './support/codeServer.mjs';
import { e2eTest, enterDialogPath } from './support/workbench.mjs';

const { results, step } = e2eTest('helper-setup', 'helper');
const skip = missing || (process.getuid() !== 0 ? 'NOT ROOT: the kernel helper setup end-to-end test runs as root (CI)' : false);
if (skip && process.getuid() !== 0 && e2e.codeServer) console.error(`# SKIPPED helper setup e2e: ${skip}`);

test(
  "Set Up Kernel Helper from the command palette (root): installs, verifies, and the next session's Save PCAP works",
  { skip, timeout: 10 * 60_000 },
  async () => {
    // The install folder: a sudoers rule or file capabilities could not name a path with spaces,
    // and the setup refuses one under /tmp (writable by every user): a fresh one under /var/lib.
    const prefix = mkdtempSync('/var/lib/nettrace-e2e-prefix-');
    rmSync(prefix, { recursive: true });
    onCleanup(async () => rmSync(prefix, { recursive: true, force: true }));
    const dirs = prepareWorkspace({
      label: 'helper',
      workspaceName: 'ws',
      settings: { 'files.simpleDialog.enable': true, 'nettrace.pcap': true },
    });
    const { workspace, userData, extensions } = dirs;
    // A program that makes more requests some seconds after its first: the extension attaches the
    // helper once the program has reported in (js-debug starts it, so it cannot wait at a gate), and
    // the helper takes a few seconds to load its eBPF programs on this 2-core machine.
    writeFileSync(
      join(workspace, 'late.js'),
      `const http = require('node:http');
const server = http.createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', async () => {
  const get = async (path) => (await fetch(\`http://127.0.0.1:\${server.address().port}\${path}\`, { keepalive: false })).text();
  await get('/first');
  await new Promise((r) => setTimeout(r, 12000));
  for (let i = 0; i < 3; i++) await get(\`/late/\${i}\`);
  server.close();
  setTimeout(() => process.exit(0), 1500);
});
`,
    );
    writeFileSync(
      join(workspace, '.vscode', 'launch.json'),
      JSON.stringify({
        version: '0.2.0',
        configurations: [{ type: 'nettrace', request: 'launch', name: 'Net Trace: late', program: '${workspaceFolder}/late.js' }],
      }),
    );
    const cs = await startCodeServer(dirs, { results, env: { NETTRACE_HELPER_PREFIX: prefix } });
    const installed = readdirSync(extensions).find((d) => d.startsWith('nettrace.nettrace'));
    assert.ok(
      installed && existsSync(join(extensions, installed, 'helper', 'native', 'build', 'nettrace-helper')),
      'the .vsix carries the helper payload',
    );
    assert.equal(existsSync(join(extensions, installed, 'native')), false, 'and no runnable helper of its own');
    const { page, shot } = await openBrowser({ viewport: { width: 1600, height: 1000 }, results });
    const input = quickInput(page);

    /** Starts the launch configuration (late.js) with F5 and waits until the session has ended. */
    const traceOnce = async (what) => {
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('F5');
      await until(`${what}: the session's status bar item`, async () => (await statusCount(page)) !== undefined, 60_000, 200);
      await until(`${what}: the session to end`, async () => (await statusCount(page)) === undefined, 90_000, 500);
      step(`${what}: session ended`);
    };
    const toasts = () => page.$$eval('.notification-toast .notification-list-item-message', (els) => els.map((e) => e.textContent ?? ''));
    const clearToasts = async () => {
      await runCommand(page, 'Notifications: Clear All Notifications').catch(() => {});
      await sleep(300);
    };

    try {
      await openWorkbench(page, cs);
      await openFile(page, 'late.js');
      await extensionsStarted(userData);

      // ---- before: no helper; Save PCAP names the command ---------------------------------------------
      await traceOnce('first session');
      await clearToasts();
      await runCommand(page, 'Net Trace: Save PCAP');
      const before = await until(
        'the Save PCAP warning',
        async () => (await toasts()).find((t) => /no packet capture to save/.test(t)),
        20_000,
      );
      step(`before setup, Save PCAP: ${before}`);
      assert.match(before, /Net Trace: Set Up Kernel Helper/);
      await shot('before-setup');
      await clearToasts();

      // ---- the command: modal with the steps, run, verify -----------------------------------------------
      await runCommand(page, 'Net Trace: Set Up Kernel Helper');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible', timeout: 60_000 });
      const dialogText = await dialog.innerText();
      step(`the modal:\n${dialogText}`);
      assert.match(dialogText, /Net Trace will run these \d+ steps as root/);
      assert.ok(dialogText.includes(`install -d -m 0755 -o root -g root ${prefix}`), 'the modal lists the commands');
      assert.match(dialogText, /native\/build\/nettrace-helper/);
      await shot('setup-modal');
      await dialog.locator('.monaco-button', { hasText: /^Run$/ }).click();
      const done = await until(
        'the setup report',
        async () => (await toasts()).find((t) => /kernel helper is (set up|installed)/.test(t)),
        120_000,
        500,
      );
      step(`setup report: ${done}`);
      await shot('setup-done');
      assert.match(done, /kernel helper is set up in /);
      assert.match(done, /kernel TCP metrics \(eBPF\): on \(root\)/);
      assert.match(done, /packet capture \(Save PCAP\): on \(root\)/);
      assert.equal(statSync(join(prefix, 'native', 'build', 'nettrace-helper')).uid, 0);
      // nettrace.helperRoot has machine scope: code-server keeps it in the remote machine's settings.
      const helperRoots = ['User', 'Machine']
        .map((d) => join(userData, d, 'settings.json'))
        .filter(existsSync)
        .map((f) => JSON.parse(readFileSync(f, 'utf8'))['nettrace.helperRoot']);
      assert.ok(helperRoots.includes(prefix), `nettrace.helperRoot: ${JSON.stringify(helperRoots)}`);
      await clearToasts();

      // ---- after: the next session's Save PCAP writes the packets ---------------------------------------
      await traceOnce('second session');
      const pcap = join(workspace, 'after-setup.pcapng');
      await runCommand(page, 'Net Trace: Save PCAP');
      await until('the save dialog', async () => (await input.inputValue()).endsWith('.pcapng'), 20_000);
      await enterDialogPath(input, pcap, 'the path in the save dialog');
      const saved = await until(
        'the Save PCAP report',
        async () => (await toasts()).find((t) => /saved \d+ packets|could not|no packet capture/.test(t)),
        30_000,
      );
      step(`after setup, Save PCAP: ${saved}`);
      await shot('after-setup');
      assert.match(saved, /saved [1-9]\d* packets/);
      const bytes = readFileSync(pcap);
      assert.equal(bytes.readUInt32LE(0), 0x0a0d0d0a, 'a pcapng section header');
      assert.equal(statSync(pcap).mode & 0o777, 0o600);
      const capinfos = spawnSync('capinfos', ['-c', '-M', pcap], { encoding: 'utf8' });
      if (capinfos.status === 0) {
        const n = Number(/Number of packets:\s+(\d+)/.exec(capinfos.stdout)?.[1]);
        step(`capinfos: ${n} packets`);
        assert.ok(n > 0);
      }
    } catch (err) {
      await shot('failure');
      saveLogs(userData, join(results, 'logs'));
      throw err;
    }
  },
);
