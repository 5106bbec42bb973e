// covers: src/extension/, src/preload/rules/sendAgainStore.ts, src/trace/contract/redact.ts,
//   src/rules/, src/collector/server.ts
// What if from the panel (docs/rules.md "What if from the panel", docs/security.md): the row menu's
// rules made from a request (valid, enabled, with the limit chosen), the editable answer and
// request documents (read back, errors with their line), Send Again's header edits (a REDACTED
// value keeps the program's), the status bar's count, and the refusal of what-if rules while the
// workspace is not trusted — through the real RuleService and collectors and the recording
// `vscode` stub.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs(
  [
    "export * from './src/extension/ruleService';",
    "export * from './src/extension/whatIfCommands';",
    "export * from './src/extension/whatIfStatus';",
    "export * from './src/extension/whatIfTrust';",
    "export * from './src/extension/httpDocument';",
    "export * from './src/extension/launchWhatIf';",
    "export * from './src/extension/traceStore';",
    "export { headersToSend, sameOrigin } from './src/preload/rules/sendAgainStore';",
    "export { redactedHeaderNames } from './src/trace/contract/redact';",
    "export { whatIfRuleFromRequest, WHAT_IF_LIMITS } from './src/rules/whatIfFromRequest';",
    "export { validateRule } from './src/rules';",
    "export { startCollector } from './src/collector/server';",
    "import * as vscodeStub from 'vscode'; export { vscodeStub };",
  ],
  { dir: mkdtempSync(join(tmpdir(), 'nettrace-whatifpanel-')), name: 'whatIfPanel.cjs', vscodeStub: true },
);
const vscode = m.vscodeStub;

function memento() {
  const map = new Map();
  return { map, get: (k) => map.get(k), update: async (k, v) => void map.set(k, v) };
}

const REQ = { reqMethod: 'GET', reqURL: 'https://pay.example.com:8443/v1/orders/42?x=1' };

test('a what-if rule from a request: the row menu condition, enabled, with the limit, valid', () => {
  const r = m.whatIfRuleFromRequest(
    REQ,
    'fail',
    { kind: 'refused' },
    1,
    'connection refused',
    new Set(['fail-get-pay.example.com-8443-v1-orders']),
  );
  assert.equal(r.condition, 'method == "GET" and host == "pay.example.com" and port == 8443 and path ~ "/v1/orders/*"');
  assert.equal(r.action, 'fail');
  assert.deepEqual(r.fail, { kind: 'refused' });
  assert.equal(r.limit, 1);
  assert.equal(r.enabled, true);
  assert.equal(r.name, 'Fail GET pay.example.com:8443/v1/orders/* (connection refused)');
  assert.notEqual(r.id, 'fail-get-pay.example.com-8443-v1-orders', 'a new id');
  const valid = m.validateRule(r);
  assert.equal(valid.limit, 1);
  assert.deepEqual(
    m.WHAT_IF_LIMITS.map((l) => l.limit),
    [1, 3, null],
  );
  assert.equal(m.whatIfRuleFromRequest({ reqMethod: 'GET', reqURL: 'not a url' }, 'fail', { kind: 'refused' }, null, 'x'), undefined);
});

test('the answer document: the recorded response, framing left out; read back; a bad line named', () => {
  const doc = m.answerDocument(
    {
      respStatusCode: 200,
      respStatusText: 'OK',
      respHeaders: [
        ['Content-Type', 'application/json'],
        ['Content-Length', '11'],
        ['Set-Cookie', '<redacted>'],
      ],
      respBody: { text: '{"ok":true}' },
    },
    'answer-1',
  );
  assert.match(doc, /^# Net Trace: the answer of the what-if rule "answer-1"\./);
  assert.match(doc, /\nHTTP\/1\.1 200 OK\nContent-Type: application\/json\nSet-Cookie: <redacted>\n\n\{"ok":true\}$/);
  assert.doesNotMatch(doc, /Content-Length/);
  const edited = doc
    .replace('HTTP/1.1 200 OK', 'HTTP/1.1 503 Service Unavailable')
    .replace('Set-Cookie: <redacted>\n', 'Retry-After: 120\n');
  assert.deepEqual(m.parseAnswerDocument(edited), {
    status: 503,
    headers: { 'Content-Type': 'application/json', 'Retry-After': '120' },
    body: '{"ok":true}',
  });
  assert.deepEqual(m.parseAnswerDocument('503\r\n'), { status: 503, headers: {}, body: '' }, 'a bare status, CRLF');
  assert.throws(
    () => m.parseAnswerDocument('# c\nHTTP/1.1 abc\n'),
    (e) => e.line === 2 && /status line/.test(e.message),
  );
  assert.throws(
    () => m.parseAnswerDocument('HTTP/1.1 200\nno colon here\n\nbody'),
    (e) => e.line === 2 && /not a header/.test(e.message),
  );
  assert.throws(() => m.parseAnswerDocument('HTTP/1.1 999\n'), /between 100 and 599/);
});

test('the request document of Send Again, read back; a REDACTED header keeps what the program sent', () => {
  const doc = m.requestDocument({
    reqMethod: 'POST',
    reqURL: 'http://127.0.0.1:9/p',
    reqHeaders: [
      ['Authorization', '<redacted>'],
      ['Content-Type', 'text/plain'],
    ],
    reqBody: { text: 'hi' },
  });
  const parsed = m.parseRequestDocument(doc.replace('text/plain', 'application/json'));
  assert.deepEqual(parsed, {
    method: 'POST',
    url: 'http://127.0.0.1:9/p',
    headers: [
      ['Authorization', '<redacted>'],
      ['Content-Type', 'application/json'],
    ],
    body: 'hi',
  });
  assert.throws(() => m.parseRequestDocument('GET ftp://x/\n'), /http:\/\/ or https:\/\//);
  const sent = [
    ['Host', '127.0.0.1:9'],
    ['Authorization', 'Bearer s3cret'],
    ['Cookie', 'a=1'],
    ['Cookie', 'b=2'],
    ['Content-Length', '2'],
  ];
  const names = m.redactedHeaderNames([]);
  const secret = (n) => names.has(n);
  assert.deepEqual(
    m.headersToSend(
      sent,
      [
        ['Authorization', '<redacted>'],
        ['Cookie', '<redacted>'],
        ['Cookie', '<redacted>'],
        ['X-New', '1'],
        ['Content-Length', '99'],
      ],
      true,
      secret,
    ),
    {
      headers: [
        ['Authorization', 'Bearer s3cret'],
        ['Cookie', 'a=1'],
        ['Cookie', 'b=2'],
        ['X-New', '1'],
      ],
      leftOut: [],
    },
    'same origin: each REDACTED value is the one the program sent at that place; framing headers are Node’s',
  );
  assert.deepEqual(m.headersToSend(sent, undefined, true, secret), {
    headers: [
      ['Host', '127.0.0.1:9'],
      ['Authorization', 'Bearer s3cret'],
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
    ],
    leftOut: [],
  });
});

test('Send Again to another origin: the redacted values stay at theirs, typed ones go, the message names what was left out', () => {
  const sent = [
    ['Host', 'api.example.com'],
    ['Authorization', 'Bearer s3cret'],
    ['Cookie', 'a=1'],
    ['Cookie', 'b=2'],
    ['X-Api-Key', 'k3y'],
    ['X-Session-Token', 't0k'],
    ['Accept', '*/*'],
  ];
  const names = m.redactedHeaderNames([]);
  const secret = (n) => names.has(n);
  const doc = [
    ['Host', 'api.example.com'],
    ['Authorization', '<redacted>'],
    ['Cookie', '<redacted>'],
    ['Cookie', '<redacted>'],
    ['X-Api-Key', '<redacted>'],
    ['X-Session-Token', '<redacted>'],
    ['Accept', '*/*'],
  ];
  assert.deepEqual(
    m.headersToSend(sent, doc, false, secret),
    { headers: [['Accept', '*/*']], leftOut: ['Authorization', 'Cookie', 'X-Api-Key', 'X-Session-Token'] },
    'no value the program sent goes, the program’s Host neither',
  );
  assert.deepEqual(
    m.headersToSend(
      sent,
      [
        ['Authorization', 'Bearer typed'],
        ['Cookie', '<redacted>'],
        ['Accept', '*/*'],
      ],
      false,
      secret,
    ),
    {
      headers: [
        ['Authorization', 'Bearer typed'],
        ['Accept', '*/*'],
      ],
      leftOut: ['Cookie'],
    },
    'a typed value goes as typed',
  );
  assert.deepEqual(
    m.headersToSend(sent, undefined, false, secret),
    { headers: [['Accept', '*/*']], leftOut: ['Authorization', 'Cookie', 'X-Api-Key', 'X-Session-Token'] },
    'edits without headers: every header the trace redacts is left out (by name and by pattern)',
  );
  const extra = m.redactedHeaderNames(['x-tenant']);
  assert.deepEqual(
    m.headersToSend(
      [
        ['X-Tenant', 'acme'],
        ['Accept', '*/*'],
      ],
      undefined,
      false,
      (n) => extra.has(n),
    ).leftOut,
    ['X-Tenant'],
    'the `redact` option’s names too',
  );

  assert.equal(m.sameOrigin('http://127.0.0.1:80/a?x=1', 'HTTP://127.0.0.1/b'), true, 'a default port written or not, any case');
  assert.equal(m.sameOrigin('https://api.example.com/a', 'https://api.example.com:443/'), true);
  assert.equal(m.sameOrigin('https://api.example.com/a', 'http://api.example.com/a'), false, 'another scheme');
  assert.equal(m.sameOrigin('http://127.0.0.1:8080/', 'http://127.0.0.1:8081/'), false, 'another port');
  assert.equal(m.sameOrigin('https://api.example.com/', 'https://api.example.com.evil.test/'), false, 'a look-alike host');
  assert.equal(m.sameOrigin('https://api.example.com/', 'https://evil.test/@api.example.com'), false);
  assert.equal(m.sameOrigin('https://api.example.com/', 'not a url'), false, 'unreadable: not the same');

  assert.equal(
    m.leftOutText(['Authorization', 'Cookie'], 'https://b.test:8443/x', 'https://api.example.com/v1?token=<redacted>'),
    "Net Trace: sent again to https://b.test:8443 without Authorization and Cookie: their values are the program's credentials for https://api.example.com, " +
      'and Send Again fills them in only for the same scheme, host and port. Type a value in Send Again with Changes… to send one there.',
  );
  const doc2 = m.requestDocument({ reqMethod: 'GET', reqURL: 'https://api.example.com:8443/v1?token=<redacted>', reqHeaders: [] });
  // The comments as one text (they are wrapped at 100 columns).
  const said = doc2.replace(/\n# /g, ' ');
  assert.match(said, /sent as the program sent it to https:\/\/api\.example\.com:8443 only \(the same scheme, host and port\)/);
  assert.match(said, /to another origin it is left out/);
});

test('Send Again in an untrusted workspace: refused with a plain message, nothing asked of the process', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  const rules = new m.RuleService(store, memento());
  try {
    const { key } = await store.prepare('untrusted send again', {});
    const entry = store.get(key);
    const req = { traceID: 'req-1', pid: 1, client: 'http', ...REQ };
    entry.session.builder.trace.httpRequests.push(req);
    const asked = [];
    entry.session.sendAgain.send = async (...a) => (asked.push(a), { ok: true });
    const s = {
      context: { subscriptions: [] },
      traces: store,
      panel: { traceKey: key, revealRules() {}, selectedRequest: () => 'req-1', select() {} },
      rules,
      log: () => {},
    };
    m.registerWhatIfCommands(s, rules);
    vscode.workspace.isTrusted = false;
    const warned = [];
    vscode.prompts.push((msg) => void warned.push(msg));
    vscode.prompts.push((msg) => void warned.push(msg));
    await vscode.commands.registered.get(m.WHAT_IF_COMMANDS.sendAgain)({ traceKey: key, traceID: 'req-1' });
    await vscode.commands.registered.get(m.WHAT_IF_COMMANDS.sendAgainEdited)({ traceKey: key, traceID: 'req-1' });
    assert.deepEqual(asked, [], 'nothing sent');
    assert.deepEqual(warned, [m.UNTRUSTED_SEND_AGAIN, m.UNTRUSTED_SEND_AGAIN], 'both commands say why (no document opens)');
    assert.equal(vscode.prompts.length, 0);
    assert.match(m.UNTRUSTED_SEND_AGAIN, /^Net Trace: Send Again is off: this workspace is not trusted/);
    vscode.workspace.isTrusted = true;
    await vscode.commands.registered.get(m.WHAT_IF_COMMANDS.sendAgain)({ traceKey: key, traceID: 'req-1' });
    assert.equal(asked.length, 1, 'trusted: sent');
  } finally {
    vscode.workspace.isTrusted = undefined;
    await store.dispose();
  }
});

test('untrusted workspace: what-if rules cannot be created or enabled, others can; the banner sentence; the status bar count', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  let trusted = false;
  const rules = new m.RuleService(
    store,
    memento(),
    () => {},
    () => (trusted ? undefined : m.UNTRUSTED_WHAT_IF),
  );
  try {
    const fail = m.whatIfRuleFromRequest(REQ, 'fail', { kind: 'refused' }, null, 'connection refused');
    assert.throws(() => rules.apply({ op: 'create', rule: fail }), /this workspace is not trusted/);
    assert.equal(rules.workspaceRules().length, 0, 'nothing changed');
    rules.apply({ op: 'create', rule: { id: 'skip-it', condition: 'true', action: 'skip', enabled: true } });
    assert.equal(m.whatIfStatusText(m.enabledWhatIfRules(store, rules)), undefined, 'no what-if rule on: no status item');
    trusted = true;
    rules.apply({ op: 'create', rule: { ...fail, enabled: false } });
    trusted = false;
    assert.throws(() => rules.apply({ op: 'setEnabled', id: fail.id, enabled: true }), /not trusted/);
    trusted = true;
    rules.apply({ op: 'setEnabled', id: fail.id, enabled: true });
    rules.apply({ op: 'create', rule: { id: 'dns', condition: 'true', action: 'fail', fail: 'dns-notfound', enabled: true } });
    const view = m.whatIfStatusText(m.enabledWhatIfRules(store, rules));
    assert.equal(view.text, '$(beaker) 2 what-if rules on');
    assert.match(view.tooltip, /Rules view/);
    trusted = false;
    rules.apply({ op: 'setEnabled', id: 'dns', enabled: false });
    assert.equal(
      m.whatIfStatusText(m.enabledWhatIfRules(store, rules)).text,
      '$(beaker) 1 what-if rule on',
      'turning off is always allowed',
    );

    vscode.workspace.isTrusted = false;
    assert.equal(m.whatIfOffReason(), m.UNTRUSTED_WHAT_IF);
    assert.match(m.UNTRUSTED_WHAT_IF, /^What-if rules are off: this workspace is not trusted/);
    vscode.workspace.isTrusted = true;
    assert.equal(m.whatIfOffReason(), undefined);
  } finally {
    vscode.workspace.isTrusted = undefined;
    await store.dispose();
  }
});

test('"Make Requests Like This Fail…": the kinds, the limit, the rule added enabled and shown', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  const rules = new m.RuleService(store, memento());
  try {
    const { key } = await store.prepare('menu', {});
    const req = { traceID: 'req-1', pid: 1, client: 'http', ...REQ };
    store.get(key).session.builder.trace.httpRequests.push(req);
    const shown = [];
    const s = {
      context: { subscriptions: [] },
      traces: store,
      panel: { traceKey: key, revealRules: (id) => shown.push(id), selectedRequest: () => 'req-1', select() {} },
      rules,
      log: () => {},
    };
    m.registerWhatIfCommands(s, rules);
    let kinds;
    vscode.prompts.push((_o, items) => ((kinds = items), items.find((i) => i.label === 'Connection refused')));
    vscode.prompts.push((o, items) => (assert.match(o.title, /how many/), items.find((i) => i.label === 'The next three')));
    vscode.messages.length = 0;
    await vscode.commands.registered.get(m.WHAT_IF_COMMANDS.fail)({ traceKey: key, traceID: 'req-1' });
    assert.deepEqual(
      kinds.map((k) => k.label),
      [
        'Connection refused',
        'Connection reset',
        'DNS name not found',
        'TLS: certificate expired',
        'TLS: certificate for another host',
        'Timeout',
        'HTTP status…',
      ],
    );
    assert.equal(kinds[0].detail, undefined, 'refused is available');
    const added = rules.workspaceRules()[0];
    assert.equal(added.action, 'fail');
    assert.equal(added.limit, 3);
    assert.equal(added.enabled, true);
    assert.deepEqual(shown, [added.id], 'the Rules view opens on it');
    assert.match(vscode.messages.join('\n'), /what-if rule ".*" is on for the next 3 requests/);
  } finally {
    await store.dispose();
  }
});

test("a launch configuration's what-if rules are shown before they act: Allow (remembered, per rule), Show and Not now (off this session)", async () => {
  const down = { id: 'down', action: 'fail', fail: 'refused', condition: 'host == "pay.test"', enabled: true };
  const mine = { id: 'mine', action: 'fail', fail: 'refused', condition: 'true', enabled: true };
  const skip = { id: 'skip', action: 'skip', condition: 'true', enabled: true };
  const off = { id: 'off', action: 'fail', fail: 'refused', condition: 'true' };
  const rules = [down, mine, skip, off];
  const mem = memento();
  const own = (r) => r.id === 'mine';
  const asked = [];
  vscode.prompts.push((msg, opts, ...buttons) => (asked.push({ msg, detail: opts.detail, modal: opts.modal, buttons }), 'Not now'));
  assert.deepEqual(
    (await m.confirmLaunchWhatIf(rules, own, mem, () => {})).map((r) => r.id),
    ['mine', 'skip', 'off'],
    "Not now: the launch's what-if rule is left out; the user's own, the others and a disabled one stay",
  );
  assert.equal(asked.length, 1);
  assert.equal(asked[0].modal, true);
  assert.deepEqual(asked[0].buttons, ['Allow', 'Show', 'Not now']);
  assert.match(asked[0].msg, /a what-if rule that changes what the program receives/);
  assert.match(
    asked[0].detail,
    /^"down": fail refused when host == "pay.test" — the request fails: connection refused \(ECONNREFUSED\); the server is not contacted; every matching request \(no limit\)$/m,
  );
  assert.doesNotMatch(asked[0].msg, /Look before allowing/, 'nothing to call out');
  vscode.prompts.push(() => undefined);
  assert.deepEqual(
    (await m.confirmLaunchWhatIf(rules, own, mem, () => {})).map((r) => r.id),
    ['mine', 'skip', 'off'],
    'dismissed: the same',
  );
  vscode.prompts.push(() => 'Show');
  assert.deepEqual(
    (await m.confirmLaunchWhatIf(rules, own, mem, () => {})).map((r) => r.id),
    ['mine', 'skip', 'off'],
    'Show: off this session',
  );
  vscode.prompts.push(() => 'Allow');
  assert.deepEqual(
    (await m.confirmLaunchWhatIf(rules, own, mem, () => {})).map((r) => r.id),
    ['down', 'mine', 'skip', 'off'],
    'Allow: it acts',
  );
  assert.equal(vscode.prompts.length, 0);
  assert.deepEqual(
    (await m.confirmLaunchWhatIf(rules, own, mem, () => {})).map((r) => r.id),
    ['down', 'mine', 'skip', 'off'],
    'remembered: not asked again',
  );
  let again = false;
  vscode.prompts.push(() => ((again = true), 'Not now'));
  const changed = { ...down, condition: 'true' };
  assert.deepEqual(
    (await m.confirmLaunchWhatIf([changed], own, mem, () => {})).map((r) => r.id),
    [],
    'a changed rule asks again',
  );
  assert.equal(again, true);
});

test("a launch configuration's prompt calls out, in its first line, a redirect to another host and a file read from disk", async () => {
  const login = {
    id: 'login',
    action: 'respond',
    respond: { status: 307, headers: { Location: 'https://collect.evil.test/pw' } },
    condition: 'path == "/login"',
    enabled: true,
  };
  const file = {
    id: 'keys',
    action: 'respond',
    respond: { status: 200, bodyFile: '/home/u/.ssh/id_ed25519' },
    condition: 'true',
    enabled: true,
  };
  const asked = [];
  vscode.prompts.push((msg, opts) => (asked.push({ msg, detail: opts.detail }), 'Not now'));
  assert.deepEqual(
    await m.confirmLaunchWhatIf(
      [login, file],
      () => false,
      memento(),
      () => {},
    ),
    [],
  );
  assert.equal(
    asked[0].msg,
    "Net Trace: this launch configuration has 2 what-if rules that change what the program receives (failures, delays, answers in the server's place). " +
      'Look before allowing: rule "login" redirects to another host, collect.evil.test: a program that follows it sends the same request there, its body (a password, a token) included; ' +
      'rule "keys" reads the file "/home/u/.ssh/id_ed25519" from disk and gives it to the program as a response body',
  );
  assert.match(
    asked[0].detail,
    /^"login": respond 307 when path == "\/login" — .*headers Location: https:\/\/collect\.evil\.test\/pw, no body;/m,
  );
  assert.match(
    asked[0].detail,
    /^"keys": respond 200 from a file when true — .*the body read from the file "\/home\/u\/\.ssh\/id_ed25519" on disk/m,
  );
});

test('package.json: the row menu and the palette name every what-if command; Restricted Mode is limited, the guarded settings restricted', async () => {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const declared = new Set(pkg.contributes.commands.map((c) => c.command));
  const menu = pkg.contributes.menus['webview/context'];
  for (const id of Object.values(m.WHAT_IF_COMMANDS)) {
    assert.ok(declared.has(id), `${id} declared`);
    const item = menu.find((i) => i.command === id);
    assert.ok(item, `${id} in webview/context`);
    assert.match(item.when, /webviewId == 'nettrace\.panel' && webviewSection == 'request'/);
    assert.ok(pkg.activationEvents.includes(`onCommand:${id}`), `${id} activates`);
    assert.ok(pkg.contributes.menus.commandPalette.some((i) => i.command === id && i.when === 'nettrace.panelHasSelection'));
  }
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  for (const name of ['rules', 'otlp', 'redact', 'helperRoot', 'traceNodeSessions']) {
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(`nettrace.${name}`), name);
  }
});
