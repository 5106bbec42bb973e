// covers: src/rules/whatIfConsent.ts, src/extension/whatIfTrust.ts
// End-to-end: what-if rules and workspace trust (issue 51 item 4, "Never by surprise"), in a real
// VS Code (code-server) through headless Chromium at 1440×900, with workspace trust ON (the other
// end-to-end tests turn it off). The workspace — the fixture, as a cloned repository — opens
// untrusted (Restricted Mode), and its `.vscode/settings.json` holds an enabled `fail` rule that
// would refuse the payments call of "Net Trace: what if" (src/payments.ts: axios to /api/pay,
// fetch to /api/stock, every 1.5 s, both served by the program itself on WHATIF_PORT, which says
// on /seen which payments calls it received). One workbench, a subtest per claim, in order:
//   1. untrusted: the panel's banner says why what-if rules are off;
//   2. F5 in Restricted Mode runs nothing until the user trusts the folder (VS Code's own dialog);
//   3. trusted (from that dialog): the rule still does not act — the program's payments calls get
//      the server's real 200, the server receives them — and a warning names the rule in words;
//   4. the user's "Allow in This Workspace" is what turns it on: the next run's payments calls are
//      refused (the what-if badge) and the server receives none of them.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { findFrame, freePort, missing, runCommand, sessionEnded, sleep, startDebugging, until } from './support/codeServer.mjs';
import { e2eTest, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('trust');
const CONFIG = 'Net Trace: what if';
/** The payments (and inventory) calls of one run of the program. */
const CALLS = 12;
/** The rule the cloned repository's settings hold: every payments call refused. */
const RULE = { id: 'pay-down', condition: 'path == "/api/pay"', action: 'fail', fail: 'refused', enabled: true };
/** The rule as the warning names it (src/rules/whatIfConsent.ts whatIfRuleWords). */
const RULE_WORDS = '"pay-down": fail refused when path == "/api/pay"';
/** The banner's sentence (src/extension/whatIfTrust.ts UNTRUSTED_WHAT_IF). */
const BANNER =
  /^What-if rules are off: this workspace is not trusted, so no rule from it can make the program’s requests fail, wait or get another answer\. Trust the workspace \(Manage Workspace Trust\) to use them\.$/;

/** The payments calls the program's server received (`/seen`), or undefined while it does not listen. */
function seenBy(port) {
  return new Promise((resolve) => {
    get(`http://127.0.0.1:${port}/seen`, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', () => resolve(undefined));
  });
}

/** The panel's rows (scrolled to the end: the newest): path, status, badge. */
async function rows(page) {
  const f = await findFrame(page, '.list-rows .row');
  if (!f) return [];
  await f.$eval('.list-body', (b) => (b.scrollTop = b.scrollHeight)).catch(() => {});
  await sleep(150);
  return f.$$eval('.list-rows .row', (els) =>
    els
      .filter((e) => e.style.display !== 'none')
      .map((e) => ({
        path: e.querySelector('.url-path')?.textContent ?? '',
        status: (e.querySelector('.c-status')?.textContent ?? '').trim(),
        badge: (e.querySelector('.flag-badge .flag-text')?.textContent ?? '').trim(),
      })),
  );
}

/** The banner's text in the panel ('' when it is hidden). */
async function bannerText(page) {
  const f = await findFrame(page, '.whatif-banner');
  if (!f) return '';
  return f.$eval('.whatif-banner', (e) => (e.hidden ? '' : (e.textContent ?? '').trim()));
}

/**
 * The notification whose message holds `text`: a toast, else in the notification center (opened
 * for it: a toast hides after a while). Undefined when there is none.
 */
async function notification(page, text) {
  for (const where of ['.notifications-toasts', '.notifications-center']) {
    const item = page.locator(`${where} .notification-list-item`, { hasText: text }).first();
    if (await item.isVisible().catch(() => false)) return item;
  }
  await runCommand(page, 'Notifications: Show Notifications').catch(() => {});
  const item = page.locator('.notifications-center .notification-list-item', { hasText: text }).first();
  return (await item.isVisible().catch(() => false)) ? item : undefined;
}

test(
  'workspace trust: a cloned repository’s settings.json fail rule does not act untrusted (the panel says why), nor once trusted until the user allows it (1440×900)',
  { skip: missing, timeout: 20 * 60_000 },
  async (t) => {
    const port = await freePort();
    const prepare = ({ workspace }) => {
      const launchPath = join(workspace, '.vscode', 'launch.json');
      const launch = JSON.parse(readFileSync(launchPath, 'utf8'));
      // A run of CALLS calls (about 18 s), which then ends by itself.
      Object.assign(launch.configurations.find((c) => c.name === CONFIG).env, { WHATIF_PORT: String(port), CALLS: String(CALLS) });
      writeFileSync(launchPath, JSON.stringify(launch, null, 2));
      mkdirSync(join(workspace, '.vscode'), { recursive: true });
      writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'nettrace.rules': [RULE] }, null, 2));
    };
    // No port forwarding notification over the warning (code-server forwards the program's ports).
    const settings = { 'remote.autoForwardPorts': false };
    const options = {
      label: 'trust',
      workspaceName: 'cloned',
      linkNodeModules: true,
      workspaceTrust: true,
      settings,
      prepare,
      results,
      step,
    };
    await withWorkbench({ ...options, failureShot: 'trust-failure', installLog: true }, async ({ page, shot }) => {
      // A subtest per claim; one that fails leaves a screenshot and skips the ones after it (they
      // build on it), and fails the workbench's body, which then keeps VS Code's logs.
      let failed;
      const claim = (name, fn) =>
        t.test(name, { skip: failed && `after "${failed}" failed` }, async () => {
          try {
            await fn();
          } catch (err) {
            failed = name;
            await shot('trust-failure');
            throw err;
          }
        });
      await claim('untrusted (Restricted Mode): the panel’s banner says why what-if rules are off', async () => {
        await until('VS Code’s Restricted Mode indicator', () =>
          page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().isVisible(),
        );
        await runCommand(page, 'Net Trace: Show Panel');
        const text = await until('the what-if banner', () => bannerText(page), 60_000, 500);
        step(`banner: ${text}`);
        assert.match(text, BANNER);
        await shot('trust-1-restricted');
      });

      await claim('F5 in Restricted Mode runs nothing until the user trusts the folder (VS Code’s dialog)', async () => {
        await runCommand(page, 'View: Show Run and Debug');
        await startDebugging(page, CONFIG);
        const dialog = page.locator('.monaco-dialog-box');
        await dialog.waitFor({ state: 'visible', timeout: 30_000 });
        const said = (await dialog.innerText()).replace(/\s+/g, ' ');
        step(`VS Code’s dialog: ${said}`);
        assert.match(said, /trust/i);
        await sleep(3000);
        assert.equal(await seenBy(port), undefined, 'the program has not started');
        await shot('trust-2-dialog');
        await dialog.locator('.monaco-button', { hasText: /Trust/ }).first().click();
        await dialog.waitFor({ state: 'hidden', timeout: 30_000 });
      });

      await claim('trusted: the rule still does not act (the payments calls get the server’s 200) and a warning names it', async () => {
        const first = await until(
          'three payments calls finished',
          async () => {
            // Three finished calls, whatever their answer (a refused one fails the test at once).
            const done = (await rows(page)).filter((r) => r.path === '/api/pay' && /^\d{3}$|^E[A-Z]+/.test(r.status));
            return done.length >= 3 && done;
          },
          180_000,
          500,
        );
        step(`payments rows: ${JSON.stringify(first)}`);
        assert.ok(
          first.every((r) => r.status === '200' && r.badge === ''),
          'no payments call failed, none carries the what-if badge',
        );
        const seen = await seenBy(port);
        assert.ok(seen && seen.length >= 3, `the server received the calls: ${JSON.stringify(seen)}`);
        assert.equal(await bannerText(page), '', 'the banner is gone once the workspace is trusted');
        const warning = await until('the warning naming the rule', () => notification(page, 'pay-down'), 60_000, 2000);
        const message = (await warning.locator('.notification-list-item-message').textContent()) ?? '';
        step(`warning: ${message}`);
        assert.ok(message.includes(RULE_WORDS), `the rule in words: ${message}`);
        assert.match(message, /changes what the program receives/);
        await runCommand(page, 'Notifications: Show Notifications');
        await shot('trust-3-warning');
      });

      await claim(
        '“Allow in This Workspace” turns it on: the next run’s payments calls are refused (badge), the server receives none',
        async () => {
          const warning = await until('the warning naming the rule', () => notification(page, 'pay-down'), 30_000, 2000);
          await warning.locator('.monaco-button', { hasText: 'Allow in This Workspace' }).click();
          step('allowed');
          await sessionEnded(page, 'the first run to end', 90_000);
          await startDebugging(page, CONFIG);
          const refused = await until(
            'two payments calls refused by the rule',
            async () => {
              const pay = (await rows(page)).filter((r) => r.path === '/api/pay' && r.badge === 'what if');
              return pay.length >= 2 && pay;
            },
            180_000,
            500,
          );
          step(`refused: ${JSON.stringify(refused)}`);
          const seen = await seenBy(port);
          step(`the server received: ${JSON.stringify(seen)}`);
          assert.deepEqual(seen, [], 'the server received no payments call of this run');
          await sessionEnded(page, 'the second run to end', 90_000);
          const all = await rows(page);
          const pay = all.filter((r) => r.path === '/api/pay');
          step(`second run: ${JSON.stringify(pay)}`);
          assert.equal(pay.length, CALLS, 'the panel shows this run’s payments calls');
          assert.ok(
            pay.every((r) => r.badge === 'what if' && /ECONNREFUSED|refused|failed|err/i.test(r.status)),
            'each refused by the rule, with the badge',
          );
          assert.deepEqual(
            all.filter((r) => r.path === '/api/stock').map((r) => `${r.status} ${r.badge}`.trim()),
            Array(CALLS).fill('200'),
            'the inventory calls, which the rule does not match, get the server’s 200',
          );
          await shot('trust-4-allowed');
        },
      );
    });
  },
);
