// covers: src/extension/, src/collector/server.ts
// Settings a cloned repository can set (issue 48, item 7; src/extension/settingsGuard.ts): a
// workspace's `.vscode/settings.json` that points `nettrace.otlp` at its own host, turns Trace All
// on, un-redacts `Authorization`, turns bodies, sockets, DNS, traceparent, packets and a wider
// helper on, or adds a rule that captures more, does not act — the user's own settings (else the
// defaults) apply and a warning names each ignored setting — while a workspace may still narrow
// (add redaction names, record less). Each ignored value acts once the user allows it for the
// workspace. Every setting package.json declares is classified, and the ones that send data off
// the machine are `machine`-scoped, so VS Code itself drops their workspace values; the code's
// own check is tested with the scopes ignored too. Against the recording `vscode` stub (which
// keeps user and workspace values apart and honours the scopes as VS Code does), with real
// collectors, a real program and a loopback OTLP "attacker" endpoint.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs, root } from '../lib/bundleTs.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-wsguard-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(
  [
    "export * from './src/extension/settingsGuard';",
    "export * from './src/extension/services';",
    "export * from './src/extension/nodeSessions';",
    "export * from './src/extension/traceAllNode';",
    "export * from './src/extension/debugProviders';",
    "export * from './src/extension/ruleService';",
    "export * from './src/extension/traceStore';",
    "export { startCollector } from './src/collector/server';",
    "import * as vscodeStub from 'vscode'; export { vscodeStub };",
  ],
  { dir: tmp, name: 'wsguard.cjs', vscodeStub: true },
);
const vscode = m.vscodeStub;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const declared = pkg.contributes.configuration.properties;

/** The hostile workspace settings of the review: each sends, un-redacts, records or changes more. */
const HOSTILE = {
  otlp: 'http://attacker.test:4318',
  traceNodeSessions: 'all',
  redact: ['!authorization'],
  redactQuery: ['!token'],
  bodies: true,
  headers: 'values',
  sockTrace: true,
  dnsTrace: true,
  dnsServers: ['203.0.113.53'],
  addTraceparent: true,
  rules: [{ id: 'grab', condition: 'true', action: 'details', details: ['bodies'], enabled: true }],
  defaultAction: 'trace',
  helper: 'auto',
  pcap: true,
  record: true,
  recordMaxBody: 64 * 1048576,
  recordMaxRun: 1024 * 1048576,
  helperRoot: '/tmp/attacker-helper',
};
/** The user's own settings the hostile ones would widen (the rest are at their defaults). */
const USER = { headers: 'names', defaultAction: 'skip', helper: 'off', redact: ['x-my-key'] };

/** Records the warnings (the stub's showWarningMessage), answering each with `answer`. */
function recordWarnings(answer) {
  const warnings = [];
  vscode.window.showWarningMessage = async (message, ...buttons) => {
    warnings.push({ message, buttons });
    return answer?.(message);
  };
  return warnings;
}

/** A workspaceState in memory. */
function memento() {
  const map = new Map();
  return { get: (k) => map.get(k), update: async (k, v) => void map.set(k, v), keys: () => [...map.keys()] };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

test('every setting of package.json is classified; the ones that send data off the machine are machine-scoped', () => {
  const names = Object.keys(declared).map((k) => k.slice('nettrace.'.length));
  assert.deepEqual(names.slice().sort(), Object.keys(m.SETTING_CLASSES).sort(), 'one class per declared setting');
  for (const name of Object.keys(HOSTILE)) assert.ok(m.isGuarded(name), `${name} is guarded`);
  for (const name of ['slowThresholdMs', 'initiator', 'openPanelOnStart', 'codeLens']) assert.ok(!m.isGuarded(name), `${name} is free`);
  for (const name of ['otlp', 'helperRoot']) assert.equal(declared[`nettrace.${name}`].scope, 'machine', name);
});

for (const ignoreScopes of [false, true]) {
  test(`a hostile workspace settings.json does not act${ignoreScopes ? ' (scopes ignored: the code’s own check)' : ''}; the user’s own values apply and each is named once`, async () => {
    vscode.config.values = { ...USER };
    vscode.config.workspaceValues = structuredClone(HOSTILE);
    vscode.config.ignoreScopes = ignoreScopes;
    m.initSettingsGuard(memento());
    const warnings = recordWarnings();
    try {
      const d = m.tracingDefaults();
      assert.equal(d.otlp, '', 'no OTLP endpoint of the workspace’s');
      assert.deepEqual(d.redact, ['x-my-key'], 'the user’s redaction names, no "!authorization"');
      assert.deepEqual(d.redactQuery, [], 'no "!token"');
      assert.equal(d.headers, 'names');
      assert.equal(d.bodies, false);
      assert.equal(d.sockTrace, false);
      assert.equal(d.dnsTrace, false);
      assert.deepEqual(d.dnsServers, []);
      assert.equal(d.addTraceparent, false);
      assert.deepEqual(d.rules, []);
      assert.equal(d.defaultAction, 'skip');
      assert.equal(d.helper, 'off');
      assert.equal(d.pcap, false);
      assert.equal(d.record, false, 'no recording for replay (responses unredacted)');
      assert.deepEqual([d.recordMaxBody, d.recordMaxRun], [4 * 1048576, 256 * 1048576], 'the default caps');
      assert.equal(m.helperRoot('/ext'), '/ext', 'the extension’s own helper');
      const sw = new m.NodeSessionSwitch();
      assert.equal(sw.mode(), 'netTraceOnly', 'Trace All stays off');
      sw.dispose();
      m.tracingDefaults();
      await tick();
      const named = warnings.map((w) => /nettrace\.(\w+)/.exec(w.message)[1]).sort();
      // With the scopes honoured VS Code has dropped the machine-scoped values itself.
      const expected = Object.keys(HOSTILE)
        .filter((n) => ignoreScopes || declared[`nettrace.${n}`].scope !== 'machine')
        .sort();
      assert.deepEqual(named, expected, 'each ignored setting named once per window');
      const otlp = warnings.find((w) => w.message.includes('nettrace.otlp'));
      if (ignoreScopes) assert.match(otlp.message, /attacker\.test.*sends data off the machine.*ignored/);
      const redact = warnings.find((w) => w.message.includes('nettrace.redact '));
      assert.match(redact.message, /"!authorization".*turns redaction off/);
      assert.deepEqual(redact.buttons, [m.ALLOW_BUTTON, m.KEEP_IGNORING_BUTTON]);
    } finally {
      vscode.config.workspaceValues = {};
      vscode.config.ignoreScopes = false;
    }
  });
}

test('a workspace may narrow: more redaction names, fewer headers, recorders off, rules that only skip', async () => {
  vscode.config.values = { bodies: 4096, headers: 'values', redact: ['x-my-key'] };
  vscode.config.workspaceValues = {
    redact: ['x-team-key', '*pin*'],
    headers: 'none',
    bodies: false,
    traceNodeSessions: 'netTraceOnly',
    rules: [{ id: 'skip-health', condition: 'path == "/health"', action: 'skip', enabled: true }],
    slowThresholdMs: 200,
    record: false,
    recordMaxBody: 1000,
  };
  m.initSettingsGuard(memento());
  const warnings = recordWarnings();
  try {
    const d = m.tracingDefaults();
    assert.deepEqual(d.redact, ['x-my-key', 'x-team-key', '*pin*'], 'the user’s and the workspace’s names add up');
    assert.equal(d.headers, 'none');
    assert.equal(d.bodies, false);
    assert.equal(d.rules[0].id, 'skip-health');
    assert.equal(d.slowThresholdMs, 200);
    assert.deepEqual([d.record, d.recordMaxBody], [false, 1000], 'recording off, a lower cap');
    // Un-redacting one name while adding another: the addition applies, the "!name" does not.
    vscode.config.workspaceValues = { redact: ['x-team-key', '!authorization'] };
    assert.deepEqual(m.tracingDefaults().redact, ['x-my-key', 'x-team-key']);
    // A workspace list that drops the user's own rule records more: the user's rules apply.
    vscode.config.values = { rules: [{ id: 'skip-secret', condition: 'host == "vault.test"', action: 'skip', enabled: true }] };
    vscode.config.workspaceValues = { rules: [{ id: 'other', condition: 'true', action: 'mark', enabled: true }] };
    assert.deepEqual(
      m.tracingDefaults().rules.map((r) => r.id),
      ['skip-secret'],
    );
    await tick();
    assert.deepEqual(
      warnings.map((w) => /nettrace\.(\w+)/.exec(w.message)[1]),
      ['redact', 'rules'],
    );
  } finally {
    vscode.config.workspaceValues = {};
  }
});

test('"Allow in This Workspace" lets that value act from then on (kept in workspaceState); "Keep Ignoring" stops asking', async () => {
  vscode.config.values = {};
  vscode.config.workspaceValues = { redact: ['!authorization'], bodies: true };
  const state = memento();
  m.initSettingsGuard(state);
  const warnings = recordWarnings((msg) => (msg.includes('nettrace.redact') ? m.ALLOW_BUTTON : m.KEEP_IGNORING_BUTTON));
  try {
    assert.deepEqual(m.tracingDefaults().redact, []);
    await tick();
    assert.equal(warnings.length, 2);
    const d = m.tracingDefaults();
    assert.deepEqual(d.redact, ['!authorization'], 'allowed: it acts');
    assert.equal(d.bodies, false, 'kept ignored');
    // A new window (the same workspaceState): the allowance holds, the ignored value is not named again.
    m.initSettingsGuard(state);
    assert.deepEqual(m.tracingDefaults().redact, ['!authorization']);
    await tick();
    assert.equal(warnings.length, 2);
    // Another value is another question.
    vscode.config.workspaceValues = { redact: ['!cookie'] };
    assert.deepEqual(m.tracingDefaults().redact, []);
    await tick();
    assert.equal(warnings.length, 3);
  } finally {
    vscode.config.workspaceValues = {};
  }
});

// ---- the attack, through a real launch ----------------------------------------------------------

/** A local server that counts its requests and records their headers. */
async function server() {
  const seen = [];
  const srv = createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers });
    req.resume();
    req.on('end', () => res.end('RESPONSE-BODY-SECRET'));
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { srv, seen, url: `http://127.0.0.1:${srv.address().port}` };
}

const program = join(tmp, 'app.js');
writeFileSync(
  program,
  `const req = require('node:http').request(process.env.APP_URL + '/login?token=QUERY-SECRET', { method: 'POST', headers: { Authorization: 'Bearer AUTH-SECRET' } }, (res) => res.resume());
req.on('error', () => {});
req.end('REQUEST-BODY-SECRET');
`,
);

function setup() {
  const logs = [];
  const log = (l) => logs.push(l);
  const traces = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 500, log });
  const mem = new Map();
  const rules = new m.RuleService(traces, { get: (k) => mem.get(k), update: async (k, v) => void mem.set(k, v) });
  const panel = { show() {}, showTrace() {}, setNotTraced() {} };
  const helpers = { off() {}, startFor() {}, join() {}, finish: async () => {}, prune() {} };
  const context = { subscriptions: [], extensionPath: root };
  const nodeSessions = new m.NodeSessionSwitch();
  const s = { context, traces, panel, helpers, rules, nodeSessions, log };
  m.registerDebugProviders(s, () => {});
  const cleanup = async () => {
    for (const d of context.subscriptions.reverse()) d.dispose?.();
    nodeSessions.dispose();
    await traces.dispose();
  };
  return { traces, logs, cleanup };
}

/** A Net Trace launch of the program through both phases, run, its session ended; its trace. */
async function launch(t, appUrl, id) {
  const phase1 = await vscode.debug.providers
    .get('nettrace')[0]
    .resolveDebugConfiguration(undefined, { type: 'nettrace', request: 'launch', name: 'App', program });
  const resolved = await vscode.debug.providers.get('pwa-node')[0].resolveDebugConfigurationWithSubstitutedVariables(undefined, phase1);
  vscode.debug.startSession({ id, configuration: resolved });
  const child = spawn(process.execPath, [program], {
    env: { ...process.env, ...resolved.env, APP_URL: appUrl },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  assert.equal(await new Promise((r) => child.on('exit', r)), 0, stderr);
  const entry = t.traces.bySessionMarker(resolved.__nettraceSession);
  vscode.debug.endSession({ id, configuration: resolved });
  const deadline = Date.now() + 10_000;
  while (entry.origin === 'current' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return { entry, resolved };
}

test('the attack through a launch: no span reaches the workspace’s OTLP host, Authorization and bodies stay out of the trace; the user’s own setting does send', async () => {
  const app = await server();
  const attacker = await server();
  const t = setup();
  const warnings = recordWarnings();
  m.initSettingsGuard(memento());
  try {
    vscode.config.values = {};
    vscode.config.ignoreScopes = true; // the code's own check, whatever VS Code drops
    vscode.config.workspaceValues = { ...structuredClone(HOSTILE), otlp: attacker.url, dnsServers: [] };
    const { entry } = await launch(t, app.url, 'dbg-hostile');
    const trace = t.traces.fullTrace(entry);
    assert.equal(trace.httpRequests.length, 1);
    const [req] = trace.httpRequests;
    const auth = req.reqHeaders.find(([k]) => k.toLowerCase() === 'authorization');
    assert.equal(auth?.[1], '<redacted>', 'Authorization stays redacted');
    assert.equal(req.reqBody, undefined, 'no request body');
    assert.equal(req.respBody, undefined, 'no response body');
    assert.equal(app.seen[0].headers.traceparent, undefined, 'no traceparent added to the program’s request');
    assert.equal(trace.dnsQueries.length, 0, 'no DNS trace');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(attacker.seen.length, 0, 'nothing sent to the workspace’s OTLP endpoint');
    const text = JSON.stringify(trace);
    for (const secret of ['AUTH-SECRET', 'REQUEST-BODY-SECRET', 'RESPONSE-BODY-SECRET']) assert.ok(!text.includes(secret), secret);
    assert.ok(warnings.some((w) => w.message.includes(`nettrace.otlp to "${attacker.url}"`)));

    // The same endpoint in the user's own settings is used: the check above could see spans.
    vscode.config.workspaceValues = {};
    vscode.config.values = { otlp: attacker.url };
    await launch(t, app.url, 'dbg-user');
    const deadline = Date.now() + 10_000;
    while (attacker.seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(attacker.seen.length > 0, 'the user’s own OTLP setting sends spans');
  } finally {
    vscode.config.workspaceValues = {};
    vscode.config.values = {};
    vscode.config.ignoreScopes = false;
    app.srv.close();
    attacker.srv.close();
    await t.cleanup();
  }
});

test('what-if rules (issue 51 item 4): a workspace settings.json fail rule does not act unless allowed, and says it changes what the program receives', async () => {
  vscode.config.values = {};
  vscode.config.workspaceValues = {
    rules: [{ id: 'down', condition: 'host == "payments.example.com"', action: 'fail', fail: 'refused', enabled: true }],
  };
  m.initSettingsGuard(memento());
  const warnings = recordWarnings();
  try {
    assert.deepEqual(m.tracingDefaults().rules, [], 'the workspace’s fail rule is ignored');
    await tick();
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0].message,
      /nettrace\.rules.*what-if rule that changes what the program receives.* off: .*"down": fail refused when host == "payments\.example\.com" — the request fails: connection refused/,
    );
    // A rule that only marks still acts: what-if rules are in the class that needs consent, not every rule.
    vscode.config.workspaceValues = { rules: [{ id: 'tag', condition: 'true', action: 'mark', enabled: true }] };
    assert.deepEqual(
      m.tracingDefaults().rules.map((r) => r.id),
      ['tag'],
    );
  } finally {
    vscode.config.workspaceValues = {};
  }
});

test('what-if rules (issue 51 item 4): a workspace settings.json rules list names each what-if rule in words, however long the list, before any acts; Allow is remembered for exactly that list', async () => {
  // A long first rule: the list's JSON, cut at 120 characters, would not show the fail rule.
  const tag = {
    id: 'tag-every-request-of-the-checkout-flow',
    condition: 'host == "checkout.example.com" && method == "POST"',
    action: 'mark',
    enabled: true,
  };
  const down = { id: 'pay-down', condition: 'path == "/api/pay"', action: 'fail', fail: 'refused', enabled: true };
  const slow = { id: 'slow', condition: 'true', action: 'delay', delay: 200, enabled: true };
  vscode.config.values = {};
  vscode.config.workspaceValues = { rules: [tag, down, slow] };
  const state = memento();
  m.initSettingsGuard(state);
  const warnings = recordWarnings((msg) => (msg.includes('"pay-down"') ? m.ALLOW_BUTTON : undefined));
  try {
    assert.deepEqual(m.tracingDefaults().rules, [], 'none of the workspace’s rules acts before the user answers');
    await tick();
    assert.equal(warnings.length, 1);
    const { message, buttons } = warnings[0];
    assert.match(message, /2 what-if rules that change what the program receives/);
    assert.ok(message.includes('"pay-down": fail refused when path == "/api/pay"'), message);
    assert.ok(
      message.includes(
        `"slow": delay first-byte 200 ms when true — waits 200 ms before the response's first byte; every matching request (no limit)`,
      ),
      message,
    );
    assert.ok(!message.includes('tag-every-request'), 'only the what-if rules are listed');
    assert.deepEqual(buttons, [m.ALLOW_BUTTON, m.KEEP_IGNORING_BUTTON]);
    // Allowed: the list acts, in this workspace, without asking again.
    assert.deepEqual(
      m.tracingDefaults().rules.map((r) => r.id),
      ['tag-every-request-of-the-checkout-flow', 'pay-down', 'slow'],
    );
    assert.equal(warnings.length, 1);
    // The same rule changed (another kind): off again, and asked again.
    m.initSettingsGuard(state);
    vscode.config.workspaceValues = { rules: [tag, { ...down, fail: 'reset' }, slow] };
    assert.deepEqual(m.tracingDefaults().rules, []);
    await tick();
    assert.equal(warnings.length, 2);
    assert.ok(warnings[1].message.includes('"pay-down": fail reset when path == "/api/pay"'), warnings[1].message);
  } finally {
    vscode.config.workspaceValues = {};
  }
});

test('what-if rules are off in an untrusted workspace (VS Code workspace trust), with a warning that says why', async () => {
  const rules = [
    { id: 'tag', condition: 'true', action: 'mark', enabled: true },
    { id: 'down', condition: 'true', action: 'fail', fail: 'refused', enabled: true },
  ];
  m.initSettingsGuard(memento());
  const warnings = recordWarnings();
  try {
    vscode.workspace.isTrusted = true;
    assert.deepEqual(m.whatIfRulesIfTrusted(rules), rules, 'trusted: unchanged');
    vscode.workspace.isTrusted = false;
    assert.deepEqual(
      m.whatIfRulesIfTrusted(rules).map((r) => r.id),
      ['tag'],
      'untrusted: the fail rule is left out, the mark rule stays',
    );
    m.whatIfRulesIfTrusted(rules);
    await tick();
    assert.equal(warnings.length, 1, 'said once per window');
    assert.match(warnings[0].message, /what-if rule "down" .* is off: this workspace is not trusted/);
  } finally {
    delete vscode.workspace.isTrusted;
  }
});

test("a launch configuration's replay is off in an untrusted workspace, with a warning that says why; no replay option is a setting", async () => {
  m.initSettingsGuard(memento());
  const warnings = recordWarnings();
  const tracing = { headers: 'values', replay: { file: 'ci-run.json', unmatched: 'fail' } };
  try {
    vscode.workspace.isTrusted = true;
    assert.equal(m.replayIfTrusted(tracing), tracing, 'trusted: unchanged');
    vscode.workspace.isTrusted = false;
    assert.deepEqual(m.replayIfTrusted(tracing), { headers: 'values' }, 'untrusted: no replay');
    assert.deepEqual(m.replayIfTrusted({ headers: 'values' }), { headers: 'values' });
    m.replayIfTrusted(tracing);
    await tick();
    assert.equal(warnings.length, 1, 'said once per window');
    assert.match(warnings[0].message, /replay .* is off: this workspace is not trusted/);
  } finally {
    delete vscode.workspace.isTrusted;
  }
  assert.deepEqual(
    Object.keys(declared).filter((k) => /replay/i.test(k)),
    [],
    'no nettrace.* setting turns a replay on',
  );
});
