// covers: src/extension/, src/collector/server.ts, src/collector/launchEnv.ts
// needs: the build (dist/preload.cjs)
// The trace rules set in VS Code (src/extension/ruleService.ts, ruleCommands.ts, panel.ts) against
// real collectors and the recording `vscode` stub: the workspace's rules are kept in the
// workspace storage and read first by the next session (a launch rule with the same id wins);
// a change to a workspace rule reaches the workspace and every live session, a launch rule's only
// its session; an invalid change changes nothing and says where; the Rules view's `ruleEdit`
// is answered with `ruleResult` (a condition error with its column) and a new `rules`; the row
// menu's "Skip Requests to This Host" makes an enabled rule and opens the Rules view on it;
// package.json names the commands. And, with a real traced program: a request a keep rule drops
// at its end, after the panel was sent it, comes back as `removed` in the live feed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs, root } from '../lib/bundleTs.mjs';

const m = bundleTs(
  [
    "export * from './src/extension/ruleService';",
    "export * from './src/extension/ruleCommands';",
    "export * from './src/extension/panel';",
    "export * from './src/extension/traceStore';",
    "export { LiveFeed } from './src/extension/liveFeed';",
    "export { startCollector } from './src/collector/server';",
    "export { buildPreloadEnv } from './src/collector/launchEnv';",
    "import * as vscodeStub from 'vscode'; export { vscodeStub };",
  ],
  { dir: mkdtempSync(join(tmpdir(), 'nettrace-rules-')), name: 'rules.cjs', vscodeStub: true },
);
const vscode = m.vscodeStub;
const preload = join(root, 'dist', 'preload.cjs');

function memento() {
  const map = new Map();
  return { map, get: (k) => map.get(k), update: async (k, v) => void map.set(k, v) };
}

const LAUNCH = [{ id: 'launch-skip', condition: 'path == "/health"', action: 'skip', enabled: true }];

test('workspace rules: kept in the workspace storage, read first by the next session; launch ids win', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  const mem = memento();
  const rules = new m.RuleService(store, mem);
  try {
    assert.deepEqual(rules.view(undefined), { traceKey: undefined, scope: 'workspace', defaultAction: 'trace', rules: [] });
    const a = rules.apply({ op: 'create', rule: { id: 'ws-a', condition: 'host == "a.test"', action: 'skip' } });
    assert.equal(a.enabled, false, 'created disabled without enabled: true');
    rules.apply({ op: 'create', rule: { id: 'launch-skip', condition: 'true', action: 'mark', enabled: true } });
    assert.deepEqual(
      mem.map.get(m.WORKSPACE_RULES_KEY).map((r) => r.id),
      ['launch-skip', 'ws-a'],
      'saved in the workspace storage, newest first',
    );
    // A new service (the next window) reads them back.
    assert.deepEqual(
      new m.RuleService(store, mem).workspaceRules().map((r) => r.id),
      ['launch-skip', 'ws-a'],
    );

    const launch = rules.rulesForLaunch(LAUNCH);
    assert.deepEqual(
      launch.rules.map((r) => r.id),
      ['ws-a', 'launch-skip'],
      'the workspace rules first; the one whose id launch.json has is left out',
    );
    assert.equal(launch.rules[1].condition, 'path == "/health"', 'the launch rule won');
    const { key } = await store.prepare('ws', { rules: launch.rules });
    rules.noteSession(key, launch.workspaceIds);
    const session = store.get(key).session;
    const v = rules.view(key);
    assert.equal(v.scope, 'session');
    assert.deepEqual(
      v.rules.map((r) => [r.id, r.origin, r.enabled, r.matched]),
      [
        ['ws-a', 'workspace', false, 0],
        ['launch-skip', 'launch', true, 0],
      ],
    );

    // A launch rule edited from the panel: this session only.
    rules.apply({ op: 'setEnabled', id: 'launch-skip', enabled: false }, key);
    assert.equal(session.rules.get('launch-skip').enabled, false);
    assert.equal(rules.workspaceRules().find((r) => r.id === 'launch-skip').action, 'mark', 'the workspace rule of that id is untouched');

    // A workspace rule: the workspace and the live session.
    const version = session.rules.version;
    rules.apply({ op: 'update', id: 'ws-a', changes: { condition: 'host == "b.test"', limit: 5 } }, key);
    assert.equal(session.rules.get('ws-a').condition, 'host == "b.test"');
    assert.equal(session.rules.get('ws-a').limit, 5);
    assert.ok(session.rules.version > version, 'sent to the preloads as a new set');
    assert.equal(mem.map.get(m.WORKSPACE_RULES_KEY).find((r) => r.id === 'ws-a').condition, 'host == "b.test"');

    // An invalid change changes nothing, and says where.
    assert.throws(
      () => rules.apply({ op: 'update', id: 'ws-a', changes: { condition: 'host == ' } }, key),
      (err) => err.name === 'RuleSyntaxError' && err.column === 9,
    );
    assert.equal(session.rules.get('ws-a').condition, 'host == "b.test"');
    assert.equal(rules.workspaceRules().find((r) => r.id === 'ws-a').condition, 'host == "b.test"');
    assert.deepEqual(m.ruleProblem(new Error('x')), { message: 'x', field: '' });

    // Created while the session runs: at the top of both, at once.
    rules.apply({ op: 'create', rule: { id: 'live-new', condition: 'method == "DELETE"', action: 'break', enabled: true } }, key);
    assert.equal(session.rules.rules()[0].id, 'live-new');
    assert.equal(rules.view(key).rules[0].origin, 'workspace');
    assert.throws(() => rules.apply({ op: 'create', rule: { id: 'live-new', condition: 'true', action: 'skip' } }, key), /exists already/);

    // Over the rules budget (issue 34): refused before the workspace or any session changes.
    const forty = Array.from({ length: 40 }, (_, k) => `url =~ /(a|aa)*b${k}/`).join(' or ');
    rules.apply({ op: 'create', rule: { id: 'costly-1', condition: forty, action: 'skip', enabled: true } }, key);
    const before = [rules.workspaceRules().length, session.rules.version];
    assert.throws(
      () => rules.apply({ op: 'create', rule: { id: 'costly-2', condition: forty, action: 'skip', enabled: true } }, key),
      (err) => err.name === 'RuleBudgetError' && /over the budget of 5,000 steps per decision/.test(m.ruleProblem(err).message),
    );
    assert.deepEqual([rules.workspaceRules().length, session.rules.version], before);
    assert.equal(session.rules.get('costly-2'), undefined);
    rules.apply({ op: 'delete', id: 'costly-1' }, key);
    // With no session recording: the workspace's rules alone (the next session would not start).
    const alone = new m.RuleService(new m.TraceStore({ startCollector: m.startCollector }), memento());
    alone.apply({ op: 'create', rule: { id: 'costly-1', condition: forty, action: 'skip', enabled: true } });
    assert.throws(() => alone.apply({ op: 'create', rule: { id: 'costly-2', condition: forty, action: 'skip', enabled: true } }), {
      name: 'RuleBudgetError',
    });
    assert.deepEqual(
      alone.workspaceRules().map((r) => r.id),
      ['costly-1'],
    );

    // From a request: enabled; the same again is not duplicated.
    const req = { reqMethod: 'GET', reqURL: 'https://telemetry.example.com/v1/events/42' };
    const made = rules.addFromRequest('skipHost', req, key);
    assert.equal(made.existed, false);
    assert.equal(made.rule.enabled, true);
    assert.equal(session.rules.get(made.rule.id).condition, 'host == "telemetry.example.com"');
    assert.equal(rules.addFromRequest('skipHost', req, key).existed, true);

    // Deleted: from both.
    rules.apply({ op: 'delete', id: 'ws-a' }, key);
    assert.equal(session.rules.get('ws-a'), undefined);
    assert.equal(
      rules.workspaceRules().some((r) => r.id === 'ws-a'),
      false,
    );

    // The session ended: the view shows the workspace's rules and, read only, the trace's.
    await store.end(key);
    const after = rules.view(key);
    assert.equal(after.scope, 'workspace');
    assert.deepEqual(
      after.saved.map((r) => [r.id, r.origin]),
      [
        [made.rule.id, 'saved'],
        ['live-new', 'saved'],
        ['launch-skip', 'saved'],
      ],
    );
  } finally {
    await store.dispose();
  }
});

test("panel host: the Rules view's ruleEdit is answered (a condition error with its column); the row menu adds an enabled rule and opens the view", async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  const rules = new m.RuleService(store, memento());
  try {
    const { key } = await store.prepare('panel');
    rules.noteSession(key, []);
    store.attach(key, 'dbg-1');
    const host = new m.PanelHost(vscode.Uri.file(root), store, { log: () => {}, command: () => {}, openInitiator: () => {}, rules });
    const panel = vscode.fakePanel();
    host.adopt(panel);
    host.showTrace(key);
    panel.receive({ type: 'ready' });
    const last = (type) => panel.posted.filter((p) => p.type === type).at(-1);
    assert.deepEqual(last('rules'), { type: 'rules', traceKey: key, scope: 'session', defaultAction: 'trace', rules: [] });

    panel.receive({
      type: 'ruleEdit',
      requestId: 7,
      traceKey: key,
      scope: 'session',
      op: 'create',
      rule: { name: 'No metrics', condition: 'path == "/metrics" or', action: 'skip' },
    });
    const bad = last('ruleResult');
    assert.equal(bad.requestId, 7);
    assert.equal(bad.ok, false);
    assert.equal(bad.problem.field, 'condition');
    assert.equal(bad.problem.column, 22, 'the end of the condition');
    assert.match(bad.problem.excerpt, /\^$/);

    panel.receive({
      type: 'ruleEdit',
      requestId: 8,
      traceKey: key,
      scope: 'session',
      op: 'create',
      rule: { name: 'No metrics', condition: 'path == "/metrics"', action: 'skip', enabled: true, limit: null },
    });
    assert.deepEqual(last('ruleResult'), { type: 'ruleResult', requestId: 8, ok: true, id: 'no-metrics' });
    assert.deepEqual(
      last('rules').rules.map((r) => [r.id, r.name, r.enabled, r.origin]),
      [['no-metrics', 'No metrics', true, 'workspace']],
    );
    assert.equal(store.get(key).session.rules.get('no-metrics').enabled, true);
    panel.receive({ type: 'ruleEdit', requestId: 9, traceKey: key, scope: 'session', op: 'setEnabled', id: 'no-metrics', enabled: false });
    assert.equal(last('ruleResult').ok, true);
    assert.equal(last('rules').rules[0].enabled, false);

    // The row menu: "Skip Requests to This Host" on a request of the session.
    const session = store.get(key).session;
    const conn = session.openConnection();
    session.apply(conn, {
      type: 'hello',
      pid: 4242,
      ppid: 1,
      threadId: 0,
      argv: ['node'],
      nodeVersion: 'v20',
      cwd: '/',
      startAt: Date.now(),
    });
    session.apply(conn, {
      type: 'record',
      kind: 'httpRequests',
      id: '1',
      fields: { reqMethod: 'GET', reqURL: 'https://cdn.example.test/app.js', client: 'fetch', reqStartAt: Date.now() },
    });
    const traceID = session.builder.trace.httpRequests[0]?.traceID;
    assert.ok(traceID, 'the request is in the session');
    const subscriptions = [];
    m.registerRuleCommands({ context: { subscriptions }, traces: store, panel: host, rules, log: () => {} }, rules);
    vscode.messages.length = 0;
    const rule = await vscode.commands.registered.get(m.RULE_COMMANDS.skipHost)({ webviewSection: 'request', traceKey: key, traceID });
    assert.equal(rule.condition, 'host == "cdn.example.test"');
    assert.equal(rule.enabled, true);
    assert.equal(session.rules.rules()[0].id, rule.id, 'in the live session, first');
    assert.equal(last('rules').reveal, rule.id, 'the Rules view opens on it');
    assert.equal(last('rules').revealAs, 'line', 'just made: a line above the list where the panel has no room for the view');
    assert.match(
      vscode.messages.at(-1),
      /^Net Trace: applies now to the running session .* added the rule "Skip requests to cdn\.example\.test" \(enabled/,
    );
    for (const d of subscriptions) d.dispose();
    host.dispose();
  } finally {
    await store.dispose();
  }
});

test('package.json: the rule commands, the row menu entries and their activation', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const declared = new Map(pkg.contributes.commands.map((c) => [c.command, c.title]));
  for (const id of Object.values(m.RULE_COMMANDS)) {
    assert.ok(declared.has(id), `${id} declared`);
    assert.ok(pkg.activationEvents.includes(`onCommand:${id}`), `${id} activates`);
  }
  assert.equal(declared.get(m.RULE_COMMANDS.add), 'Add Trace Rule…');
  assert.equal(declared.get(m.RULE_COMMANDS.manage), 'Manage Trace Rules');
  const menu = pkg.contributes.menus['webview/context'];
  for (const [id, title] of [
    [m.RULE_COMMANDS.breakLikeThis, 'Break on Requests Like This'],
    [m.RULE_COMMANDS.skipHost, 'Skip Requests to This Host'],
    [m.RULE_COMMANDS.captureBodies, 'Capture Bodies of These'],
  ]) {
    assert.equal(declared.get(id), title);
    const item = menu.find((i) => i.command === id);
    assert.match(item?.when ?? '', /webviewId == 'nettrace\.panel' && webviewSection == 'request'/);
  }
});

test('one-line rules in the palette: checked as typed (the column of a condition error); a rule written back parses to itself', () => {
  const taken = new Set(['taken']);
  assert.equal(m.checkShortForm('skip host == "a.test"', taken), undefined);
  assert.match(
    m.checkShortForm('skip status >= "500"', taken),
    /expected a number, found the string "500" \(at column 11 of the condition\)/,
  );
  assert.match(m.checkShortForm('taken: skip true', taken), /exists already/);
  assert.match(m.checkShortForm('other: skip true', taken, 'taken'), /cannot change/);
  assert.match(m.checkShortForm('jump true', taken), /starts with its action/);
  const rule = { id: 'slow', name: 'slow', action: 'mark', limit: 50, tag: 'slow-api', condition: 'slow and host == "a.test"' };
  assert.equal(m.toShortForm(rule), 'slow: mark limit=50 tag=slow-api slow and host == "a.test"');
  assert.equal(
    m.toShortForm({ id: 'b', name: 'b', action: 'details', limit: null, details: ['bodies', 'dnsTrace'], condition: 'failed' }),
    'b: details details=bodies,dnsTrace failed',
  );
});

test('a request a keep rule drops at its end, after the panel got it live, comes back as removed', { timeout: 30_000 }, async () => {
  const server = createServer((req, res) => setTimeout(() => res.end('ok'), req.url.startsWith('/slow') ? 400 : 0));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const store = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 500 });
  try {
    const rules = [{ id: 'drop-ok', condition: 'path ~ "/slow*" and not failed', action: 'skip', enabled: true }];
    const { key, ipcPath } = await store.prepare('drop', { rules });
    const entry = store.get(key);
    const feed = new m.LiveFeed(entry.session);
    feed.reset([]);
    const batches = [];
    store.on('change', (e, ids, records) => batches.push(feed.batches(ids, records)));
    const env = m.buildPreloadEnv(process.env, { preloadPath: preload, config: { ipcPath, ...entry.session.rules.preloadConfig() } });
    const code = `(async () => { await fetch('${url}/slow'); await fetch('${url}/kept'); })()`;
    const child = spawn(process.execPath, ['-e', code], { env, stdio: 'inherit' });
    await new Promise((r) => child.once('close', r));
    await entry.collector.waitForIdle({ timeoutMs: 5000 });
    entry.session.flushChanges();
    const appended = batches.flatMap((b) => b.append?.httpRequests ?? []);
    const slow = appended.find((r) => r.reqURL.endsWith('/slow'));
    assert.ok(slow, 'the slow request was shown while in flight');
    const removed = batches.flatMap((b) => b.removed);
    assert.deepEqual(removed, [slow.traceID], 'and removed when the rule dropped it at its end');
    const trace = entry.session.snapshot();
    assert.deepEqual(
      trace.httpRequests.map((r) => new URL(r.reqURL).pathname),
      ['/kept'],
    );
    const counted = trace.traceRules.rules.find((r) => r.id === 'drop-ok');
    assert.deepEqual([counted.matched, counted.acted], [1, 1], 'counted in traceRules');
  } finally {
    await store.dispose();
    server.close();
  }
});

test('the palette: Add Trace Rule… checks the line as typed and adds it enabled; Manage Trace Rules disables, edits and deletes', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  const rules = new m.RuleService(store, memento());
  try {
    const { key } = await store.prepare('palette', { rules: LAUNCH });
    rules.noteSession(key, []);
    store.attach(key, 'dbg-2');
    const host = new m.PanelHost(vscode.Uri.file(root), store, { log: () => {}, command: () => {}, openInitiator: () => {}, rules });
    const subscriptions = [];
    m.registerRuleCommands({ context: { subscriptions }, traces: store, panel: host, rules, log: () => {} }, rules);
    const run = (id) => vscode.commands.registered.get(id)();
    const session = store.get(key).session;
    vscode.messages.length = 0;

    // Add: the input box's validation says what is wrong (with the column), then the rule goes in.
    let said;
    vscode.prompts.push((opts) => {
      said = [opts.validateInput('skip status >= "500"'), opts.validateInput('launch-skip: skip true'), opts.validateInput('')];
      return opts.validateInput('api: skip limit=3 host == "api.test"') === undefined ? 'api: skip limit=3 host == "api.test"' : undefined;
    });
    await run(m.RULE_COMMANDS.add);
    assert.match(said[0], /column 11/);
    assert.match(said[1], /exists already/, 'an id the session has is refused');
    assert.match(said[2], /Type a rule/);
    assert.deepEqual(
      { ...session.rules.get('api') },
      { id: 'api', name: 'api', condition: 'host == "api.test"', action: 'skip', limit: 3, enabled: true },
    );
    assert.equal(rules.workspaceRules()[0].id, 'api', 'kept in the workspace');

    // Manage: the quick pick lists the session's rules with their origin; pick, then Disable.
    let listed;
    vscode.prompts.push(
      (opts, items) => ((listed = items), items.find((i) => i.rule?.id === 'api')),
      (opts, items) => items.find((i) => /Disable/.test(i.label)),
    );
    await run(m.RULE_COMMANDS.manage);
    assert.deepEqual(
      listed.filter((i) => i.rule).map((i) => [i.rule.id, /workspace rule/.test(i.detail)]),
      [
        ['api', true],
        ['launch-skip', false],
      ],
    );
    assert.equal(session.rules.get('api').enabled, false);
    assert.equal(rules.workspaceRules()[0].enabled, false);

    // Edit: the one-line form, prefilled; the id cannot change.
    let value;
    vscode.prompts.push(
      (opts, items) => items.find((i) => i.rule?.id === 'api'),
      (opts, items) => items.find((i) => /Edit/.test(i.label)),
      (opts) => (
        (value = opts.value),
        opts.validateInput('other: skip true') ? 'api: details details=bodies host == "api.test"' : undefined
      ),
    );
    await run(m.RULE_COMMANDS.manage);
    assert.equal(value, 'api: skip limit=3 host == "api.test"');
    assert.equal(session.rules.get('api').action, 'details');
    assert.equal(session.rules.get('api').limit, null);
    assert.equal(session.rules.get('api').enabled, false, 'an edit keeps the enabled flag');

    // Delete, after the confirmation.
    vscode.prompts.push(
      (opts, items) => items.find((i) => i.rule?.id === 'api'),
      (opts, items) => items.find((i) => /Delete/.test(i.label)),
      () => 'Delete',
    );
    await run(m.RULE_COMMANDS.manage);
    assert.equal(session.rules.get('api'), undefined);
    assert.deepEqual(rules.workspaceRules(), []);
    assert.equal(vscode.prompts.length, 0, 'every prompt was asked');
    for (const d of subscriptions) d.dispose();
    host.dispose();
  } finally {
    await store.dispose();
  }
});
