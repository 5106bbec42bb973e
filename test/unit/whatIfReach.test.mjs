// covers: src/rules/reach.ts, src/extension/
// What a what-if rule made in VS Code can act on and for how long (docs/rules.md, "What if from
// the panel"), through the real RuleService, collectors and the recording `vscode` stub: a TLS
// failure is not offered for a plain request and one that could never act is refused wherever a
// rule is made (the Rules view, the palette's one line, a launch configuration); the panel's
// limits count over the session's processes, say so, and a rule that used its limit up turns
// itself off; a session that starts with what-if rules from before says which, with Turn Off;
// the status bar's item names them and turns them all off; the answer document says when the
// body was not recorded, leaves out `Date`, wraps its comments and opens beside the panel; the
// Send Again document says that Host follows the URL; a comparison made for a trace the panel no
// longer shows is not shown over another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs(
  [
    "export * from './src/extension/ruleService';",
    "export * from './src/extension/ruleCommands';",
    "export * from './src/extension/whatIfCommands';",
    "export * from './src/extension/whatIfStatus';",
    "export * from './src/extension/httpDocument';",
    "export * from './src/extension/traceStore';",
    "export { compareWith } from './src/extension/compareTraces';",
    "export { WHAT_IF_LIMITS } from './src/rules/whatIfFromRequest';",
    "export { startCollector } from './src/collector/server';",
    "import * as vscodeStub from 'vscode'; export { vscodeStub };",
  ],
  { dir: mkdtempSync(join(tmpdir(), 'nettrace-whatifreach-')), name: 'whatIfReach.cjs', vscodeStub: true },
);
const vscode = m.vscodeStub;

function memento() {
  const map = new Map();
  return { map, get: (k) => map.get(k), update: async (k, v) => void map.set(k, v) };
}

const TLS_RULE = { id: 'tls', action: 'fail', fail: { kind: 'tls', tls: 'expired' }, enabled: true };

/** A store with one live session holding `req`, the services the what-if commands need, and what they showed. */
async function session(req, rules = undefined) {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  const service = rules ?? new m.RuleService(store, memento());
  const { key } = await store.prepare('what if', {});
  service.noteSession(key, []);
  store.get(key).session.builder.trace.httpRequests.push(req);
  const shown = [];
  const s = {
    context: { subscriptions: [] },
    traces: store,
    panel: { traceKey: key, revealRules: (id) => shown.push(id), selectedRequest: () => req.traceID, select() {} },
    rules: service,
    log: () => {},
  };
  m.registerWhatIfCommands(s, service);
  return { store, rules: service, key, shown, arg: { traceKey: key, traceID: req.traceID } };
}

test('a plain http request is not offered a TLS failure; an https one is; the picker says why', async () => {
  for (const [url, tls] of [
    ['http://pay.example.com/v1/orders/42', false],
    ['https://pay.example.com/v1/orders/42', true],
  ]) {
    const t = await session({ traceID: 'req-1', pid: 1, client: 'http', reqMethod: 'GET', reqURL: url });
    try {
      let kinds;
      let options;
      vscode.prompts.push((o, items) => ((options = o), (kinds = items), undefined));
      await vscode.commands.registered.get(m.WHAT_IF_COMMANDS.fail)(t.arg);
      const labels = kinds.map((k) => k.label);
      assert.equal(
        labels.some((l) => l.startsWith('TLS:')),
        tls,
        `${url}: ${labels.join(', ')}`,
      );
      assert.ok(labels.includes('Connection refused') && labels.includes('HTTP status…'));
      if (!tls) assert.match(options.placeHolder, /No TLS failures: this request is plain \(no TLS handshake to fail\)/);
      else assert.equal(options.placeHolder, undefined);
    } finally {
      await t.store.dispose();
    }
  }
});

test('a TLS failure that could never act is refused where VS Code makes rules: the Rules view, the palette, a launch configuration', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  const rules = new m.RuleService(store, memento());
  try {
    // The Rules view's form and a row's menu go through RuleService.apply: refused, the condition named.
    for (const condition of ['scheme == "http"', 'url ~ "http://pay.example.com/**"', 'scheme in ["http", "ws"] and host == "a"']) {
      assert.throws(
        () => rules.apply({ op: 'create', rule: { ...TLS_RULE, condition } }),
        (err) => m.ruleProblem(err).field === 'condition' && /acts only on requests over TLS .* could never act/.test(err.message),
        condition,
      );
    }
    assert.equal(rules.workspaceRules().length, 0, 'nothing added');
    // A condition that does not say is accepted: it counts the requests over TLS it matched.
    rules.apply({ op: 'create', rule: { ...TLS_RULE, condition: 'host == "pay.example.com"' } });
    assert.equal(rules.workspaceRules().length, 1);
    // The palette's one line says why as it is typed.
    assert.match(m.checkShortForm('fail fail=tls-expired scheme == "http"', new Set()), /could never act/);
    assert.equal(m.checkShortForm('fail fail=tls-expired scheme == "https"', new Set()), undefined);
    // A launch configuration's rules (and the setting's) start a session's collector: refused before anything runs.
    await assert.rejects(
      store.prepare('launch', { rules: [{ ...TLS_RULE, id: 'launch-tls', condition: 'url startsWith "http://"', enabled: false }] }),
      /rule "launch-tls": a fail tls rule acts only on requests over TLS/,
    );
  } finally {
    await store.dispose();
  }
});

test('the panel’s limits count over the session’s processes, say so, and a rule that used its limit up turns itself off', async () => {
  const req = { traceID: 'req-1', pid: 1, client: 'http', reqMethod: 'GET', reqURL: 'http://pay.example.com/v1/pay' };
  const t = await session(req);
  try {
    let limits;
    let options;
    vscode.prompts.push((_o, items) => items.find((i) => i.label === 'Connection refused'));
    vscode.prompts.push((o, items) => ((options = o), (limits = items), items.find((i) => i.label === 'The next three')));
    vscode.messages.length = 0;
    await vscode.commands.registered.get(m.WHAT_IF_COMMANDS.fail)(t.arg);
    assert.match(options.placeHolder, /Counted over all of the session's processes together/);
    assert.deepEqual(
      limits.map((l) => [l.label, l.description]),
      m.WHAT_IF_LIMITS.map((l) => [l.label, l.description]),
    );
    assert.match(limits[1].description, /the next 3 matching calls in all, the session's processes together; then it turns off/);
    const rule = t.rules.workspaceRules()[0];
    assert.deepEqual([rule.limit, rule.limitPer, rule.enabled], [3, 'session', true]);
    assert.match(vscode.messages.join('\n'), /is on for the next 3 requests \(the session's processes together; then it turns off\)/);
    assert.equal(m.toShortForm(rule).includes(' limit=3/session '), true, 'the palette’s one line keeps it');

    // Two processes report their acts: 2 and 1. The collector has the total; the workspace rule turns off.
    const ctrl = t.store.get(t.key).session.rules;
    const report = (conn, acted, seq) =>
      ctrl.stats(conn, { type: 'stats', rules: { version: ctrl.version, seq, counters: [{ id: rule.id, matched: acted, acted }] } });
    ctrl.attach(1, { write: () => true, once() {}, destroyed: false });
    ctrl.attach(2, { write: () => true, once() {}, destroyed: false });
    ctrl.hello(1, { type: 'hello', conn: '11.a' });
    ctrl.hello(2, { type: 'hello', conn: '22.b' });
    report(1, 2, 1);
    assert.deepEqual(ctrl.message().sessionActed, { [rule.id]: { '11.a': 2 } }, 'the acts go out with the set');
    assert.equal(t.rules.workspaceRules()[0].enabled, true, 'two of three: still on');
    report(2, 1, 1);
    const counted = ctrl.withCounters().find((r) => r.id === rule.id);
    assert.deepEqual([counted.acted, counted.limitReached], [3, true]);
    assert.equal(t.rules.workspaceRules()[0].enabled, false, 'three in all: off in the workspace, so the next session gets no more');
    assert.equal(ctrl.get(rule.id).enabled, false, 'and in the session');

    // Turned on again, it counts anew: the next three again.
    t.rules.apply({ op: 'setEnabled', id: rule.id, enabled: true }, t.key);
    const again = ctrl.withCounters().find((r) => r.id === rule.id);
    assert.deepEqual([again.enabled, again.acted, again.limitReached], [true, 0, false]);
    assert.equal(ctrl.message().sessionActed, undefined);
  } finally {
    await t.store.dispose();
  }
});

test('a session that starts with what-if rules from before says which, with Turn Off; the status bar names them and turns them all off', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  const rules = new m.RuleService(store, memento());
  try {
    const every = {
      id: 'slow-pay',
      name: 'Delay GET pay.example.com/v1/pay (800 ms before the first byte)',
      action: 'delay',
      delay: { phase: 'first-byte', ms: 800 },
      condition: 'host == "pay.example.com"',
      enabled: true,
    };
    const three = {
      id: 'fail-pay',
      name: 'Fail GET pay.example.com/v1/pay (503)',
      action: 'fail',
      fail: { kind: 'status', status: 503 },
      condition: 'host == "pay.example.com"',
      limit: 3,
      limitPer: 'session',
      enabled: true,
    };
    const off = { ...three, id: 'off', name: 'off', enabled: false };
    const skip = { id: 'quiet', action: 'skip', condition: 'host == "t.example.com"', enabled: true };
    for (const r of [skip, off, three, every]) rules.apply({ op: 'create', rule: r });
    const launch = rules.rulesForLaunch([]);
    const text = m.whatIfFromBeforeText(rules.whatIfFromBefore(launch.workspaceIds));
    assert.equal(
      text,
      'Net Trace: this session starts with 2 what-if rules from before, on and changing what the program receives: ' +
        '"Delay GET pay.example.com/v1/pay (800 ms before the first byte)" (delay first-byte 800 ms; every matching call), ' +
        '"Fail GET pay.example.com/v1/pay (503)" (fail status 503; the next 3 calls in all). Turn Off turns them off now.',
    );
    assert.equal(m.whatIfFromBeforeText(rules.whatIfFromBefore(['quiet', 'off'])), undefined, 'none on: nothing said');

    // As a session starts: the notification, Turn Off.
    const { key } = await store.prepare('next session', { rules: launch.rules });
    rules.noteSession(key, launch.workspaceIds);
    const asked = [];
    const logs = [];
    vscode.prompts.push((msg, ...buttons) => (asked.push({ msg, buttons }), 'Turn Off'));
    m.noticeWhatIfFromBefore(
      rules,
      launch.workspaceIds,
      (l) => logs.push(l),
      () => {},
    );
    for (let i = 0; i < 20 && rules.workspaceRules().some((r) => r.enabled && r.action !== 'skip'); i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(asked, [{ msg: text, buttons: ['Turn Off', 'Show Rules'] }]);
    assert.deepEqual(
      rules.workspaceRules().map((r) => [r.id, r.enabled]),
      [
        ['slow-pay', false],
        ['fail-pay', false],
        ['off', false],
        ['quiet', true],
      ],
      'Turn Off: every what-if rule from before is off, the skip rule stays',
    );
    const session = store.get(key).session.rules;
    assert.equal(session.get('slow-pay').enabled, false, 'off in the running session too');
    assert.match(logs.join('\n'), /turned off the what-if rules from before: "Delay GET/);

    // The status bar: named with what each does; its "Turn Off All" turns every one off, a launch rule's too.
    rules.apply({ op: 'setEnabled', id: 'fail-pay', enabled: true }, undefined, 'workspace');
    session.create({ id: 'from-launch', action: 'fail', fail: 'refused', condition: 'true', enabled: true });
    const status = m.whatIfStatusText(m.enabledWhatIfRules(store, rules));
    assert.equal(status.text, '$(beaker) 2 what-if rules on');
    assert.match(status.tooltip, /"Fail GET pay\.example\.com\/v1\/pay \(503\)" \(fail status 503; the next 3 calls in all\)/);
    assert.match(status.tooltip, /"from-launch" \(fail refused; every matching call\)/);
    assert.match(status.tooltip, /Click to turn them off/);
    const context = { subscriptions: [] };
    m.registerWhatIfStatus(context, store, rules, 'nettrace.showTraceRules', () => {});
    const item = vscode.window.statusItems.at(-1);
    assert.equal(item.command, m.WHAT_IF_MENU_COMMAND);
    vscode.messages.length = 0;
    vscode.prompts.push((_o, items) => items.find((i) => /Turn Off All/.test(i.label)));
    await vscode.commands.executeCommand(m.WHAT_IF_MENU_COMMAND);
    assert.equal(m.whatIfStatusText(m.enabledWhatIfRules(store, rules)), undefined, 'none on');
    assert.equal(item.visible, false, 'the item is gone');
    assert.match(vscode.messages.join('\n'), /turned off "Fail GET pay\.example\.com\/v1\/pay \(503\)", "from-launch"/);
    for (const d of context.subscriptions) d.dispose?.();
  } finally {
    await store.dispose();
  }
});

test('the answer document: says the body was not recorded, leaves out Date and says so, wraps its comments; opens beside the panel', async () => {
  const recorded = {
    respStatusCode: 200,
    respStatusText: 'OK',
    respHeaders: [
      ['Date', 'Tue, 01 Jul 2025 10:00:00 GMT'],
      ['Content-Type', 'application/json'],
      ['Content-Length', '120'],
    ],
    respContentLen: 120,
  };
  const doc = m.answerDocument(recorded, 'respond-get-pay.example.com-v1-pay');
  const comments = doc.split('\n').filter((l) => l.startsWith('#'));
  for (const l of comments) assert.ok(l.length <= m.COMMENT_COLUMNS, `${l.length} columns: ${l}`);
  const said = comments.map((l) => l.slice(2)).join(' ');
  assert.match(
    said,
    /The trace did not record this response's body \(bodies are recorded with .*; it had 120 bytes\), so the body below is empty/,
  );
  assert.match(said, /The recorded Date header is left out: a fixed date would go stale/);
  assert.doesNotMatch(doc, /^Date:/m);
  assert.deepEqual(m.parseAnswerDocument(doc), { status: 200, headers: { 'Content-Type': 'application/json' }, body: '' });
  // A body recorded whole: no note; one cut short, or not text, says so.
  const whole = m.answerDocument({ respStatusCode: 200, respHeaders: [], respBody: { size: 2, truncated: false, text: 'ok' } }, 'a');
  assert.doesNotMatch(whole, /did not record|only the start|not text|Date/);
  assert.match(whole, /\n\nok$/);
  assert.match(
    m.answerDocument({ respStatusCode: 200, respBody: { size: 9000, truncated: true, text: 'x'.repeat(10) } }, 'a'),
    /recorded only the start of this response's body \(9000 bytes in all\)/,
  );
  assert.match(
    m
      .answerDocument(
        {
          respStatusCode: 200,
          respHeaders: [['Content-Encoding', 'gzip']],
          respBody: { size: 30, truncated: false, contentEncoding: 'gzip', hex: '1f8b' },
        },
        'a',
      )
      .replace(/\n# /g, ' '),
    /The recorded body is not text \(gzip-encoded, 30 bytes\), so the body below is empty.*Its Content-Encoding is left out/,
  );

  // The command: the document opens beside the active group (the panel's), not over it.
  const t = await session({
    traceID: 'req-1',
    pid: 1,
    client: 'http',
    reqMethod: 'GET',
    reqURL: 'https://pay.example.com/v1/pay',
    ...recorded,
  });
  try {
    vscode.prompts.push((_o, items) => items.find((i) => i.label === 'Only the next one'));
    await vscode.commands.registered.get(m.WHAT_IF_COMMANDS.answer)(t.arg);
    assert.equal(vscode.window.shownOptions.at(-1).viewColumn, vscode.ViewColumn.Beside);
    const uri = vscode.window.shownDocuments.at(-1).uri;
    const fs = vscode.workspace.fileSystems.get(m.WHAT_IF_SCHEME);
    const text = new TextDecoder().decode(fs.readFile(uri));
    assert.match(text, /did not record this response's body/);
    await fs.writeFile(uri, new TextEncoder().encode(text.replace('HTTP/1.1 200 OK', 'HTTP/1.1 503 Service Unavailable')));
    const made = t.rules.workspaceRules()[0];
    assert.deepEqual([made.action, made.respond.status, made.limit, made.limitPer], ['respond', 503, 1, 'session']);
    assert.equal(made.respond.headers.Date, undefined, 'no fixed Date in the answer');

    // Send Again with Changes…: beside too.
    vscode.workspace.isTrusted = true;
    await vscode.commands.registered.get(m.WHAT_IF_COMMANDS.sendAgainEdited)(t.arg);
    assert.equal(vscode.window.shownOptions.at(-1).viewColumn, vscode.ViewColumn.Beside);
  } finally {
    vscode.workspace.isTrusted = undefined;
    await t.store.dispose();
  }
});

test('the Send Again document says that Host follows the URL (to another origin the Host line is not sent)', () => {
  const doc = m.requestDocument({
    reqMethod: 'GET',
    reqURL: 'http://127.0.0.1:8080/v1/pay',
    reqHeaders: [
      ['Host', '127.0.0.1:8080'],
      ['Authorization', '<redacted>'],
    ],
  });
  const said = doc
    .split('\n')
    .filter((l) => l.startsWith('#'))
    .map((l) => l.slice(2))
    .join(' ');
  assert.match(
    said,
    /Host follows the URL: to another origin the Host line is not sent, and the new request's Host is the URL's host \(as Node and undici set it\); to http:\/\/127\.0\.0\.1:8080 it is sent as written\./,
  );
  for (const l of doc.split('\n')) if (l.startsWith('#')) assert.ok(l.length <= m.COMMENT_COLUMNS, l);
  assert.match(doc, /\nHost: 127\.0\.0\.1:8080\n/, 'the recorded Host is shown');
});

test('Compare With…: a comparison finished after the panel moved on to another trace is not shown over it, and the user is told', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  try {
    const a = await store.prepare('first session', {});
    const b = await store.prepare('next session', {});
    const posted = [];
    const panel = { traceKey: a.key, postCompare: (msg) => posted.push(msg) };
    const s = { traces: store, panel, log: () => {} };
    // The baseline is picked; meanwhile the panel shows the next session's trace.
    vscode.prompts.push((_o, items) => ((panel.traceKey = b.key), items.find((i) => i.key === b.key)));
    vscode.messages.length = 0;
    await m.compareWith(s, store.get(a.key));
    assert.deepEqual(posted, [], 'not posted over the next session');
    assert.match(vscode.messages.join('\n'), /the comparison of .* is not shown: the panel shows another trace now/);
    // Shown when the panel still shows the trace compared.
    panel.traceKey = a.key;
    vscode.prompts.push((_o, items) => items.find((i) => i.key === b.key));
    await m.compareWith(s, store.get(a.key));
    assert.equal(posted.length, 1);
    assert.equal(posted[0].traceKey, a.key);
  } finally {
    await store.dispose();
  }
});
