// covers: webview/rulesView.ts
// The panel's Rules view (webview/rulesView.ts) in headless Chromium through the stub host: opened
// from the toolbar (or its overflow menu at 400 px), the session's rules with their action, limit,
// counts (updated live) and "limit reached"; toggle, add (a bad condition shown with its column
// and caret before anything is sent, then a host refusal shown too), edit, delete with a
// confirmation, all by keyboard; a `reveal` opens it on a rule; a request a rule dropped at its end
// (`update.removed`) leaves the list. Screenshots at 540 and 1440 px go to
// test-results/webview-rules/ (look at them). Skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DARK_THEME,
  browserUnavailable,
  buildPanel,
  launchBrowser,
  openPanel,
  postAndWait,
  servePanel,
} from '../webview-harness/harness.mjs';
import { LIGHT_THEME } from '../webview-harness/lightTheme.mjs';
import { syntheticTrace } from '../webview-harness/synthetic.mjs';

const why = browserUnavailable();
const skip = why ? `webview rules test skipped: ${why}` : false;
const shots = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'webview-rules');

const TRACES = {
  type: 'traces',
  traces: [{ traceKey: 'cur', label: 'node app.js', origin: 'current', live: true }],
  activeTraceKey: 'cur',
};

const RULES = [
  {
    id: 'break-get-api',
    name: 'Break on GET api.example.com/v1/users/*',
    condition: 'method == "GET" and host == "api.example.com" and path ~ "/v1/users/*"',
    action: 'break',
    limit: null,
    enabled: true,
    matched: 3,
    acted: 3,
    limitReached: false,
    origin: 'workspace',
  },
  {
    id: 'no-health',
    name: 'no-health',
    condition: 'path == "/health" and not failed',
    action: 'skip',
    limit: 10,
    enabled: true,
    matched: 14,
    acted: 10,
    limitReached: true,
    origin: 'launch',
  },
  {
    id: 'orders-bodies',
    name: 'Capture bodies of POST api.example.com/v1/orders',
    condition: 'method == "POST" and host == "api.example.com" and path == "/v1/orders"',
    action: 'details',
    details: ['bodies'],
    limit: null,
    enabled: false,
    matched: 0,
    acted: 0,
    limitReached: false,
    origin: 'workspace',
  },
];

const rulesMsg = (rules, extra = {}) => ({ type: 'rules', traceKey: 'cur', scope: 'session', defaultAction: 'trace', rules, ...extra });

/** Posts a host message and waits until `pred` (a page function source) holds. */
async function send(page, msg, pred) {
  await page.evaluate((m) => window.postMessage(m, '*'), msg);
  if (pred) await page.waitForFunction(pred);
}

/** The ruleEdit messages posted so far. */
const edits = (page) => page.evaluate(() => window.__host.posted.filter((m) => m.type === 'ruleEdit'));

async function load(page, width) {
  await page.evaluate((m) => window.postMessage(m, '*'), TRACES);
  const trace = syntheticTrace(200);
  await postAndWait(page, { type: 'reset', traceKey: 'cur', live: true, trace }, '(d) => d.requests === 200');
  await send(page, rulesMsg(RULES), () => document.querySelector('.rules-count')?.textContent === '2');
  void width;
  return trace;
}

/** Horizontal overflow anywhere that would shift the page, and rules view items wider than it. */
function overflow(page) {
  return page.evaluate(() => {
    const view = document.querySelector('.rules-view');
    const items = [...view.querySelectorAll('.rule-item, .rule-form')].filter(
      (el) => el.getBoundingClientRect().right > view.getBoundingClientRect().right + 0.5,
    );
    return {
      doc: document.documentElement.scrollWidth > innerWidth || document.body.scrollWidth > innerWidth,
      view: view.scrollWidth > view.clientWidth + 1,
      items: items.map((i) => i.className),
    };
  });
}

test(
  'rules view: list, counts, toggle, add with a caret error, edit, delete — by keyboard; reveal; dropped rows leave',
  { skip, timeout: 180_000 },
  async () => {
    mkdirSync(shots, { recursive: true });
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openPanel(browser, server.url, { width: 1440, height: 800 });
      await load(page, 1440);
      assert.equal(await page.isVisible('.rules-view'), false, 'closed until asked');
      assert.equal(await page.getAttribute('.rules-toggle', 'aria-label'), 'Trace rules (2 enabled)');

      // Open from the toolbar by keyboard: focus the toggle, Enter.
      await page.focus('.rules-toggle');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.rules-view:not([hidden])');
      assert.equal(await page.getAttribute('.rules-toggle', 'aria-pressed'), 'true');
      assert.equal(await page.evaluate(() => document.activeElement?.className), 'rule-enabled', 'focus goes to the first rule');
      // A page reload (VS Code discards a hidden panel's page, e.g. when a break pause opens its
      // script over it) brings the view back open, without taking the focus; a new panel does not.
      await page.waitForFunction(() => window.__host.state?.rulesOpen === true);
      const state = await page.evaluate(() => window.__host.state);
      const reloaded = await openPanel(browser, server.url, { width: 1440, height: 800, state });
      await load(reloaded.page, 1440);
      await reloaded.page.waitForSelector('.rules-view:not([hidden])');
      assert.equal(await reloaded.page.getAttribute('.rules-toggle', 'aria-pressed'), 'true');
      assert.equal(await reloaded.page.evaluate(() => document.querySelector('.rules-view').contains(document.activeElement)), false);
      const saves = await reloaded.page.evaluate(() => window.__host.posted.filter((m) => m.type === 'saveState'));
      assert.ok(
        saves.every((m) => !('rulesOpen' in m.state)),
        'the workspace copy does not open the view in new panels',
      );
      assert.deepEqual(reloaded.errors, []);
      await reloaded.page.close();
      const rows = await page.$$eval('.rules-list:not(.rules-saved-list) .rule-item', (els) =>
        els.map((el) => ({
          name: el.querySelector('.rule-name').textContent,
          cond: el.querySelector('.rule-cond').textContent,
          badges: [...el.querySelectorAll('.rule-badge')].map((b) => b.textContent.trim()),
          counts: el.querySelector('.rule-counts').textContent,
          enabled: el.querySelector('.rule-enabled').checked,
          origin: el.querySelector('.rule-origin')?.textContent ?? '',
        })),
      );
      assert.deepEqual(
        rows.map((r) => [r.name, r.badges, r.counts, r.enabled, r.origin]),
        [
          ['Break on GET api.example.com/v1/users/*', ['break', 'no limit'], 'matched 3acted 3', true, ''],
          ['no-health', ['skip', 'limit 10 per process', 'limit reached'], 'matched 14acted 10', true, 'launch.json / setting'],
          ['Capture bodies of POST api.example.com/v1/orders', ['details: bodies', 'no limit'], 'matched 0acted 0', false, ''],
        ],
      );
      assert.equal(rows[1].cond, 'path == "/health" and not failed');
      assert.match(await page.textContent('.rules-scope'), /every process of this session/);

      // Counters update live.
      const live = structuredClone(RULES);
      live[0].matched = 5;
      live[0].acted = 5;
      await send(page, rulesMsg(live), () => document.querySelector('.rule-item .rule-counts').textContent === 'matched 5acted 5');
      assert.equal(await page.evaluate(() => document.activeElement?.className), 'rule-enabled', 'a counter update keeps the focus');

      // Toggle by keyboard: Space on the focused checkbox asks the host; its answer is kept.
      await page.keyboard.press('Space');
      await page.waitForFunction(() => window.__host.posted.some((m) => m.type === 'ruleEdit'));
      let e = (await edits(page)).at(-1);
      assert.deepEqual(
        { op: e.op, id: e.id, enabled: e.enabled, scope: e.scope, traceKey: e.traceKey },
        { op: 'setEnabled', id: 'break-get-api', enabled: false, scope: 'session', traceKey: 'cur' },
      );
      live[0].enabled = false;
      await send(page, { type: 'ruleResult', requestId: e.requestId, ok: true, id: 'break-get-api' });
      await send(page, rulesMsg(live), () => document.querySelector('.rules-count')?.textContent === '1');
      assert.equal(await page.$eval('.rule-item', (el) => el.classList.contains('is-disabled')), true);

      // Add: the form opens with "Enabled" unticked (a new rule starts disabled); a bad condition
      // shows its problem, column and caret before anything is sent.
      await page.click('.rules-add');
      await page.waitForSelector('.rule-form:not([hidden])');
      assert.equal(await page.evaluate(() => document.activeElement?.closest('.rule-field')?.classList.contains('rule-field-name')), true);
      assert.equal(await page.$eval('.rule-form-foot .rule-check', (c) => c.checked), false);
      await page.keyboard.type('Slow API');
      await page.selectOption('.rule-form select', 'mark');
      assert.equal(await page.isVisible('.rule-field-tag'), true, 'mark shows its tag');
      await page.fill('.rule-condition', 'status >= "500"');
      await page.waitForSelector('.rule-error .rule-caret');
      assert.match(await page.textContent('.rule-error'), /status is a number: expected a number, found the string "500" \(column 11\)/);
      assert.equal(await page.textContent('.rule-caret'), '  status >= "500"\n            ^');
      assert.equal(await page.getAttribute('.rule-condition', 'aria-invalid'), 'true');
      const before = (await edits(page)).length;
      await page.press('.rule-condition', 'Enter');
      assert.equal((await edits(page)).length, before, 'nothing sent while the condition is wrong');
      assert.equal(await page.evaluate(() => document.activeElement?.selectionStart), 10, 'the caret goes to the error');

      await page.fill('.rule-condition', 'duration > 2s');
      await page.fill('.rule-form .rule-limit', '50');
      await page.press('.rule-condition', 'Enter');
      await page.waitForFunction((n) => window.__host.posted.filter((m) => m.type === 'ruleEdit').length > n, before);
      e = (await edits(page)).at(-1);
      assert.deepEqual(e.rule, { name: 'Slow API', condition: 'duration > 2s', action: 'mark', limit: 50, enabled: false });
      // The host refuses (an id taken, say): the form stays, with the host's words.
      await send(page, {
        type: 'ruleResult',
        requestId: e.requestId,
        ok: false,
        problem: { message: 'rule "slow-api": a rule with this id exists already', field: 'id' },
      });
      await page.waitForFunction(() => /exists already/.test(document.querySelector('.rule-error').textContent));
      assert.equal(await page.isVisible('.rule-form'), true);
      await page.press('.rule-condition', 'Enter');
      await page.waitForFunction((n) => window.__host.posted.filter((m) => m.type === 'ruleEdit').length > n + 1, before);
      e = (await edits(page)).at(-1);
      const added = {
        id: 'slow-api',
        name: 'Slow API',
        condition: 'duration > 2s',
        action: 'mark',
        tag: 'Slow API',
        limit: 50,
        enabled: false,
        matched: 0,
        acted: 0,
        limitReached: false,
        origin: 'workspace',
      };
      live.unshift(added);
      await send(page, { type: 'ruleResult', requestId: e.requestId, ok: true, id: 'slow-api' });
      await send(page, rulesMsg(live), () => document.querySelectorAll('.rules-view > .rules-list .rule-item').length === 4);
      assert.equal(await page.isVisible('.rule-form'), false, 'the form closes once the host took it');

      // Edit the second rule by keyboard: Tab from its toggle to Edit, Enter, change, Enter.
      await page.focus('.rule-item[data-rule-id="break-get-api"] .rule-edit');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.rule-item.is-editing + .rule-form-slot .rule-form');
      assert.equal(await page.inputValue('.rule-condition'), RULES[0].condition);
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('rule-condition')), true);
      await page.fill('.rule-condition', 'method == "GET" and host == "api.example.com"');
      // The counters of a live session move while someone types: the form keeps its focus and text.
      live[1].matched = 9;
      await send(
        page,
        rulesMsg(live),
        () => document.querySelector('[data-rule-id="break-get-api"] .rule-counts').textContent === 'matched 9acted 5',
      );
      assert.equal(
        await page.evaluate(() => document.activeElement?.classList.contains('rule-condition')),
        true,
        'focus stays in the form',
      );
      assert.equal(await page.inputValue('.rule-condition'), 'method == "GET" and host == "api.example.com"');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => window.__host.posted.filter((m) => m.type === 'ruleEdit').at(-1).op === 'update');
      e = (await edits(page)).at(-1);
      assert.equal(e.id, 'break-get-api');
      assert.equal(e.rule.condition, 'method == "GET" and host == "api.example.com"');
      assert.equal(e.rule.id, undefined, 'the id is not part of the change');
      // Escape in the form cancels it (the view stays open).
      await page.focus('.rule-condition');
      await page.keyboard.press('Escape');
      await page.waitForSelector('.rule-form', { state: 'hidden' });
      assert.equal(await page.isVisible('.rules-view'), true);

      // Delete asks first; Keep keeps, Delete sends.
      await page.focus('.rule-item[data-rule-id="orders-bodies"] .rule-delete');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.rule-confirm');
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.role), 'confirm');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => window.__host.posted.filter((m) => m.type === 'ruleEdit').at(-1).op === 'delete');
      assert.equal((await edits(page)).at(-1).id, 'orders-bodies');

      // Screenshots (look at them): wide, with an error in the form.
      await page.click('.rules-add');
      await page.fill('.rule-condition', '(host == "a" or host == "b"');
      await page.waitForSelector('.rule-error .rule-caret');
      await page.screenshot({ path: join(shots, 'rules-1440.png') });
      let o = await overflow(page);
      assert.deepEqual(o, { doc: false, view: false, items: [] }, '1440 px: nothing wider than the view');
      await page.keyboard.press('Escape');

      // Escape in the view closes it, focus back on the toolbar toggle.
      await page.focus('.rule-item .rule-enabled');
      await page.keyboard.press('Escape');
      await page.waitForSelector('.rules-view', { state: 'hidden' });
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('rules-toggle')), true);

      // A `reveal` (a rule just added from a row's menu) opens the view on that rule.
      await send(page, rulesMsg(live, { reveal: 'no-health' }), () => !document.querySelector('.rules-view').hidden);
      assert.equal(await page.$eval('.rule-item.revealed', (el) => el.dataset.ruleId), 'no-health');

      // A request dropped at its end by a keep rule leaves the list (and the counts).
      await postAndWait(page, { type: 'update', traceKey: 'cur', removed: ['req-3', 'req-4', 'nope'] }, '(d) => d.requests === 198');
      assert.match(await page.textContent('.status-left'), /^198 requests/);
      assert.equal(await page.$$eval('.list-rows .row', (rows) => rows.some((r) => r.textContent.includes('req-3'))), false);

      assert.deepEqual(errors, []);
      await page.close();

      // 540 px, dark and light: wraps, nothing overflows; screenshots.
      for (const [name, theme, kind] of [
        ['dark', DARK_THEME, 'vscode-dark'],
        ['light', LIGHT_THEME, 'vscode-light'],
      ]) {
        const { page: p, errors: errs } = await openPanel(browser, server.url, { width: 540, height: 760, theme, themeKind: kind });
        await load(p, 540);
        await p.evaluate(() => document.querySelector('.rules-toggle').click());
        await p.waitForSelector('.rules-view:not([hidden])');
        await p.screenshot({ path: join(shots, `rules-540-${name}.png`) });
        o = await overflow(p);
        assert.deepEqual(o, { doc: false, view: false, items: [] }, `540 px ${name}: nothing wider than the view`);
        await p.click('.rule-item[data-rule-id="no-health"] .rule-edit');
        await p.fill('.rule-condition', 'path == "/health" and not faild');
        await p.waitForSelector('.rule-error .rule-caret');
        await p.screenshot({ path: join(shots, `rules-540-${name}-edit.png`) });
        o = await overflow(p);
        assert.deepEqual(o, { doc: false, view: false, items: [] }, `540 px ${name}: the form fits`);
        assert.deepEqual(errs, []);
        await p.close();
      }

      // 400 px: the toggle is in the toolbar or its overflow menu; either way the view opens.
      const { page: narrow } = await openPanel(browser, server.url, { width: 400, height: 700 });
      await load(narrow, 400);
      await narrow.waitForTimeout(100);
      if (await narrow.isVisible('.rules-toggle')) await narrow.click('.rules-toggle');
      else {
        await narrow.click('.toolbar-more');
        await narrow.click('.menu [role^="menuitem"]:has-text("Trace rules")');
      }
      await narrow.waitForSelector('.rules-view:not([hidden])');
      await narrow.screenshot({ path: join(shots, 'rules-400.png') });
      assert.deepEqual(await overflow(narrow), { doc: false, view: false, items: [] }, '400 px: nothing wider than the view');
      await narrow.close();
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);
