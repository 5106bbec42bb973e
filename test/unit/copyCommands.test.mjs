// covers: src/extension/copyCommands.ts, src/extension/panel.ts, src/extension/traceStore.ts,
//   src/trace/formats/har.ts, src/trace/formats/traceFile.ts
// "Copy URL / as cURL / as fetch / response body / as HAR entry" (src/extension/copyCommands.ts)
// against the recording `vscode` stub (test/fixtures/vscode-stub): the row's menu context or the
// panel's selection picks the request, the clipboard gets the text, redacted values stay
// redacted and the information message says what the copy lacks; package.json's menu entries
// name the commands; the panel host keeps the panel's UI state per workspace (saveState) and
// hands it to the next panel in its HTML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs, root } from '../lib/bundleTs.mjs';

const m = bundleTs(
  [
    "export * from './src/extension/copyCommands';",
    "export * from './src/extension/panel';",
    "export * from './src/extension/traceStore';",
    "export { toHar, toHarEntry } from './src/trace/formats/har';",
    "export { emptyTrace } from './src/trace/formats/traceFile';",
    // The stub instance bundled with them (its command registry and clipboard).
    "import * as vscodeStub from 'vscode'; export { vscodeStub };",
  ],
  { dir: mkdtempSync(join(tmpdir(), 'nettrace-copy-')), name: 'copy.cjs', vscodeStub: true },
);
const vscode = m.vscodeStub;

function setup() {
  const trace = m.emptyTrace('copy test', new Date('2026-11-22T10:00:00.000Z'));
  trace.httpRequests.push(
    {
      traceID: 'post',
      pid: 1,
      client: 'axios',
      reqMethod: 'POST',
      reqURL: 'https://api.example.test/v1/items?token=%3Credacted%3E',
      reqStartAt: 1,
      reqSentAt: 2,
      respRecvAt: 10,
      respDoneAt: 12,
      respStatusCode: 201,
      reqHeaders: [
        ['Content-Type', 'application/json'],
        ['Authorization', '<redacted>'],
        ['Content-Length', '13'],
      ],
      respHeaders: [['Location', '/v1/items/7']],
      reqBody: { size: 13, truncated: false, text: '{"name":"x"}' },
      respBody: { size: 8, truncated: false, text: '{"id":7}' },
      reqContentLen: 13,
      respContentLen: 8,
    },
    { traceID: 'get', pid: 1, client: 'fetch', reqMethod: 'GET', reqURL: 'http://b.test/x', respStatusCode: 200, respContentLen: 40 },
  );
  const store = new m.TraceStore({ startCollector: async () => assert.fail('no session here') });
  const entry = store.addFile('/tmp/copy.json', trace);
  const memento = new Map();
  const host = new m.PanelHost(vscode.Uri.file(root), store, {
    log: () => {},
    command: () => {},
    openInitiator: () => {},
    memento: { get: (k) => memento.get(k), update: async (k, v) => void memento.set(k, v) },
  });
  const subscriptions = [];
  const logs = [];
  m.registerCopyCommands({ context: { subscriptions }, traces: store, panel: host, log: (l) => logs.push(l) });
  return { store, entry, host, memento, trace, subscriptions };
}

const run = (id, arg) => vscode.commands.registered.get(id)(arg);

test('copy commands: the row context picks the request; redacted stays redacted; the message lists the gaps', async () => {
  const { entry, subscriptions } = setup();
  const ctx = { webview: 'nettrace.panel', webviewSection: 'request', traceKey: entry.key, traceID: 'post' };
  vscode.messages.length = 0;
  await run(m.COPY_COMMANDS.curl, ctx);
  const curl = vscode.env.clipboard.text;
  assert.match(curl, /^curl --globoff \\\n  --url 'https:\/\/api\.example\.test\/v1\/items\?token=%3Credacted%3E'/);
  assert.match(curl, /-H 'Authorization: <redacted>'/);
  assert.match(curl, /--data-raw '\{"name":"x"\}'/);
  assert.doesNotMatch(curl, /Content-Length/i);
  assert.equal(vscode.messages.length, 1);
  assert.match(vscode.messages[0], /copied as cURL, but the trace lacks: Authorization is redacted\..*stay redacted/);

  vscode.messages.length = 0;
  await run(m.COPY_COMMANDS.url, ctx);
  assert.equal(vscode.env.clipboard.text, 'https://api.example.test/v1/items?token=%3Credacted%3E');
  assert.deepEqual(vscode.messages, [], 'a URL lacks nothing');

  await run(m.COPY_COMMANDS.fetch, ctx);
  assert.match(vscode.env.clipboard.text, /^const res = await fetch\("https:\/\/api\.example\.test/);
  assert.match(vscode.env.clipboard.text, /"Authorization": "<redacted>"/);

  vscode.messages.length = 0;
  await run(m.COPY_COMMANDS.body, ctx);
  assert.equal(vscode.env.clipboard.text, '{"id":7}');
  assert.deepEqual(vscode.messages, []);

  await run(m.COPY_COMMANDS.har, ctx);
  const har = JSON.parse(vscode.env.clipboard.text);
  assert.equal(har.request.method, 'POST');
  assert.equal(har.response.status, 201);
  assert.equal(har._traceID, 'post');
  assert.deepEqual(
    har.request.headers.find((h) => h.name === 'Authorization'),
    { name: 'Authorization', value: '<redacted>' },
  );

  // A body that was not captured: nothing copied (the clipboard keeps what it had), and why.
  vscode.messages.length = 0;
  const before = vscode.env.clipboard.text;
  await run(m.COPY_COMMANDS.body, { ...ctx, traceID: 'get' });
  assert.equal(vscode.env.clipboard.text, before);
  assert.match(vscode.messages[0], /nothing copied: the response body \(40 bytes\) was not captured/);
  for (const d of subscriptions) d.dispose();
});

test("copy commands: from the Command Palette they act on the panel's selected request", async () => {
  const { entry, host, subscriptions } = setup();
  vscode.messages.length = 0;
  await run(m.COPY_COMMANDS.url);
  assert.match(vscode.messages[0], /select a request/);
  const panel = vscode.fakePanel();
  host.adopt(panel);
  host.showTrace(entry.key);
  panel.receive({ type: 'ready' });
  panel.receive({ type: 'selected', traceKey: entry.key, traceID: 'get' });
  assert.equal(vscode.commands.contexts['nettrace.panelHasSelection'], true);
  await run(m.COPY_COMMANDS.url);
  assert.equal(vscode.env.clipboard.text, 'http://b.test/x');
  panel.receive({ type: 'selected', traceKey: entry.key, traceID: null });
  assert.equal(vscode.commands.contexts['nettrace.panelHasSelection'], false);
  for (const d of subscriptions) d.dispose();
});

test('toHarEntry is the entry toHar writes for that request', () => {
  const { trace } = setup();
  const full = m.toHar(trace).log.entries.find((e) => e._traceID === 'post');
  assert.deepEqual(m.toHarEntry(trace, 'post'), full);
  assert.equal(m.toHarEntry(trace, 'nope'), undefined);
});

test('package.json: the row menu and the palette name every copy command', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const ids = Object.values(m.COPY_COMMANDS);
  const declared = new Set(pkg.contributes.commands.map((c) => c.command));
  const menu = pkg.contributes.menus['webview/context'];
  for (const id of ids) {
    assert.ok(declared.has(id), `${id} declared`);
    const item = menu.find((i) => i.command === id);
    assert.ok(item, `${id} in webview/context`);
    assert.match(item.when, /webviewId == 'nettrace\.panel' && webviewSection == 'request'/);
    assert.ok(pkg.activationEvents.includes(`onCommand:${id}`));
  }
});

test("panel host: the panel's UI state is kept per workspace and given to the next panel", () => {
  const { host, memento } = setup();
  const panel = vscode.fakePanel();
  host.adopt(panel);
  assert.doesNotMatch(panel.webview.html, /data-state=/, 'nothing kept yet');
  const state = {
    filter: { text: 'status-code:404 -method:POST', failedOnly: true, classes: [], host: '' },
    sort: { key: 'start', dir: 1 },
  };
  panel.receive({ type: 'saveState', state });
  assert.deepEqual(memento.get(m.PANEL_STATE_KEY), state);
  panel.receive({ type: 'saveState', state: 'junk' });
  assert.deepEqual(memento.get(m.PANEL_STATE_KEY), state, 'a malformed state is ignored');
  const next = vscode.fakePanel();
  host.adopt(next);
  const attr = /data-state="([^"]*)"/.exec(next.webview.html)?.[1];
  assert.ok(attr, 'the next panel gets the state in its HTML');
  const decoded = attr.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
  assert.deepEqual(JSON.parse(decoded), state);
});
