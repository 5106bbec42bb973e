// covers: src/extension/services.ts, src/trace/derive/incomingLinks.ts
// End-to-end: one waterfall across services (issue 37 item 4). In code-server at 1440×900 with
// Run and Debug open, the compound launch "Gateway + payments" starts two TypeScript services
// through tsx (fixture/services/: two `nettrace` configurations). The test sends one POST
// /checkout to the gateway, which charges the payments service (which asks a bank, the test's own
// server) and fetches the receipt from it. Both launches record into one trace; grouped by
// incoming request, the panel shows the gateway's request, its two calls under it, and under each
// call the payments service's incoming request it became (with its own call): one tree across the
// two processes, each nested bar inside the one of the call that caused it. Each row's initiator
// (a call's line, an incoming request's handler) opens the right file at the right line. Both
// launches record for replay (`"record": true`); once stopped, with the bank stopped too, the
// panel's Replay This Run starts both services again with the recording (issue 64): one replay
// trace named after both, the gateway's calls answered from the recording, the same answer.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium, the .vsix in NETTRACE_E2E_* variables):
// `scripts/e2e.sh test/e2e/compound.e2e.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFrame, freePort, missing, onCleanup, runCommand, sessionEnded, startDebugging, until } from './support/codeServer.mjs';
import { e2eTest, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('compound');
const services = join(dirname(fileURLToPath(import.meta.url)), 'fixture', 'services');

/** The `// e2e: <name>` lines of a fixture service file (a comment alone on its line marks the line below). */
function markers(file) {
  const out = {};
  readFileSync(join(services, file), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const m = /\/\/ e2e: ([\w-]+)/.exec(text);
      if (m) out[m[1]] = /^\s*\/\//.test(text) ? i + 2 : i + 1;
    });
  return out;
}
const GW = markers('gateway.ts');
const PAY = markers('payments.ts');

/** Whether something listens on 127.0.0.1:port. */
const listening = (port) =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

/** The list's shown rows: kind, depth, method, path, initiator text, and the bar's horizontal extent. */
const rowsOf = (frame) =>
  frame.$$eval('.list-rows .row', (els) =>
    els
      .filter((e) => e.style.display !== 'none')
      .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
      .map((e) => {
        const segs = [...e.querySelectorAll('.wf-bar .seg')]
          .filter((s) => s.style.display !== 'none')
          .map((s) => s.getBoundingClientRect());
        const link = [...e.querySelectorAll('.c-initiator .link, .init-line .link')].find((l) => l.getClientRects().length > 0);
        return {
          slot: e.dataset.slot,
          head: e.classList.contains('group-head'),
          depth: Number(e.style.getPropertyValue('--depth') || 0),
          method: e.querySelector('.c-method')?.textContent,
          path: (e.querySelector('.url-path')?.textContent ?? '').replace(/^[▸▾] /, ''),
          host: e.querySelector('.url-host')?.textContent,
          status: e.querySelector('.c-status')?.textContent?.trim(),
          initiator: link?.textContent ?? '',
          bar: segs.length ? [Math.min(...segs.map((r) => r.left)), Math.max(...segs.map((r) => r.right))] : undefined,
        };
      }),
  );

/**
 * The editor of fixture file `file` beside the panel: whether it is its group's active tab, and its
 * cursor's line (the editor's active line number: read from the editor itself, since the keyboard
 * focus may be back in the panel after the jump, where the status bar then shows no cursor).
 */
const editorState = (page, file) =>
  page.evaluate((file) => {
    const editor = [...document.querySelectorAll('.monaco-editor')].find((e) =>
      (e.getAttribute('data-uri') ?? '').endsWith(`/services/${file}`),
    );
    const tabs = [...document.querySelectorAll('.editor-group-container .tab.active')].map((t) => t.getAttribute('aria-label') ?? '');
    return {
      tab: tabs.some((l) => l.startsWith(`${file},`) || l === file),
      line: Number(editor?.querySelector('.margin-view-overlays .active-line-number')?.textContent),
      tabs,
      status: document.querySelector('[id="status.editor.selection"]')?.textContent ?? '',
    };
  }, file);

test(
  'a compound launch of two TypeScript services: one trace, the calls nested across both, each initiator opens its line',
  { skip: missing, timeout: 10 * 60_000 },
  async () => {
    // The bank the payments service calls: the test's own server (not traced).
    const bank = createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.end('{"authorized":true}'), 80));
    });
    await new Promise((r) => bank.listen(0, '127.0.0.1', r));
    onCleanup(async () => bank.close());
    const gatewayPort = await freePort();
    const paymentsPort = await freePort();
    const env = `GATEWAY_PORT=${gatewayPort}\nPAYMENTS_PORT=${paymentsPort}\nBANK_URL=http://127.0.0.1:${bank.address().port}\n`;
    const prepare = ({ workspace }) => {
      writeFileSync(join(workspace, 'services', '.env'), env);
      // Both services record what a replay needs.
      const file = join(workspace, '.vscode', 'launch.json');
      const launch = JSON.parse(readFileSync(file, 'utf8'));
      for (const c of launch.configurations) if (/^(Gateway|Payments) service$/.test(c.name)) c.record = true;
      writeFileSync(file, JSON.stringify(launch, null, 2));
    };
    const options = {
      label: 'compound',
      workspaceName: 'shop',
      linkNodeModules: true,
      prepare,
      results,
      logName: 'compound-code-server.log',
    };
    await withWorkbench({ ...options, failureShot: 'compound-failure', logs: 'compound-logs' }, async ({ page, shot }) => {
      await runCommand(page, 'View: Show Run and Debug');
      step('starting the compound "Gateway + payments"');
      await startDebugging(page, 'Gateway + payments');
      await until('both services listening', async () => (await listening(gatewayPort)) && (await listening(paymentsPort)), 120_000, 500);
      step('both services listen; POST /checkout');
      const res = await fetch(`http://127.0.0.1:${gatewayPort}/checkout`, { method: 'POST' });
      const body = await res.json();
      assert.equal(res.status, 200);
      assert.deepEqual(body, { charge: { id: 1, authorized: true }, receipt: 'receipt 1' });

      const frame = await until(
        "the gateway's calls and the payments service's call in the panel",
        async () => {
          const f = await findFrame(page, '.list-body');
          return f && (await rowsOf(f)).length >= 3 && f;
        },
        60_000,
      );
      // One trace for both launches, named after both.
      const traces = await frame.$$eval('.trace-select option', (els) => els.map((e) => e.textContent));
      step(`traces: ${JSON.stringify(traces)}`);
      assert.equal(traces.filter((t) => /payments\.ts/.test(t) || /gateway\.ts/.test(t)).length, 1, traces.join(' | '));
      assert.match(
        traces.find((t) => /gateway\.ts/.test(t)),
        /payments\.ts.*\+.*gateway\.ts|gateway\.ts.*\+.*payments\.ts/,
      );

      await frame.evaluate(() => document.querySelector('.group-toggle').click());
      const want = [
        [true, 0, 'POST', '/checkout'],
        [false, 1, 'POST', '/charge'],
        [true, 2, 'POST', '/charge'],
        [false, 3, 'POST', '/authorize'],
        [false, 1, 'GET', '/receipt/1'],
        [true, 2, 'GET', '/receipt/1'],
      ];
      let rows = [];
      await until(
        'the grouped tree across both services',
        async () => {
          rows = await rowsOf(frame);
          const at = rows.findIndex((r) => r.head && r.path === '/checkout');
          const got = rows.slice(at, at + want.length).map((r) => [r.head, r.depth, r.method, r.path]);
          return at >= 0 && JSON.stringify(got) === JSON.stringify(want) && rows.slice(at, at + want.length).every((r) => r.initiator);
        },
        30_000,
      ).catch((err) => {
        throw new Error(`${err.message}; rows: ${JSON.stringify(rows)}`);
      });
      const at = rows.findIndex((r) => r.head && r.path === '/checkout');
      const tree = rows.slice(at, at + want.length);
      step(`grouped: ${JSON.stringify(tree)}`);
      assert.equal(tree[0].host, '2 calls');
      assert.equal(tree[0].status, '200');
      assert.equal(tree[2].host, '1 call');
      assert.equal(tree[5].host, 'no calls');
      // The waterfall spans both services: each bar lies within the bar of the row it is nested under.
      // A row's end is when its process's event loop saw it end: a service whose loop is busy (the
      // first request of a tsx service) sees a served request, or a call's last byte, a few ms after
      // the bytes moved, so an end may pass the end of the row it is nested under by that much: up to
      // 15% of the whole waterfall's width (CI: 2.3 px of 33 for a served row, 2.0 of 28 for a call).
      const parentOf = (i) => tree.slice(0, i).findLastIndex((r) => r.depth === tree[i].depth - 1);
      const late = Math.max(2, 0.15 * (tree[0].bar[1] - tree[0].bar[0]));
      for (let i = 1; i < tree.length; i++) {
        const [child, parent] = [tree[i].bar, tree[parentOf(i)].bar];
        assert.ok(child && parent, `bars shown: ${JSON.stringify(tree)}`);
        assert.ok(
          child[0] >= parent[0] - 2 && child[1] <= parent[1] + late,
          `row ${i} ${JSON.stringify(tree[i])} inside ${JSON.stringify(tree[parentOf(i)])}`,
        );
      }
      await shot('compound-grouped');

      // Each row's initiator: the calls' lines, the incoming requests' handlers, in both files.
      const expected = [
        ['gateway.ts', GW['gateway-handler']],
        ['gateway.ts', GW.charge],
        ['payments.ts', PAY['payments-handler']],
        ['payments.ts', PAY.authorize],
        ['gateway.ts', GW.receipt],
        ['payments.ts', PAY['payments-handler']],
      ];
      assert.deepEqual(
        tree.map((r) => r.initiator),
        expected.map(([f, l]) => `${f}:${l}`),
      );
      for (const [i, [file, line]] of expected.entries()) {
        const link = frame
          .locator(`.list-rows .row[data-slot="${tree[i].slot}"]`)
          .locator('.c-initiator .link, .init-line .link')
          .locator('visible=true')
          .first();
        await link.click();
        let seen;
        await until(
          `row ${i}'s initiator to open ${file}:${line}`,
          async () => {
            seen = await editorState(page, file);
            return seen.tab && seen.line === line;
          },
          20_000,
        ).catch((err) => {
          throw new Error(`${err.message}; ${JSON.stringify(seen)}`);
        });
        step(`row ${i} (${tree[i].method} ${tree[i].path}) opened ${file}:${line}`);
      }
      await shot('compound-initiator');

      // The gateway request's own waterfall: in the program, and its two calls to the payments service.
      await frame.locator(`.list-rows .row[data-slot="${tree[0].slot}"]`).click();
      const detail = await until('the incoming request detail', async () => {
        const wf = await frame
          .$$eval('.incoming-waterfall .timing-row .timing-label', (els) => els.map((e) => e.textContent))
          .catch(() => []);
        return wf.length >= 3 && wf;
      });
      step(`detail: ${JSON.stringify(detail)}`);
      assert.equal(detail[0], 'In the program');
      for (const call of [`POST 127.0.0.1:${paymentsPort}/charge`, `GET 127.0.0.1:${paymentsPort}/receipt/1`])
        assert.ok(detail.includes(call), `${call} in ${detail.join(' | ')}`);
      await shot('compound-detail');
      // Both services stop with the compound (stopAll), from the debug toolbar (the palette's "Debug:
      // Stop" also matches commands that start one).
      const stopAll = () =>
        until(
          'both services stopped',
          async () => {
            if (!(await listening(gatewayPort)) && !(await listening(paymentsPort))) return true;
            await page
              .locator('.debug-toolbar .codicon-debug-stop')
              .first()
              .click({ timeout: 2000 })
              .catch(() => {});
            return false;
          },
          60_000,
          1000,
        );
      await stopAll();
      await sessionEnded(page, 'the compound’s sessions to end');

      // Replay This Run on the compound's trace, the bank stopped: both services start again with the recording.
      await new Promise((r) => (bank.closeAllConnections(), bank.close(() => r())));
      const panel = await until('Replay This Run offered', () => findFrame(page, '.replay-run'), 30_000, 300);
      await until(
        'the run recorded',
        async () => (await panel.locator('.replay-run').getAttribute('aria-disabled')) === 'false',
        30_000,
        300,
      );
      // On the toolbar, or in its "More" menu when the toolbar is too narrow; the panel redraws its
      // toolbar as the ended trace settles, which may close that menu under the click: tried again then.
      await until(
        'Replay This Run pressed',
        async () => {
          try {
            if (await panel.locator('.replay-run').isVisible()) await panel.locator('.replay-run').click({ timeout: 3000 });
            else {
              await panel.locator('.toolbar-more').click({ timeout: 3000 });
              await panel.locator('[role="menuitem"]', { hasText: 'Replay This Run' }).first().click({ timeout: 3000 });
            }
            return true;
          } catch {
            await page.keyboard.press('Escape');
            return false;
          }
        },
        30_000,
        500,
      );
      step('pressed Replay This Run');
      await until(
        'both services listening again',
        async () => (await listening(gatewayPort)) && (await listening(paymentsPort)),
        120_000,
        500,
      );
      const again = await fetch(`http://127.0.0.1:${gatewayPort}/checkout`, { method: 'POST' });
      assert.equal(again.status, 200);
      assert.deepEqual(await again.json(), body, 'the same answer, the bank stopped: the gateway’s calls answered from the recording');
      let replayRows = [];
      const replayFrame = await until(
        "the replay's rows, badged",
        async () => {
          const f = await findFrame(page, '.list-body');
          replayRows = f ? await f.$$eval('.list-rows .row', (els) => els.map((e) => e.textContent ?? '')) : [];
          return ['/charge', '/receipt/1'].every((p) => replayRows.some((t) => t.includes(p) && /replayed/.test(t))) && f;
        },
        60_000,
      ).catch((err) => {
        throw new Error(`${err.message}; rows: ${JSON.stringify(replayRows)}`);
      });
      const replayTraces = (await replayFrame.$$eval('.trace-select option', (els) => els.map((e) => e.textContent ?? ''))).filter((t) =>
        /replay of/.test(t),
      );
      step(`replay traces: ${JSON.stringify(replayTraces)}`);
      assert.equal(replayTraces.length, 1, 'one replay trace for both services');
      assert.match(replayTraces[0], /gateway\.ts.*\+.*payments\.ts|payments\.ts.*\+.*gateway\.ts/);
      await shot('compound-replay');
      await stopAll();
    });
  },
);
