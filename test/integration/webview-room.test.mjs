// covers: webview/layout.ts, webview/rulesLine.ts
// Room to see what a rule did (issue 66, finding 1), in headless Chromium through the stub host:
// the panel as F5 leaves a 1440×900 window with Run and Debug and the Debug Console open (the
// webview about 538×505), and the same window at 200% zoom (about 241×178 CSS pixels). A what-if
// rule made from a row's menu is named in a line under the toolbar, not in a Rules view over half
// of the panel; the list shows at least 8 rows and the selected request's detail its tabs whole
// and at least 120 px of their content, together (at 200%: each in full, the panel scrolled to
// it); the detail of a request both changed by a rule and sent again keeps its tab bar whole; the
// Summary view opens with its routes in sight and no column cut at the right. In a tall panel the
// Rules view still opens on the new rule. axe-clean. Screenshots in test-results/webview-room/.
// Skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';
import { syntheticTrace } from '../webview-harness/synthetic.mjs';
import { NOT_DRAWN, runAxe, severe } from '../webview-harness/a11y.mjs';

const why = browserUnavailable();
const skip = why ? `webview room test skipped: ${why}` : false;
const shots = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'webview-room');
const RULE = 'fail-get-pay';
const NAME = 'Fail GET 127.0.0.1:43469/api/pay (connection refused)';

/** A live trace of 40 requests: every fifth failed by the what-if rule, one of them also sent again. */
function whatIfTrace() {
  const trace = syntheticTrace(40);
  trace.httpRequests.forEach((r, i) => {
    if (i % 5 !== 3) return;
    r.whatIf = { rule: RULE, name: NAME, action: 'fail', kind: 'refused' };
    r.diagnosis = `What if: rule ${JSON.stringify(NAME)} made this request fail (connection refused); the network and the server had no part in it. The program saw: Error: connect ECONNREFUSED 127.0.0.1:43469`;
  });
  const both = trace.httpRequests[33];
  both.repeatOf = trace.httpRequests[28].traceID;
  return { trace, whatIf: trace.httpRequests[28].traceID, both: both.traceID };
}

/** The Rules message of a live session with the rule just made from a row's menu (`reveal`). */
const rulesMessage = (reveal) => ({
  type: 'rules',
  traceKey: 'cur',
  scope: 'session',
  defaultAction: 'trace',
  rules: [
    {
      id: RULE,
      name: NAME,
      condition: 'method == "GET" and host == "127.0.0.1" and port == 43469 and path == "/api/pay"',
      action: 'fail',
      fail: { kind: 'refused' },
      limit: 3,
      enabled: true,
      matched: 1,
      acted: 1,
      limitReached: false,
      origin: 'panel',
    },
  ],
  ...(reveal ? { reveal: RULE, revealAs: 'line' } : {}),
});

async function open(browser, server, size) {
  const { page, errors } = await openPanel(browser, server.url, size);
  await page.evaluate(() =>
    window.postMessage(
      {
        type: 'traces',
        traces: [{ traceKey: 'cur', label: 'payments.ts — Net Trace: what if', origin: 'current', live: true }],
        activeTraceKey: 'cur',
      },
      '*',
    ),
  );
  const t = whatIfTrace();
  await postAndWait(page, { type: 'reset', traceKey: 'cur', live: true, traceJson: JSON.stringify(t.trace) }, '(d) => d.requests === 40');
  return { page, errors, ...t };
}

/** Selects a request the way a click does, and waits for its detail. */
async function select(page, traceID) {
  await postAndWait(
    page,
    { type: 'select', traceKey: 'cur', traceID },
    `(d) => d.selectedId === ${JSON.stringify(traceID)} && d.detailOpen`,
  );
  await page.waitForSelector('.main.detail-open .detail-title');
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/**
 * What is in sight: the list's rows wholly in its viewport (and the page's), the detail content's
 * height in sight, each tab's box against the tab bar's and the page's, the page's scroll.
 */
function room(page) {
  return page.evaluate(() => {
    const seen = (el) => {
      let { top, bottom, left, right } = el.getBoundingClientRect();
      for (let e = el.parentElement; e; e = e.parentElement) {
        const r = e.getBoundingClientRect();
        const s = getComputedStyle(e);
        if (s.overflowY !== 'visible' || e === document.documentElement) {
          top = Math.max(top, r.top);
          bottom = Math.min(bottom, r.bottom);
        }
        if (s.overflowX !== 'visible' || e === document.documentElement) {
          left = Math.max(left, r.left);
          right = Math.min(right, r.right);
        }
      }
      top = Math.max(top, 0);
      bottom = Math.min(bottom, innerHeight);
      return { h: Math.max(0, Math.round(bottom - top)), w: Math.max(0, Math.round(right - left)) };
    };
    const body = document.querySelector('.list-body');
    const head = body.querySelector('.list-head').getBoundingClientRect();
    const rows = [...document.querySelectorAll('.list-rows .row')].filter((r) => {
      if (r.style.display === 'none') return false;
      const b = r.getBoundingClientRect();
      return b.height > 0 && b.top >= head.bottom - 0.5 && seen(r).h >= b.height - 0.5;
    }).length;
    const content = document.querySelector('.detail-content');
    const tabs = [...document.querySelectorAll('.tabs [role=tab]')].map((t) => {
      const b = t.getBoundingClientRect();
      return { tab: t.textContent, h: Math.round(b.height), seen: seen(t) };
    });
    const app = document.querySelector('.app');
    return {
      viewport: `${innerWidth}×${innerHeight}`,
      side: document.querySelector('.main').classList.contains('side'),
      rows,
      rowViewport: Math.round(body.clientHeight - head.height),
      content: seen(content).h,
      contentBox: Math.round(content.getBoundingClientRect().height),
      tabsCut: tabs.filter((t) => t.seen.h < t.h - 0.5 || t.seen.w < 8).map((t) => `${t.tab} ${JSON.stringify(t.seen)}/${t.h}`),
      whatIf: seen(document.querySelector('.detail-whatif') ?? content).h,
      rulesView: !document.querySelector('.rules-view').hidden,
      line: document.querySelector('.rules-line').hidden ? '' : document.querySelector('.rules-line-text').textContent,
      scroll: { top: app.scrollTop, height: app.scrollHeight, client: app.clientHeight },
      wide: document.documentElement.scrollWidth > innerWidth,
    };
  });
}

test(
  'the F5 layout with the Debug Console (538×505): the rule in a line, 8 rows and the detail side by side, tabs whole',
  { skip, timeout: 180_000 },
  async () => {
    mkdirSync(shots, { recursive: true });
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const { page, errors, whatIf, both } = await open(browser, server, { width: 538, height: 505 });
      // The user had a request's detail open, then made the rule from a row's menu.
      await select(page, whatIf);
      await postAndWait(page, rulesMessage(true));
      let r = await room(page);
      assert.equal(r.rulesView, false, 'the Rules view stays closed in a short panel');
      assert.match(r.line, /^What-if rule on: "Fail GET 127\.0\.0\.1:43469\/api\/pay \(connection refused\)" — fail refused · limit 3/);
      assert.ok(r.side, `the detail beside the list: ${JSON.stringify(r)}`);
      assert.ok(r.rows >= 8, `8 rows in sight: ${JSON.stringify(r)}`);
      assert.ok(r.content >= 120, `the tab content in sight (${r.content} px): ${JSON.stringify(r)}`);
      assert.deepEqual(r.tabsCut, [], 'every tab whole');
      assert.equal(r.scroll.top, 0);
      assert.ok(r.scroll.height <= r.scroll.client, 'the page does not scroll');
      assert.ok(r.whatIf > 40, 'the what-if line in sight');
      await page.screenshot({ path: join(shots, 'f5-console-what-if.png') });
      // Changed by the rule and sent again: the tab bar stays whole, the content in sight.
      await select(page, both);
      r = await room(page);
      assert.ok(r.rows >= 8 && r.content >= 120, JSON.stringify(r));
      assert.deepEqual(r.tabsCut, [], 'every tab whole (what-if and sent again)');
      await page.screenshot({ path: join(shots, 'f5-console-sent-again.png') });
      const violations = severe(await runAxe(page));
      assert.deepEqual(
        violations.map((v) => `${v.id}: ${v.targets.slice(0, 2).join(' | ')}`),
        [],
      );
      // The line's Show Rules opens the view on the rule; the line goes.
      await page.click('.rules-line-show');
      await page.waitForSelector('.rules-view:not([hidden]) .rule-item.revealed');
      assert.equal(await page.isHidden('.rules-line'), true);
      await page.screenshot({ path: join(shots, 'f5-console-rules-view.png') });
      await page.keyboard.press('Escape');
      // The Summary view: routes in sight, nothing cut at the right.
      await page.evaluate(() => document.querySelector('.summary-toggle').click());
      await page.waitForSelector('.summary-routes tbody tr');
      const s = await page.evaluate(() => {
        const view = document.querySelector('.summary-view').getBoundingClientRect();
        const rows = [...document.querySelectorAll('.summary-routes tbody tr')].filter((tr) => {
          const b = tr.getBoundingClientRect();
          return b.top >= view.top && b.bottom <= view.bottom;
        });
        const cells = [...document.querySelectorAll('.summary-routes th, .summary-routes td')].filter((c) => c.getClientRects().length);
        return {
          rows: rows.length,
          cut: cells.filter((c) => c.getBoundingClientRect().right > view.right + 0.5).map((c) => c.textContent),
          list: document.querySelector('.list-body').clientHeight,
        };
      });
      assert.ok(s.rows >= 3, `routes in sight in the Summary view: ${JSON.stringify(s)}`);
      assert.deepEqual(s.cut, [], 'no column cut at the right');
      await page.screenshot({ path: join(shots, 'f5-console-summary.png') });
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);

test(
  'at 200% zoom (241×178 CSS px): the panel scrolls; the list keeps 8 rows, the detail its tabs and 120 px of content',
  { skip, timeout: 180_000 },
  async () => {
    mkdirSync(shots, { recursive: true });
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const { page, errors, both } = await open(browser, server, { width: 241, height: 178 });
      await select(page, both);
      await postAndWait(page, rulesMessage(true));
      const r = await room(page);
      assert.equal(r.rulesView, false);
      assert.ok(r.line.startsWith('What-if rule on'), r.line);
      assert.equal(r.side, false, 'too narrow for side by side');
      assert.ok(r.rowViewport >= 8 * 36, `the list has room for 8 rows: ${JSON.stringify(r)}`);
      assert.ok(r.contentBox >= 120, `the tab content is 120 px at least: ${JSON.stringify(r)}`);
      assert.equal(r.wide, false, 'nothing wider than the panel');
      // Scrolled to the list: 8 rows or as many as the viewport holds, whole; then to the detail's content.
      await page.evaluate(() => document.querySelector('.list-body').scrollIntoView({ block: 'start' }));
      const list = await room(page);
      // Whole rows fill the viewport under the list's header (one may be cut at each end).
      assert.ok(list.rows >= Math.floor((178 - 24) / 36) - 1, JSON.stringify(list));
      await page.screenshot({ path: join(shots, 'zoom-200-list.png') });
      await page.evaluate(() => document.querySelector('.tabbar').scrollIntoView({ block: 'start' }));
      const detail = await room(page);
      assert.deepEqual(detail.tabsCut, [], `every tab whole: ${JSON.stringify(detail)}`);
      assert.ok(detail.content >= 100, `the content in sight under the tabs: ${JSON.stringify(detail)}`);
      await page.screenshot({ path: join(shots, 'zoom-200-detail.png') });
      // Moving through the list from the keyboard brings the selected row into the panel's sight.
      await page.evaluate(() => document.querySelector('.app').scrollTo(0, 0));
      await page.focus('.list-body');
      for (const key of ['Home', 'End', 'PageUp']) {
        await page.keyboard.press(key);
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const id = await page.$eval('.list-rows .row.selected', (r) => r.id);
        assert.equal(await page.evaluate(NOT_DRAWN, `[id="${id}"] .c-status`), '', `${key}: the selected row in sight`);
      }
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);

test('a tall panel (540×820): the Rules view opens on the new rule, the detail under the list', { skip, timeout: 120_000 }, async () => {
  mkdirSync(shots, { recursive: true });
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    const { page, errors, whatIf } = await open(browser, server, { width: 540, height: 820 });
    await select(page, whatIf);
    await postAndWait(page, rulesMessage(true));
    const r = await room(page);
    assert.equal(r.rulesView, true, 'room for the Rules view: it opens on the rule');
    assert.equal(r.line, '');
    assert.equal(r.side, false);
    assert.ok(r.rows >= 8 && r.content >= 120, JSON.stringify(r));
    await page.screenshot({ path: join(shots, 'tall-rules-view.png') });
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await browser.close();
    await server.close();
    panel.cleanup();
  }
});
