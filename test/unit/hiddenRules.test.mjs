// covers: src/extension/, src/collector/server.ts, src/collector/launchEnv.ts
// needs: the build (dist/preload.cjs)
// Requests hidden by rules the user did not set (issue 61, finding 7; src/extension/hiddenRules.ts,
// docs/security.md "Skip rules a repository ships"): a launch configuration's or a workspace
// settings' `skip` rules and `"defaultAction": "skip"` act without a prompt but never silently —
// a notification names them as the session starts (until the user says not to, for exactly that
// set), and the status bar counts what they hid — while the user's own rules (the panel's, the user
// settings') are not named. The count comes from a real program's requests, through a real collector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs, root } from '../lib/bundleTs.mjs';

const m = bundleTs(
  [
    "export * from './src/extension/hiddenRules';",
    "export * from './src/extension/statusView';",
    "export * from './src/extension/ruleService';",
    "export * from './src/extension/traceStore';",
    "export { startCollector } from './src/collector/server';",
    "export { buildPreloadEnv } from './src/collector/launchEnv';",
    "import * as vscodeStub from 'vscode'; export { vscodeStub };",
  ],
  { dir: mkdtempSync(join(tmpdir(), 'nettrace-hidden-')), name: 'hiddenRules.cjs', vscodeStub: true },
);
const vscode = m.vscodeStub;

function memento() {
  const map = new Map();
  return { map, get: (k) => map.get(k), update: async (k, v) => void map.set(k, v) };
}

const telemetry = { id: 'telemetry', action: 'skip', condition: 'host == "t.evil.test"', enabled: true };
const mine = { id: 'health', action: 'skip', condition: 'path == "/health"', enabled: true };
const panel = { id: 'from-panel', action: 'skip', condition: 'host == "cdn.test"', enabled: true };

test("the skip rules and default the user did not set are named; the user's own are not", () => {
  vscode.config.values = { rules: [mine] };
  try {
    const rules = [
      panel,
      mine,
      telemetry,
      { ...telemetry, id: 'off', enabled: false },
      { id: 't', action: 'trace', condition: 'true', enabled: true },
    ];
    let h = m.hidingRules(rules, ['from-panel'], 'trace');
    assert.deepEqual(h, { rules: [{ id: 'telemetry', condition: 'host == "t.evil.test"' }], defaultSkip: false });
    assert.equal(
      m.hidingNotice(h),
      "Net Trace: this session does not record some of the program's requests, by rules of the launch configuration or the workspace settings (not yours): " +
        'skip rule "telemetry" (host == "t.evil.test"). The status bar counts what they hide; the Rules view shows them.',
    );
    h = m.hidingRules([panel, mine], ['from-panel'], 'skip');
    assert.deepEqual(h, { rules: [], defaultSkip: true }, 'a skip default that is not the user setting');
    assert.match(m.hidingNotice(h), /: "defaultAction": "skip" \(requests no rule traces are not recorded\)\./);
    vscode.config.values = { rules: [mine], defaultAction: 'skip' };
    h = m.hidingRules([panel, mine], ['from-panel'], 'skip');
    assert.equal(m.hidingNotice(h), undefined, "the user's own default and rules: nothing to say");
    vscode.config.values = {};
    vscode.config.workspaceValues = { rules: [mine] };
    assert.equal(m.hidingRules([mine], [], 'trace').rules.length, 1, "the same rule in the workspace's settings is not the user's");
    assert.ok(
      m.hidingNotice(m.hidingRules([{ ...telemetry, id: 'x\u202ey' }], [], 'trace')).includes('"x\\u202ey"'),
      'the rule text is made inert',
    );
  } finally {
    vscode.config.values = {};
    vscode.config.workspaceValues = {};
  }
});

test('the notification: named at each start until "Don\'t Show Again" for exactly that set; the log says it every time', async () => {
  const shown = [];
  const logged = [];
  let answer;
  const info = vscode.window.showInformationMessage;
  vscode.window.showInformationMessage = async (msg, ...buttons) => (shown.push({ msg, buttons }), answer);
  const mem = memento();
  let opened = 0;
  const tick = () => new Promise((r) => setImmediate(r));
  try {
    const h = { rules: [{ id: 'telemetry', condition: 'true' }], defaultSkip: false };
    answer = m.HIDING_BUTTONS.show;
    m.noticeHiding(
      h,
      mem,
      (l) => logged.push(l),
      () => opened++,
    );
    await tick();
    assert.equal(shown.length, 1);
    assert.deepEqual(shown[0].buttons, ['Show Rules', "Don't Show Again"]);
    assert.equal(opened, 1, 'Show Rules opens the Rules view');
    answer = m.HIDING_BUTTONS.never;
    m.noticeHiding(
      h,
      mem,
      (l) => logged.push(l),
      () => opened++,
    );
    await tick();
    assert.equal(shown.length, 2);
    m.noticeHiding(
      h,
      mem,
      (l) => logged.push(l),
      () => opened++,
    );
    await tick();
    assert.equal(shown.length, 2, 'not shown again for that set');
    assert.equal(logged.length, 3, 'logged every time');
    assert.match(logged[2], /^this session does not record some of the program's requests/);
    m.noticeHiding(
      { ...h, defaultSkip: true },
      mem,
      () => {},
      () => {},
    );
    await tick();
    assert.equal(shown.length, 3, 'another set is named again');
    m.noticeHiding(
      { rules: [], defaultSkip: false },
      mem,
      (l) => logged.push(l),
      () => {},
    );
    await tick();
    assert.equal(shown.length, 3, 'nothing hidden: nothing said');
    assert.equal(logged.length, 3);
  } finally {
    vscode.window.showInformationMessage = info;
  }
});

test(
  'the status bar counts the requests a launch skip rule hid in a real program, and says when the default hides more',
  { timeout: 60_000 },
  async () => {
    const server = createServer((req, res) => res.end('ok'));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${server.address().port}`;
    const store = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 60_000 });
    const rules = new m.RuleService(store, memento());
    let child;
    try {
      const hide = { id: 'hide', action: 'skip', condition: 'path == "/hidden"', enabled: true };
      const { key, ipcPath } = await store.prepare('hidden', { rules: [hide] });
      rules.noteSession(key, []);
      const entry = store.get(key);
      const env = m.buildPreloadEnv(process.env, {
        preloadPath: join(root, 'dist', 'preload.cjs'),
        config: { ipcPath, ...entry.session.rules.preloadConfig() },
      });
      const code = `
      const http = require('node:http');
      const get = (p) => new Promise((r) => http.get('${base}' + p, (res) => { res.resume(); res.on('end', r); }));
      (async () => { for (const p of ['/hidden', '/seen', '/hidden', '/hidden']) await get(p); })();
      setTimeout(() => {}, 60_000);`;
      child = spawn(process.execPath, ['-e', code], { env, stdio: 'inherit' });
      const hidden = (e) => m.hiddenInSession(rules.view(e.key).rules, e.session.rules.defaultAction);
      const panel = { isOpen: false, traceKey: key };
      const end = Date.now() + 20_000;
      let v;
      while (Date.now() < end) {
        v = m.statusView(store, panel, hidden);
        if (v && v.text.endsWith('3 hidden')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(v.text, '$(pulse) Net Trace: 1 request, 3 hidden', 'the program made 4 requests; the trace holds 1');
      assert.match(
        v.tooltip,
        /Requests not recorded by rules of the launch configuration or the workspace settings: skip rule "hide" \(path == "\/hidden"\) — 3 hidden by the skip rules so far\.$/,
      );
      // The same rule added from the panel (the user's own): nothing said.
      rules.noteSession(key, ['hide']);
      assert.equal(m.statusView(store, panel, hidden).text, '$(pulse) Net Trace: 1 request');
      // A skip default that is not the user's: the uncounted part is said.
      assert.deepEqual(
        [
          m.hiddenInSession([{ id: 'a', action: 'skip', condition: 'true', enabled: true, acted: 2, origin: 'launch' }], 'skip').text,
          m.hiddenInSession([], 'skip').text,
        ],
        ['2+ hidden', 'some hidden'],
      );
    } finally {
      child?.kill();
      await store.dispose();
      server.close();
    }
  },
);
