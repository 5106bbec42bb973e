// covers: webview/columns.ts, webview/toolbarOverflow.ts, webview/styles/
// The panel's layout in headless Chromium at 400, 540, 800, 1280 and 2560 px, dark and light:
// every column reachable (shown, or shown through the column menu, then scrolled to), the
// waterfall visible with a labelled header, a one-line toolbar, and no document shift whatever gets
// focus. Also: column hide/resize remembered across a reload, keyboard reach with visible focus,
// ARIA grid/tab roles, and the contrast of error text in the light theme. Screenshots go to
// test-results/webview-layout/ (look at them). Skipped without /usr/bin/chromium.
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
const skip = why ? `webview layout test skipped: ${why}` : false;
const shots = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'webview-layout');
const WIDTHS = [400, 540, 800, 1280, 2560];
const THEMES = [
  ['dark', DARK_THEME, 'vscode-dark'],
  ['light', LIGHT_THEME, 'vscode-light'],
];
const COLUMN_IDS = ['name', 'method', 'status', 'client', 'conn', 'duration', 'size', 'initiator', 'waterfall'];
const TRACES = {
  type: 'traces',
  traces: [{ traceKey: 'cur', label: 'node app.js', origin: 'current', live: false }],
  activeTraceKey: 'cur',
};

async function load(page, trace) {
  await page.evaluate((m) => window.postMessage(m, '*'), TRACES);
  await postAndWait(page, { type: 'reset', traceKey: 'cur', live: false, trace }, `(d) => d.requests === ${trace.httpRequests.length}`);
}

/** Page geometry that must never change: the document is not scrolled and nothing overflows it. */
function shift(page) {
  return page.evaluate(() => {
    const els = [
      document.scrollingElement,
      document.body,
      document.querySelector('.app'),
      document.querySelector('.main'),
      document.querySelector('.list'),
      document.querySelector('.toolbar'),
    ];
    return {
      scrolled: els.filter((e) => e && (e.scrollLeft !== 0 || e.scrollTop !== 0)).map((e) => e.className || e.tagName),
      overflow: document.documentElement.scrollWidth > innerWidth || document.body.scrollWidth > innerWidth,
    };
  });
}

/** Scrolls the list so a header cell is in view; returns whether it is fully inside the list. */
function reach(page, id) {
  return page.evaluate((id) => {
    const body = document.querySelector('.list-body');
    const cell = document.querySelector(`.list-header .c-${id}`);
    if (!cell || getComputedStyle(cell).display === 'none') return { shown: false };
    const c0 = cell.getBoundingClientRect();
    const b0 = body.getBoundingClientRect();
    if (c0.left < b0.left) body.scrollLeft -= b0.left - c0.left;
    else if (c0.right > b0.left + body.clientWidth) body.scrollLeft += c0.right - (b0.left + body.clientWidth);
    const c = cell.getBoundingClientRect();
    const b = body.getBoundingClientRect();
    const inside = c.width > 20 && c.left >= b.left - 0.5 && c.right <= b.left + body.clientWidth + 0.5;
    body.scrollLeft = 0;
    return { shown: true, inside, label: cell.getAttribute('aria-label') ?? '', text: cell.textContent };
  }, id);
}

test(
  'layout: every width and theme — columns reachable, waterfall visible, one-line toolbar, no shift',
  { skip, timeout: 240_000 },
  async () => {
    mkdirSync(shots, { recursive: true });
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const trace = syntheticTrace(300);
      for (const [themeName, theme, themeKind] of THEMES) {
        for (const width of WIDTHS) {
          const at = `${themeName} ${width}px`;
          const { page, errors } = await openPanel(browser, server.url, { width, height: 720, theme, themeKind });
          await load(page, trace);
          await page.click('.list-rows .row:nth-child(2)');
          await page.waitForSelector('.main.detail-open .detail-title');
          await page.waitForTimeout(150);

          // Toolbar: one line, nothing cut off.
          const tb = await page.evaluate(() => {
            const t = document.querySelector('.toolbar');
            const r = t.getBoundingClientRect();
            const kids = [...t.children].filter((c) => getComputedStyle(c).display !== 'none');
            return {
              h: r.height,
              w: Math.round(r.width),
              cut: kids.filter((c) => c.getBoundingClientRect().right > r.right + 0.5).map((c) => c.className),
              widths: kids.map((c) => `${c.className}:${Math.round(c.getBoundingClientRect().width)}`).join(' '),
              tops: new Set(kids.map((c) => Math.round(c.getBoundingClientRect().top + c.getBoundingClientRect().height / 2))).size,
            };
          });
          assert.ok(tb.h <= 36, `${at}: toolbar is one line (${tb.h}px)`);
          assert.deepEqual(tb.cut, [], `${at}: no toolbar group cut off (toolbar ${tb.w} px: ${tb.widths})`);

          // The waterfall column is on screen without scrolling, and its header is labelled.
          const wf = await page.evaluate(() => {
            const cell = document.querySelector('.list-header .c-waterfall');
            const r = cell.getBoundingClientRect();
            const body = document.querySelector('.list-body');
            return {
              w: r.width,
              right: r.right,
              inner: body.getBoundingClientRect().left + body.clientWidth,
              label: cell.getAttribute('aria-label'),
            };
          });
          assert.ok(wf.w >= 60 && wf.right <= wf.inner + 0.5, `${at}: waterfall visible (${JSON.stringify(wf)})`);
          assert.equal(wf.label, 'Waterfall', `${at}: waterfall header labelled`);
          // Its time axis has tick labels inside the column (the axis itself is waterfallView.ts's).
          const ticks = await page.$$eval('.list-header .c-waterfall .wf-tick', (ts) => {
            const cell = document.querySelector('.list-header .c-waterfall').getBoundingClientRect();
            return ts.filter((t) => {
              const r = t.getBoundingClientRect();
              return r.left >= cell.left - 0.5 && r.right <= cell.right + 0.5 && /\d/.test(t.textContent);
            }).length;
          });
          assert.ok(ticks >= (width >= 540 ? 2 : 1), `${at}: the waterfall axis is labelled (${ticks} tick labels)`);
          const layout = await page.evaluate(() => window.__nettraceApp.list.columnLayout);
          for (const id of ['name', 'method', 'status', 'duration', 'waterfall'])
            assert.ok(layout.shown.includes(id), `${at}: essential ${id} shown`);
          await page.screenshot({ path: join(shots, `${themeName}-${width}.png`) });

          // Collapsed columns are in the column menu, unchecked, and showing them makes them reachable
          // (showing one may collapse another: repeat until the user has asked for all of them).
          const names = { client: 'Client', conn: 'Conn', size: 'Size', initiator: 'Initiator' };
          for (let i = 0; i < 8; i++) {
            const { collapsed } = await page.evaluate(() => window.__nettraceApp.list.columnLayout);
            if (!collapsed.length) break;
            await page.click('.col-menu-button');
            const item = page.locator('.menu [role=menuitemcheckbox]', { hasText: new RegExp(`^${names[collapsed[0]]}`) });
            assert.equal(await item.getAttribute('aria-checked'), 'false', `${at}: ${collapsed[0]} unchecked in the menu`);
            assert.match(await item.textContent(), /hidden at this width/);
            await item.click();
          }
          assert.deepEqual((await page.evaluate(() => window.__nettraceApp.list.columnLayout)).collapsed, []);
          if (layout.collapsed.length) await page.screenshot({ path: join(shots, `${themeName}-${width}-all-columns.png`) });
          for (const id of COLUMN_IDS) {
            const r = await reach(page, id);
            assert.ok(r.shown && r.inside, `${at}: column ${id} reachable (${JSON.stringify(r)})`);
          }

          // Focus everything focusable (and the cells' links): the document never moves.
          await page.evaluate(() => {
            document.querySelector('.list-body').scrollLeft = 400;
          });
          const focusables = await page.$$('button, select, input, [tabindex], .c-initiator .link');
          for (const el of focusables) {
            await el.evaluate((e) => {
              e.focus();
              e.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
            });
          }
          assert.deepEqual(await shift(page), { scrolled: [], overflow: false }, `${at}: no document shift after focusing every control`);
          assert.deepEqual(errors, [], `${at}: no page errors`);
          await page.close();
        }
      }
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);

test('layout: column hide and resize are saved (state and workspace) and survive a reload', { skip, timeout: 120_000 }, async () => {
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    const trace = syntheticTrace(50);
    const { page, errors } = await openPanel(browser, server.url, { width: 1280, height: 700 });
    await load(page, trace);
    // Hide Client through the header menu with the keyboard (context-menu key on a header cell).
    await page.focus('.list-header .c-name');
    await page.keyboard.press('Shift+F10');
    await page.waitForSelector('.menu');
    for (let i = 0; i < 3 && !(await page.evaluate(() => document.activeElement?.textContent?.startsWith('Client'))); i++)
      await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.menu', { state: 'detached' });
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.list-header .c-client')).display), 'none');
    // Widen Status by keyboard (Shift+Left twice: +16 px) and Size by dragging its left edge.
    await page.focus('.list-header .c-status');
    await page.keyboard.press('Shift+ArrowLeft');
    await page.keyboard.press('Shift+ArrowLeft');
    const grip = await page.$('.list-header .c-size .resizer');
    const g = await grip.boundingBox();
    await page.mouse.move(g.x + 3, g.y + 5);
    await page.mouse.down();
    await page.mouse.move(g.x - 37, g.y + 5, { steps: 4 });
    await page.mouse.up();
    const widths = await page.evaluate(() => ({
      status: document.querySelector('.list-header .c-status').getBoundingClientRect().width,
      size: document.querySelector('.list-header .c-size').getBoundingClientRect().width,
    }));
    assert.equal(widths.status, 140);
    assert.equal(widths.size, 106);
    await page.waitForTimeout(100);
    const state = await page.evaluate(() => window.__host.state);
    assert.equal(state.columns.client, false);
    assert.equal(state.widths.status, 140);
    assert.equal(state.widths.size, 106);
    const saved = (await page.evaluate(() => window.__host.posted)).filter((m) => m.type === 'saveState').at(-1);
    assert.deepEqual(saved.state.columns, { client: false }, 'the host is told, to remember it per workspace');
    assert.equal(saved.state.widths.size, 106);
    assert.deepEqual(errors, []);
    await page.close();

    const again = await openPanel(browser, server.url, { width: 1280, height: 700, state });
    await load(again.page, trace);
    const after = await again.page.evaluate(() => ({
      client: getComputedStyle(document.querySelector('.list-header .c-client')).display,
      status: document.querySelector('.list-header .c-status').getBoundingClientRect().width,
      size: document.querySelector('.list-header .c-size').getBoundingClientRect().width,
    }));
    assert.deepEqual(after, { client: 'none', status: 140, size: 106 });
    // Reset Columns brings everything back.
    await again.page.click('.col-menu-button');
    await again.page.click('.menu [role=menuitem]:has-text("Reset Columns")');
    assert.notEqual(await again.page.evaluate(() => getComputedStyle(document.querySelector('.list-header .c-client')).display), 'none');
    assert.deepEqual(again.errors, []);
  } finally {
    await browser.close();
    await server.close();
    panel.cleanup();
  }
});

test('layout: keyboard reaches every control with visible focus; ARIA grid and tab roles', { skip, timeout: 120_000 }, async () => {
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    const trace = syntheticTrace(100);
    const { page, errors } = await openPanel(browser, server.url, { width: 1280, height: 760 });
    await load(page, trace);
    await page.focus('.list-body');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.main.detail-open .detail-title');
    await page.evaluate(() => document.activeElement.blur());

    // Tab through the page: record what gets focus and whether the focus is visible.
    const seen = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const e = document.activeElement;
        if (!e || e === document.body) return null;
        const cs = getComputedStyle(e);
        const visible = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.borderColor === 'rgb(0, 120, 212)';
        const key = e.getAttribute('aria-label') || e.getAttribute('title') || e.textContent.trim().slice(0, 20) || e.className;
        return { key: `${e.tagName.toLowerCase()}.${e.className.split(' ')[0]}:${key}`, visible };
      });
      if (!f) continue;
      if (seen.some((s) => s.key === f.key)) break;
      seen.push(f);
    }
    const keys = seen.map((s) => s.key).join('\n');
    for (const want of [
      'select.dropdown:Trace',
      'input.input:Filter requests',
      'button.toggle',
      'button.chip',
      'select.dropdown:Host',
      'Export HAR',
      'Save PCAP',
      'div.list-body',
      'div.hcell',
      'button.tab',
      'Close details',
      'div.detail-content',
    ]) {
      assert.ok(keys.includes(want), `Tab reaches ${want}:\n${keys}`);
    }
    const invisible = seen.filter((s) => !s.visible).map((s) => s.key);
    assert.deepEqual(invisible, [], 'every focused control shows focus');

    // Arrow keys inside composites: header cells, tabs.
    await page.focus('.list-header .c-name');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('c-method')), true);
    await page.keyboard.press('End');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('c-waterfall')), true);
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('.list-header .c-waterfall', 'aria-sort'), 'descending', 'Enter sorts (start was ascending)');
    // The header's state changes at once; the rows are laid out again on the next frame.
    await page
      .waitForFunction(() => document.querySelector('.list-rows [role=row].selected')?.getAttribute('aria-rowindex') === '101', null, {
        timeout: 3000,
      })
      .catch(() => {});

    // ARIA.
    const aria = await page.evaluate(() => {
      const grid = document.querySelector('[role=grid][aria-label=Requests]');
      const row = grid.querySelector('.list-rows [role=row].selected');
      const tab = document.querySelector('[role=tablist] [role=tab][aria-selected=true]');
      const panelEl = document.querySelector('[role=tabpanel]');
      return {
        grid: grid.className,
        label: grid.getAttribute('aria-label'),
        rowcount: grid.getAttribute('aria-rowcount'),
        headers: grid.querySelectorAll('[role=row] [role=columnheader]').length,
        cells: row.querySelectorAll('[role=gridcell]').length,
        rowLabel: row.getAttribute('aria-label'),
        rowIndex: row.getAttribute('aria-rowindex'),
        active: grid.getAttribute('aria-activedescendant') === document.querySelector('.row.selected')?.id,
        tabControls: tab.getAttribute('aria-controls') === panelEl.id,
        labelledBy: panelEl.getAttribute('aria-labelledby') === tab.id,
      };
    });
    assert.equal(aria.grid, 'list-body');
    assert.equal(aria.label, 'Requests');
    assert.equal(aria.rowcount, '101');
    assert.equal(aria.headers, 9);
    assert.equal(aria.cells, 9);
    assert.match(aria.rowLabel, /^(GET|POST|PUT|DELETE|PATCH) https?:\/\/\S+, \S+/);
    assert.equal(aria.rowIndex, '101', 'the selected (first) request is last once sorted by start, descending: row 100 + the header');
    assert.ok(aria.active && aria.tabControls && aria.labelledBy, JSON.stringify(aria));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    panel.cleanup();
  }
});

test('layout: error text meets WCAG AA (4.5:1) in the light theme, with an icon beside it', { skip, timeout: 60_000 }, async () => {
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    const trace = syntheticTrace(300);
    const { page, errors } = await openPanel(browser, server.url, {
      width: 1280,
      height: 800,
      theme: LIGHT_THEME,
      themeKind: 'vscode-light',
    });
    await load(page, trace);
    await page.click('.chip.st-error');
    await page.click('.list-rows .row:nth-child(1)');
    await page.waitForSelector('.main.detail-open .status-pill');
    await page.mouse.move(5, 5);
    const results = await page.evaluate(() => {
      const parse = (c) => {
        const m = c.match(/^rgba?\(([^)]+)\)/);
        if (m) {
          const [r, g, b, a = '1'] = m[1].split(/[ ,/]+/).filter(Boolean);
          return [Number(r) / 255, Number(g) / 255, Number(b) / 255, Number(a)];
        }
        const s = c.match(/^color\(srgb ([^)]+)\)/);
        if (s) {
          const [r, g, b, , a = '1'] = s[1].split(/[ /]+/).filter(Boolean).concat([]);
          return [Number(r), Number(g), Number(b), s[1].includes('/') ? Number(s[1].split('/')[1]) : Number(a)];
        }
        throw new Error(`unparsed colour ${c}`);
      };
      const over = (top, bottom) =>
        top
          .slice(0, 3)
          .map((v, i) => v * top[3] + bottom[i] * (1 - top[3]))
          .concat(1);
      const background = (el) => {
        const layers = [];
        for (let e = el; e; e = e.parentElement) {
          const bg = parse(getComputedStyle(e).backgroundColor);
          if (bg[3] > 0) layers.push(bg);
          if (bg[3] >= 1) break;
        }
        let c = [1, 1, 1, 1];
        for (const l of layers.reverse()) c = over(l, c);
        return c;
      };
      const lum = ([r, g, b]) => {
        const f = (v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const ratio = (el) => {
        const bg = background(el);
        const fg = over(parse(getComputedStyle(el).color), bg);
        const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
        return (a + 0.05) / (b + 0.05);
      };
      const out = [];
      for (const el of document.querySelectorAll('.list-rows .row:not(.selected):not([style*="none"]) .c-status.st-error .status-text')) {
        out.push({
          what: `row status ${el.textContent}`,
          ratio: ratio(el),
          icon: !!el.parentElement.querySelector('.status-icon.codicon-error'),
        });
      }
      for (const sel of ['.status-pill', '.diagnosis.error .codicon']) {
        const el = document.querySelector(sel);
        if (el) out.push({ what: sel, ratio: ratio(el), icon: true });
      }
      return out;
    });
    assert.ok(results.length >= 3, JSON.stringify(results));
    for (const r of results) {
      assert.ok(r.ratio >= 4.5, `${r.what}: contrast ${r.ratio.toFixed(2)} ≥ 4.5`);
      assert.ok(r.icon, `${r.what}: drawn with an icon, not colour alone`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    panel.cleanup();
  }
});

test('layout: the toolbar overflow menu stands for the hidden controls (chips, host, actions)', { skip, timeout: 60_000 }, async () => {
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    const trace = syntheticTrace(100);
    const { page, errors } = await openPanel(browser, server.url, { width: 400, height: 600 });
    await load(page, trace);
    assert.equal(await page.isVisible('.toolbar-more'), true, 'the More button shows when groups are hidden');
    assert.equal(await page.isVisible('.chip.st-4xx'), false);
    // Keyboard: focus More, Enter opens the menu with focus on its first item.
    await page.focus('.toolbar-more');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.menu');
    const items = await page.$$eval('.menu [role^=menuitem]', (els) => els.map((e) => `${e.getAttribute('role')}:${e.textContent}`));
    for (const want of ['menuitemcheckbox:4xx', 'menuitem:Host: All hosts…', 'menuitem:Export HAR…', 'menuitem:Clear']) {
      assert.ok(
        items.some((i) => i.startsWith(want)),
        `${want} in ${items.join(' | ')}`,
      );
    }
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('role')?.startsWith('menuitem')), true);
    await page.click('.menu [role=menuitemcheckbox]:has-text("4xx")');
    await page.waitForFunction(() => window.__host.state?.filter?.classes?.includes('4xx'));
    await page.click('.toolbar-more');
    await page.click('.menu [role=menuitem]:has-text("Export HAR…")');
    assert.deepEqual((await page.evaluate(() => window.__host.posted)).at(-1), { type: 'command', command: 'exportHar', traceKey: 'cur' });
    // The host select becomes a menu of its options.
    await page.click('.toolbar-more');
    await page.click('.menu [role=menuitem]:has-text("Host:")');
    const host = new URL(trace.httpRequests[0].reqURL).host;
    await page.click(`.menu [role=menuitemcheckbox]:has-text("${host} (")`);
    await page.waitForFunction((h) => window.__host.state?.filter?.host === h, host);
    // Escape closes a menu and gives focus back.
    await page.focus('.toolbar-more');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.menu');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.menu', { state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('toolbar-more')), true);
    assert.deepEqual(await shift(page), { scrolled: [], overflow: false });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    panel.cleanup();
  }
});

test(
  'layout: a live trace at every width — the Live badge overlaps nothing, the picker keeps a readable width',
  { skip, timeout: 120_000 },
  async () => {
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const trace = syntheticTrace(40);
      const live = { ...TRACES, traces: [{ ...TRACES.traces[0], label: 'payments.ts — Net Trace: what if', live: true }] };
      for (const width of [360, 540, 800, 1050, 1280]) {
        const { page, errors } = await openPanel(browser, server.url, { width, height: 600 });
        await page.evaluate((m) => window.postMessage(m, '*'), live);
        await postAndWait(
          page,
          { type: 'reset', traceKey: 'cur', live: true, trace },
          `(d) => d.requests === ${trace.httpRequests.length}`,
        );
        await page.waitForSelector('.live-badge.on');
        await page.waitForTimeout(150);
        const g = await page.evaluate(() => {
          const box = (s) => document.querySelector(s)?.getBoundingClientRect();
          const shown = [...document.querySelectorAll('.toolbar > *')].filter((c) => getComputedStyle(c).display !== 'none');
          const kids = shown.flatMap((c) => (c.classList.contains('trace-group') ? [...c.children] : [c]));
          const visible = kids.filter((c) => getComputedStyle(c).display !== 'none').map((c) => [c.className, c.getBoundingClientRect()]);
          const overlaps = [];
          for (let i = 0; i < visible.length; i++)
            for (let j = i + 1; j < visible.length; j++) {
              const [a, ra] = visible[i];
              const [b, rb] = visible[j];
              if (ra.right > rb.left + 0.5 && rb.right > ra.left + 0.5) overlaps.push(`${a} × ${b}`);
            }
          return { picker: box('.trace-select').width, badge: box('.live-badge').width, overlaps };
        });
        assert.deepEqual(g.overlaps, [], `${width}px: nothing in the toolbar overlaps`);
        assert.ok(g.badge > 20, `${width}px: the Live badge is drawn (${g.badge} px)`);
        if (width >= 540) assert.ok(g.picker >= 140, `${width}px: the trace picker is readable (${g.picker} px): groups fold away first`);
        await page.screenshot({ path: join(shots, `live-${width}.png`) });
        assert.deepEqual(errors, []);
        await page.close();
      }
    } finally {
      await browser.close();
      server.close();
    }
  },
);
