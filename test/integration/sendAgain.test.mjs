// covers: src/preload/rules/sendAgainStore.ts, src/preload/http/httpSendAgain.ts,
//   src/preload/undici/undiciSendAgain.ts, src/collector/sendAgain.ts,
//   src/extension/whatIfCommands.ts
// Send Again (docs/rules.md, "Send Again"): a recorded request sent again from inside the traced
// process, through a real collector and a real local server. The server receives the headers the
// program sent (the Authorization the trace redacted) and the body; the trace keeps `<redacted>`
// and links the new request to the first (`repeatOf`); edits change the method, URL, headers and
// body, a REDACTED value keeping the program's; once the process has ended the answer says so.
// To another origin (server B) the program's credentials stay at theirs: through the editor's
// document and command, B receives no Authorization, Cookie or API key unless the user typed one,
// and the user is told which were left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { nodeBinaries } from './harness.mjs';
import { preload, sendAgainModules, until } from './sendAgainSetup.mjs';
import { root } from '../lib/bundleTs.mjs';

const m = sendAgainModules('sendAgain.cjs', [
  "export * from './src/extension/whatIfCommands';",
  "export { RuleService } from './src/extension/ruleService';",
  "import * as vscodeStub from 'vscode'; export { vscodeStub };",
]);
const vscode = m.vscodeStub;

test('Send Again: sent from inside the process as the program sent it, recorded redacted and linked', { timeout: 60_000 }, async () => {
  const seen = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        keep: req.headers['x-keep'],
        body: Buffer.concat(chunks).toString(),
      });
      res.end('ok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const store = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 60_000 });
  let child;
  try {
    const { key, ipcPath } = await store.prepare('send again');
    const entry = store.get(key);
    const env = m.buildPreloadEnv(process.env, { preloadPath: preload, config: { ipcPath, sendAgain: true } });
    const code = `
      const http = require('node:http');
      const get = http.get('${base}/a?token=t0k', { headers: { Authorization: 'Bearer s3cret', 'X-Keep': '1' } }, (res) => res.resume());
      const post = http.request('${base}/p', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Basic dTpw' } }, (res) => res.resume());
      post.end('{"n":"é"}');
      setTimeout(() => {}, 60_000);`;
    child = spawn(process.execPath, ['-e', code], { env, stdio: 'inherit' });
    const trace = () => entry.session.snapshot();
    const done = (path) => trace().httpRequests.find((r) => new URL(r.reqURL).pathname === path && r.respDoneAt !== undefined);
    const first = await until('the first GET', () => done('/a'));
    const post = await until('the POST', () => done('/p'));
    assert.match(JSON.stringify(first.reqHeaders), /<redacted>/, 'the trace redacted the Authorization');

    const again = await entry.session.sendAgain.send(first.traceID);
    assert.equal(again.ok, true, JSON.stringify(again));
    assert.ok(again.traceID && again.traceID !== first.traceID, 'a new request');
    await until('the server to get it again', () => seen.filter((s) => s.url === '/a?token=t0k').length === 2);
    const got = seen.filter((s) => s.url === '/a?token=t0k');
    assert.deepEqual(got[1], got[0], 'the server received what the program sent: the Authorization, the secret query, the other headers');
    assert.equal(got[1].auth, 'Bearer s3cret');
    const repeat = await until('its record with repeatOf', () =>
      trace().httpRequests.find((r) => r.traceID === again.traceID && r.repeatOf),
    );
    assert.equal(repeat.repeatOf, first.traceID, 'linked to the first');
    assert.equal(repeat.reqURL, first.reqURL, 'the same (redacted) URL in the trace');
    const auth = repeat.reqHeaders.find(([n]) => n.toLowerCase() === 'authorization');
    assert.equal(auth[1], '<redacted>', 'the trace still shows <redacted>');

    // The body goes again too.
    const postAgain = await entry.session.sendAgain.send(post.traceID);
    assert.equal(postAgain.ok, true, JSON.stringify(postAgain));
    await until('the POST again', () => seen.filter((s) => s.url === '/p').length === 2);
    assert.deepEqual(seen.filter((s) => s.url === '/p')[1], {
      method: 'POST',
      url: '/p',
      auth: 'Basic dTpw',
      keep: undefined,
      body: '{"n":"é"}',
    });

    // Edited: a REDACTED value keeps the program's, a typed one replaces it; method, URL and body change.
    const edited = await entry.session.sendAgain.send(first.traceID, {
      method: 'PUT',
      url: `${base}/b`,
      headers: [
        ['Authorization', '<redacted>'],
        ['X-Keep', '2'],
      ],
      body: 'edited',
    });
    assert.equal(edited.ok, true, JSON.stringify(edited));
    const b = await until('the edited request', () => seen.find((s) => s.url === '/b'));
    assert.deepEqual(b, { method: 'PUT', url: '/b', auth: 'Bearer s3cret', keep: '2', body: 'edited' });

    child.kill();
    await new Promise((r) => child.once('close', r));
    await until('the process to be gone', () => !entry.session.rules.peerOf(1));
    const gone = await entry.session.sendAgain.send(first.traceID);
    assert.equal(gone.ok, false);
    assert.equal(gone.ended, true);
    assert.match(gone.reason, /has ended/);
  } finally {
    child?.kill();
    await store.dispose();
    server.close();
  }
});

test('Send Again: without the sendAgain option (nettrace run) the process keeps nothing and says so', { timeout: 60_000 }, async () => {
  const server = createServer((req, res) => res.end('ok'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const store = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 60_000 });
  let child;
  try {
    const { key, ipcPath } = await store.prepare('no send again');
    const entry = store.get(key);
    const env = m.buildPreloadEnv(process.env, { preloadPath: preload, config: { ipcPath } });
    child = spawn(process.execPath, ['-e', `require('node:http').get('${base}/a', (r) => r.resume()); setTimeout(() => {}, 60_000);`], {
      env,
      stdio: 'inherit',
    });
    const first = await until('the request', () => entry.session.snapshot().httpRequests.find((r) => r.respDoneAt !== undefined));
    const r = await entry.session.sendAgain.send(first.traceID);
    assert.equal(r.ok, false);
    assert.match(r.reason, /keeps no requests to send again/);
  } finally {
    child?.kill();
    await store.dispose();
    server.close();
  }
});

/**
 * fetch and userland undici (issue 51): the request is sent again through the program's undici,
 * so the server receives the same method, URL, header list (names, values and order: the
 * Authorization the trace redacted, what fetch added) and body; the trace links it and keeps
 * `<redacted>`. On every Node version (Node's fetch is a different undici on each).
 */
for (const { label, bin } of nodeBinaries()) {
  test(
    `${label}: Send Again for fetch and undici requests: the same headers and body reach the server, linked`,
    { timeout: 60_000 },
    async () => {
      const seen = [];
      const server = createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
          seen.push({ method: req.method, url: req.url, headers: req.rawHeaders, body: Buffer.concat(chunks).toString() });
          res.end('ok');
        });
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${server.address().port}`;
      const store = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 60_000 });
      let child;
      try {
        const { key, ipcPath } = await store.prepare('send again undici');
        const entry = store.get(key);
        const env = m.buildPreloadEnv(
          { ...process.env, NODE_PATH: join(root, 'node_modules') },
          { preloadPath: preload, config: { ipcPath, sendAgain: true } },
        );
        const code = `
        const undici = require('undici');
        (async () => {
          await (await fetch('${base}/f?token=t0k', { headers: { Authorization: 'Bearer s3cret', 'X-Keep': '1' } })).text();
          await (await fetch('${base}/fp', { method: 'POST', headers: { authorization: 'Basic dTpw', 'content-type': 'application/json' }, body: '{"n":"é"}' })).text();
          await (await undici.request('${base}/u', { headers: { authorization: 'Bearer u5er', 'x-keep': '2' } })).body.text();
          await (await undici.request('${base}/up', { method: 'PUT', headers: { authorization: 'Bearer p' }, body: 'undici body' })).body.text();
        })();
        setTimeout(() => {}, 60_000);`;
        child = spawn(bin, ['-e', code], { env, stdio: 'inherit' });
        const trace = () => entry.session.snapshot();
        const done = (path) => trace().httpRequests.find((r) => new URL(r.reqURL).pathname === path && r.respDoneAt !== undefined);
        for (const [path, client] of [
          ['/f', 'fetch'],
          ['/fp', 'fetch'],
          ['/u', 'undici'],
          ['/up', 'undici'],
        ]) {
          const first = await until(`the first ${path}`, () => done(path));
          assert.equal(first.client, client);
          assert.match(JSON.stringify(first.reqHeaders), /<redacted>/, 'the trace redacted the Authorization');
          const again = await entry.session.sendAgain.send(first.traceID);
          assert.equal(again.ok, true, JSON.stringify(again));
          assert.ok(again.traceID && again.traceID !== first.traceID, 'a new request');
          const got = await until(`the server to get ${path} again`, () => {
            const g = seen.filter((s) => s.url.split('?')[0] === path);
            return g.length === 2 && g;
          });
          assert.deepEqual(got[1], got[0], 'the server received what the program sent: method, URL, every header in order, the body');
          assert.ok(
            got[1].headers.some((h) => /^(Bearer|Basic) /.test(h)),
            'the Authorization as the program sent it',
          );
          const repeat = await until(`${path} again with repeatOf`, () =>
            trace().httpRequests.find((r) => r.traceID === again.traceID && r.repeatOf && r.respDoneAt !== undefined),
          );
          assert.equal(repeat.repeatOf, first.traceID, 'linked to the first');
          assert.equal(repeat.reqURL, first.reqURL, 'the same (redacted) URL in the trace');
          assert.equal(repeat.client, client);
          const auth = repeat.reqHeaders.find(([n]) => n.toLowerCase() === 'authorization');
          assert.equal(auth[1], '<redacted>', 'the trace still shows <redacted>');
        }
        // Edited: a REDACTED value keeps the program's, a typed one replaces it; method, URL and body change.
        const first = await until('the first /u', () => done('/u'));
        const edited = await entry.session.sendAgain.send(first.traceID, {
          method: 'POST',
          url: `${base}/e`,
          headers: [
            ['authorization', '<redacted>'],
            ['x-keep', '3'],
          ],
          body: 'edited',
        });
        assert.equal(edited.ok, true, JSON.stringify(edited));
        const e = await until('the edited request', () => seen.find((s) => s.url === '/e'));
        const h = Object.fromEntries(e.headers.flatMap((v, i, a) => (i % 2 ? [] : [[v.toLowerCase(), a[i + 1]]])));
        assert.deepEqual([e.method, h.authorization, h['x-keep'], e.body], ['POST', 'Bearer u5er', '3', 'edited']);
      } finally {
        child?.kill();
        await store.dispose();
        server.close();
      }
    },
  );
}

/** A local server that records what each request brought (method, path, headers as sent, body). */
async function recordingServer() {
  const seen = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const h = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) h[req.rawHeaders[i].toLowerCase()] = req.rawHeaders[i + 1];
      seen.push({ method: req.method, url: req.url, headers: h, body: Buffer.concat(chunks).toString() });
      res.end('ok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, seen, base: `http://127.0.0.1:${server.address().port}` };
}

/**
 * Issue 61: Send Again with Changes to another origin. The program sends its credentials to
 * server A; the user, through the editor's command and its request document, sends the request
 * again to server B (another port: another origin). B gets none of the program's Authorization,
 * Cookie or X-Api-Key, and the user is told which were left out; a typed Authorization reaches B as
 * typed; the same origin gets them filled in as before. For http, fetch and userland undici.
 */
test(
  'Send Again with Changes to another origin: the credentials stay at theirs unless typed, and the user is told',
  { timeout: 90_000 },
  async () => {
    const a = await recordingServer();
    const b = await recordingServer();
    const store = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 60_000 });
    const warnings = [];
    const showWarning = vscode.window.showWarningMessage;
    vscode.window.showWarningMessage = async (msg) => void warnings.push(msg);
    let child;
    try {
      const { key, ipcPath } = await store.prepare('send again origins');
      const entry = store.get(key);
      const rules = new m.RuleService(store, undefined);
      const s = {
        context: { subscriptions: [] },
        traces: store,
        panel: { traceKey: key, revealRules() {}, selectedRequest: () => undefined, select() {} },
        rules,
        log: () => {},
      };
      m.registerWhatIfCommands(s, rules);
      const docs = vscode.workspace.fileSystems.get(m.WHAT_IF_SCHEME);
      const env = m.buildPreloadEnv(
        { ...process.env, NODE_PATH: join(root, 'node_modules') },
        { preloadPath: preload, config: { ipcPath, sendAgain: true } },
      );
      const secrets = "{ Authorization: 'Bearer s3cret', Cookie: 'sid=c00kie', 'X-Api-Key': 'k3y', 'X-Keep': '1' }";
      const code = `
      const http = require('node:http');
      const undici = require('undici');
      http.get('${a.base}/http', { headers: ${secrets} }, (res) => {
        res.resume();
        res.on('end', async () => {
          await (await fetch('${a.base}/fetch', { headers: ${secrets} })).text();
          await (await undici.request('${a.base}/undici', { headers: ${secrets} })).body.text();
        });
      });
      setTimeout(() => {}, 60_000);`;
      child = spawn(process.execPath, ['-e', code], { env, stdio: 'inherit' });
      const trace = () => entry.session.snapshot();
      const done = (path) => trace().httpRequests.find((r) => new URL(r.reqURL).pathname === path && r.respDoneAt !== undefined);

      /** Opens the request's document through the command, gives it `edit`, saves it (which sends it). */
      const sendEdited = async (req, edit) => {
        vscode.window.shownDocuments.length = 0;
        await vscode.commands.registered.get(m.WHAT_IF_COMMANDS.sendAgainEdited)({ traceKey: key, traceID: req.traceID });
        const uri = vscode.window.shownDocuments[0].uri;
        const text = new TextDecoder().decode(docs.readFile(uri));
        await docs.writeFile(uri, new TextEncoder().encode(edit(text)));
      };
      const secretNames = ['authorization', 'cookie', 'x-api-key'];

      for (const [path, client] of [
        ['/http', 'http'],
        ['/fetch', 'fetch'],
        ['/undici', 'undici'],
      ]) {
        const first = await until(`the first ${path}`, () => done(path));
        assert.equal(first.client, client);
        const sentToA = a.seen.find((r) => r.url === path);
        assert.equal(sentToA.headers.authorization, 'Bearer s3cret', 'A got the credentials from the program');

        // To B, the document as it opened (every credential reads <redacted>): none reaches B.
        warnings.length = 0;
        await sendEdited(first, (t) => t.replace(`GET ${a.base}${path}`, `GET ${b.base}${path}-b1`));
        const b1 = await until(`B to get ${path}-b1`, () => b.seen.find((r) => r.url === `${path}-b1`));
        for (const n of secretNames) assert.equal(b1.headers[n], undefined, `${client}: B got no ${n}`);
        assert.equal(b1.headers['x-keep'], '1', 'the other headers go');
        assert.equal(b1.headers.host, new URL(b.base).host, "B's own Host, not the program's");
        await until(`${client}: the message`, () => warnings.length === 1);
        assert.match(warnings[0], new RegExp(`^Net Trace: sent again to ${b.base} without Authorization, Cookie and X-Api-Key: `));
        assert.match(
          warnings[0],
          new RegExp(`the program's credentials for ${a.base}, and Send Again fills them in only for the same scheme, host and port`),
        );
        const repeat = await until(`${path}-b1 recorded`, () =>
          trace().httpRequests.find(
            (r) => r.repeatOf === first.traceID && r.reqURL === `${b.base}${path}-b1` && r.respDoneAt !== undefined,
          ),
        );
        assert.ok(
          !repeat.reqHeaders.some(([n]) => secretNames.includes(n.toLowerCase())),
          'the trace shows what went: no credential header',
        );

        // To B with a typed Authorization: that one goes, as typed; the cookie and the key stay out.
        warnings.length = 0;
        await sendEdited(first, (t) =>
          t
            .replace(`GET ${a.base}${path}`, `GET ${b.base}${path}-b2`)
            .replace(/^Authorization: <redacted>$/im, 'Authorization: Bearer typed-for-b'),
        );
        const b2 = await until(`B to get ${path}-b2`, () => b.seen.find((r) => r.url === `${path}-b2`));
        assert.equal(b2.headers.authorization, 'Bearer typed-for-b', `${client}: the typed value`);
        assert.equal(b2.headers.cookie, undefined);
        assert.equal(b2.headers['x-api-key'], undefined);
        await until(`${client}: the second message`, () => warnings.length === 1);
        assert.match(warnings[0], / without Cookie and X-Api-Key: /);

        // The same origin (another path on A): filled in as the program sent them, nothing said.
        warnings.length = 0;
        await sendEdited(first, (t) => t.replace(`GET ${a.base}${path}`, `GET ${a.base}${path}-same`));
        const same = await until(`A to get ${path}-same`, () => a.seen.find((r) => r.url === `${path}-same`));
        assert.deepEqual(
          secretNames.map((n) => same.headers[n]),
          ['Bearer s3cret', 'sid=c00kie', 'k3y'],
          `${client}: the same origin gets the program's values`,
        );
        await until(`${path}-same recorded`, () =>
          trace().httpRequests.find((r) => r.reqURL === `${a.base}${path}-same` && r.respDoneAt !== undefined),
        );
        assert.deepEqual(warnings, [], 'nothing left out: no message');

        // The protocol itself, below the editor: a URL of another origin and no header edits.
        const bare = await entry.session.sendAgain.send(first.traceID, { url: `${b.base}${path}-b3` });
        assert.equal(bare.ok, true, JSON.stringify(bare));
        assert.deepEqual(
          bare.leftOut.map((n) => n.toLowerCase()),
          secretNames,
          'each left out (named as the client wrote it)',
        );
        const b3 = await until(`B to get ${path}-b3`, () => b.seen.find((r) => r.url === `${path}-b3`));
        for (const n of secretNames) assert.equal(b3.headers[n], undefined, `${client}: no ${n} without edits either`);
      }
    } finally {
      vscode.window.showWarningMessage = showWarning;
      child?.kill();
      await store.dispose();
      a.server.close();
      b.server.close();
    }
  },
);
