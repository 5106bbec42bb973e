// covers: webview/, src/extension/panelHtml.ts
// End-to-end: the panel's layout in a real VS Code (code-server) as F5 leaves it — 1440×900 with
// the Run and Debug side bar open, the panel beside the editor (about 540 px). The toolbar is one
// line, the waterfall column is on screen with a labelled header, the program's line of each row
// is in sight (under the URL once the Initiator column has collapsed) and opens it when clicked,
// focusing every control never shifts the webview's document, a column hidden through the header's column menu stays hidden,
// and stays hidden when the panel is closed and opened again (remembered per workspace).
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findFrame, missing as skip, runCommand, sleep, until } from './support/codeServer.mjs';
import { e2eTest, f5ToPanel, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('layout');

test(
  'panel layout at 1440×900 with Run and Debug open: one-line toolbar, waterfall visible, no shift, column hide remembered',
  { skip, timeout: 10 * 60_000 },
  async () => {
    await withWorkbench({ label: 'layout', workspaceName: 'ws', results, openFile: 'app.js' }, async ({ page, shot }) => {
      let panel = await f5ToPanel(page, step);
      await sleep(500);
      await shot('panel-540');

      const geometry = () =>
        panel.evaluate(() => {
          const tb = document.querySelector('.toolbar').getBoundingClientRect();
          const wf = document.querySelector('.list-header .c-waterfall');
          const body = document.querySelector('.list-body');
          const r = wf.getBoundingClientRect();
          return {
            width: document.documentElement.clientWidth,
            toolbar: Math.round(tb.height),
            waterfall: {
              width: Math.round(r.width),
              inside: r.right <= body.getBoundingClientRect().left + body.clientWidth + 0.5,
              label: wf.getAttribute('aria-label'),
            },
            hidden: [...document.querySelectorAll('.list-header .hcell')]
              .filter((c) => getComputedStyle(c).display === 'none')
              .map((c) => c.className.match(/c-(\w+)/)[1]),
          };
        });
      const g = await geometry();
      step(`panel geometry: ${JSON.stringify(g)}`);
      assert.ok(g.width >= 400 && g.width <= 800, `the panel is narrow, as beside the editor with Run and Debug open (${g.width} px)`);
      assert.ok(g.toolbar <= 36, `the toolbar is one line (${g.toolbar} px)`);
      assert.ok(g.waterfall.inside && g.waterfall.width >= 60, `the waterfall column is on screen (${JSON.stringify(g.waterfall)})`);
      assert.equal(g.waterfall.label, 'Waterfall');

      // The program's line is in sight in every row that has one (under the URL once the Initiator
      // column has collapsed), and clicking it opens app.js at that line.
      const lines = await panel.evaluate(() =>
        [...document.querySelectorAll('.list-rows .row')]
          .filter((row) => row.style.display !== 'none')
          .map((row) => {
            const link = [...row.querySelectorAll('.c-initiator .link, .init-line .link')].find((l) => l.getClientRects().length);
            if (!link) return { slot: row.dataset.slot, text: '' };
            const r = link.getBoundingClientRect();
            const cell = link.closest('.cell').getBoundingClientRect();
            const inside = r.left >= cell.left - 0.5 && r.right <= cell.right + 0.5 && r.right <= document.documentElement.clientWidth;
            return { slot: row.dataset.slot, text: link.textContent, inside, under: !!link.closest('.init-line') };
          }),
      );
      step(`initiators in the list: ${JSON.stringify(lines)}`);
      const own = lines.filter((l) => /^app\.js:\d+$/.test(l.text));
      assert.ok(own.length >= 4, `the program's lines are in the list: ${JSON.stringify(lines)}`);
      assert.deepEqual(
        own.filter((l) => !l.inside),
        [],
        'each program line is whole and on screen',
      );
      const first = own[0];
      await panel.click(`.list-rows .row[data-slot="${first.slot}"] ${first.under ? '.init-line' : '.c-initiator'} .link`);
      const lineNo = first.text.split(':')[1];
      await until(
        `the editor at app.js:${lineNo}`,
        async () => new RegExp(`Ln ${lineNo},`).test(await page.locator('[id="status.editor.selection"]').innerText({ timeout: 1000 })),
        10_000,
      );
      step(`clicked ${first.text} in the list (${first.under ? 'under the URL' : 'Initiator column'}): the editor is at its line`);
      await shot('panel-initiator-clicked');

      // Focus every control and link: the webview's document never moves.
      const moved = await panel.evaluate(() => {
        for (const e of document.querySelectorAll('button, select, input, [tabindex], .c-initiator .link')) {
          e.focus();
          e.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
        }
        const els = [document.scrollingElement, document.body, document.querySelector('.app')];
        return els.filter((e) => e.scrollLeft !== 0 || e.scrollTop !== 0).map((e) => e.className || e.tagName);
      });
      assert.deepEqual(moved, [], 'no document shift after focusing every control');

      // Hide the Method column through the header's column menu. The menu closes when the panel
      // loses focus, as a menu should, and VS Code may still move focus to the editor the
      // initiator link opened a moment ago: then the menu is opened again (at most three times).
      for (let attempt = 1; ; attempt++) {
        await panel.click('.col-menu-button');
        try {
          await panel.click('.menu [role=menuitemcheckbox]:has-text("Method")', { timeout: 3000 });
          break;
        } catch (err) {
          if (attempt === 3) throw err;
          step(`the column menu closed before its item was clicked (attempt ${attempt}): ${String(err.message).split('\n')[0]}`);
        }
      }
      await until('Method hidden', async () => (await geometry()).hidden.includes('method'), 5_000);
      await shot('panel-method-hidden');

      // Close the panel and open it again: the workspace remembers the hidden column.
      await runCommand(page, 'View: Close All Editors');
      await until('the panel to close', async () => !(await findFrame(page, '.list-body')), 20_000, 300);
      await runCommand(page, 'Net Trace: Show Panel');
      panel = await until('the panel again', () => findFrame(page, '.list-rows .row'), 60_000, 500);
      await sleep(300);
      const again = await geometry();
      step(`reopened: ${JSON.stringify(again)}`);
      assert.ok(again.hidden.includes('method'), 'the hidden column stays hidden in a new panel of this workspace');
      await shot('panel-reopened');
    });
  },
);
