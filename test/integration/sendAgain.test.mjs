// Send Again (docs/rules.md, "Send Again"): a recorded request sent again from inside the traced
// process, through a real collector and a real local server. The server receives the headers the
// program sent (the Authorization the trace redacted) and the body; the trace keeps `<redacted>`
// and links the new request to the first (`repeatOf`); edits change the method, URL, headers and
// body, a REDACTED value keeping the program's; once the process has ended the answer says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { nodeBinaries } from './harness.mjs';
import { preload, sendAgainModules, until } from './sendAgainSetup.mjs';
import { root } from '../lib/bundleTs.mjs';

const m = sendAgainModules('sendAgain.cjs');

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
