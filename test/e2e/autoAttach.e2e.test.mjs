// covers: src/extension/autoAttach.ts, src/extension/traceAllNode.ts
// End-to-end: auto attach in a real VS Code (code-server) at 1440×900 with the Run and Debug side
// bar open. With `debug.javascript.autoAttachFilter` "always" and "Net Trace: Trace All Node
// Debugging" on, `node poller.js` typed into an ordinary terminal (not a JavaScript Debug Terminal):
// js-debug attaches to the process on its own, and Net Trace loads the preload into it through the
// debugger. The panel shows a trace named "node poller.js (auto attach, from the attach on)" whose
// rows are the program's requests with the program's own line; once the program exits, the trace
// kept for later windows says when tracing started mid-run and in which process.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*), e.g.
// `scripts/e2e.sh test/e2e/autoAttach.e2e.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFrame, missing as skip, runCommand, sleep, until } from './support/codeServer.mjs';
import { e2eTest, localServer, visibleRows, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('autoAttach');

// A worker a user starts in a terminal: it polls a local API every 250 ms until the API says the
// work is done (the test says so once it has seen the polls; two minutes at most), then exits.
const POLLER = (api) => `// Polls the jobs API until it is drained, then exits.
const API = '${api}';
let n = 0;

async function poll() {
  const res = await fetch(API + '/jobs?n=' + ++n); // e2e: poll
  const jobs = await res.json();
  if (jobs.drained || n >= 480) clearInterval(timer);
}

const timer = setInterval(() => {
  poll().catch((err) => console.error(err.message));
}, 250);
`;

/** The traces Net Trace kept for later windows (workspaceStorage/…/sessions/*.json), parsed. */
function keptTraces(userData) {
  const found = [];
  const walk = (dir, depth) => {
    if (depth > 5 || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p, depth + 1);
      else if (/^session-\d+-session-\d+\.json$/.test(name)) found.push(JSON.parse(readFileSync(p, 'utf8')));
    }
  };
  walk(join(userData, 'User', 'workspaceStorage'), 0);
  return found;
}

test(
  'auto attach: node typed into an ordinary terminal is traced from the attach on, with the program’s line',
  { skip, timeout: 8 * 60_000 },
  async () => {
    let drained = false;
    let polls = 0;
    const api = await localServer((req, res) => {
      polls++;
      res.end(JSON.stringify(drained ? { drained } : { jobs: [] }));
    });
    const source = POLLER(`http://127.0.0.1:${api.address().port}`);
    const line = source.split('\n').findIndex((l) => l.includes('// e2e: poll')) + 1;
    const options = {
      label: 'autoattach',
      workspaceName: 'worker',
      settings: { 'nettrace.traceNodeSessions': 'all', 'debug.javascript.autoAttachFilter': 'always' },
      prepare: ({ workspace }) => writeFileSync(join(workspace, 'poller.js'), source),
      results,
    };
    await withWorkbench({ ...options, openFile: 'poller.js' }, async ({ page, shot, userData }) => {
      await runCommand(page, 'View: Show Run and Debug');
      // Auto attach sets its variables for terminals created from then on (VS Code's debug-auto-launch).
      await until(
        'the Auto Attach status bar item',
        async () => (await page.locator('.statusbar-item', { hasText: /Auto Attach/ }).count()) > 0,
        60_000,
        500,
      );
      await runCommand(page, 'Terminal: Create New Terminal');
      const xterm = page.locator('.terminal-wrapper .xterm').first();
      await xterm.waitFor({ state: 'visible', timeout: 30_000 });
      await sleep(2000); // the shell's prompt
      await xterm.click();
      await page.keyboard.type('node poller.js');
      await page.keyboard.press('Enter');
      step('typed `node poller.js` into an ordinary terminal');

      const panel = await until('the Net Trace panel', () => findFrame(page, '.list-rows'), 120_000, 500);
      let seen = 'nothing';
      const rows = await until(
        'the auto attach trace with the poller’s requests',
        async () => {
          const label = await panel.$eval('select.trace-select', (s) => s.selectedOptions[0]?.textContent ?? '').catch(() => '');
          const r = (await visibleRows(panel)).filter((t) => t.includes('/jobs?n='));
          seen = `trace "${label}", ${r.length} poll rows`;
          return /^(● )?node poller\.js \(auto attach, from the attach on\)/.test(label) && r.length >= 2 && r;
        },
        90_000,
        500,
      ).catch((err) => {
        err.message += ` (the panel showed ${seen}; the API saw ${polls} polls)`;
        throw err;
      });
      step(`panel lists ${rows.length} polls, the first: ${rows[0]}`);
      const initiators = await panel.$$eval('.list-rows .row .c-initiator', (els) => els.map((e) => e.textContent.trim()).filter(Boolean));
      assert.ok(initiators.length >= 2, `initiators: ${initiators.join(', ')}`);
      for (const i of initiators) assert.equal(i, `poller.js:${line}`, 'the program’s own line');
      await sleep(500);
      await shot('auto-attach');
      drained = true;

      // The program exits after its last poll: the session ends and the trace is kept; it says when tracing started.
      const kept = await until(
        'the auto attach trace kept once the program exited',
        () => keptTraces(userData).find((t) => t.processes?.some((p) => /poller\.js/.test((p.argv ?? []).join(' ')))) ?? false,
        90_000,
        1000,
      );
      const warnings = kept.stats?.warnings ?? [];
      step(`kept trace: ${kept.httpRequests.length} requests; warnings: ${JSON.stringify(warnings)}`);
      assert.ok(
        warnings.some((w) =>
          /^tracing started mid-run at \d{4}-\d\d-\d\dT.* in pid \d+: loaded through the debugger when ".*\(auto attach\)" attached/.test(
            w,
          ),
        ),
        JSON.stringify(warnings),
      );
      assert.ok(kept.httpRequests.length >= 2);
    });
  },
);
