// covers: src/preload/http2/http2SendAgain.ts, src/collector/sendAgain.ts
// Send Again for http2 (docs/rules.md, "Send Again"): a recorded http2 request sent again from
// inside the traced process (on Node 20, 22, 24 and 26), through a real collector and a real local
// http2 server. The server receives the headers the program sent (the Authorization the trace
// redacted), the body and the method; the new stream rides the program's session while it is open,
// and a new session connected as the program connected it once that one has closed; the trace
// keeps `<redacted>` and links the new request to the first (`repeatOf`); edits change the method,
// path, headers and body, a REDACTED value keeping the program's — to the same origin only: to
// another server (issue 61) the program's Authorization is left out, and the answer says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { spawn } from 'node:child_process';
import { nodeBinaries } from './harness.mjs';
import { preload, sendAgainModules, until } from './sendAgainSetup.mjs';

const m = sendAgainModules('sendAgainHttp2.cjs');

for (const { label, bin } of nodeBinaries()) {
  test(
    `${label}: Send Again of an http2 request: sent from inside the process as the program sent it, recorded redacted and linked`,
    { timeout: 60_000 },
    async () => {
      const seen = [];
      let sessions = 0;
      const server = http2.createServer();
      server.on('session', () => sessions++);
      server.on('stream', (stream, headers) => {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', () => {
          seen.push({
            method: headers[':method'],
            path: headers[':path'],
            auth: headers.authorization,
            keep: headers['x-keep'],
            length: headers['content-length'],
            body: Buffer.concat(chunks).toString(),
            session: sessions,
          });
          stream.respond({ ':status': 200 });
          stream.end('ok');
        });
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${server.address().port}`;
      // Server B: another origin (another port).
      const other = { server: http2.createServer(), seen: [] };
      other.server.on('stream', (stream, headers) => {
        stream.resume();
        stream.on('end', () => {
          other.seen.push({
            path: headers[':path'],
            auth: headers.authorization,
            keep: headers['x-keep'],
            authority: headers[':authority'],
          });
          stream.respond({ ':status': 200 });
          stream.end('ok');
        });
      });
      await new Promise((r) => other.server.listen(0, '127.0.0.1', r));
      other.base = `http://127.0.0.1:${other.server.address().port}`;
      const store = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 60_000 });
      let child;
      try {
        const { key, ipcPath } = await store.prepare('send again http2');
        const entry = store.get(key);
        const env = m.buildPreloadEnv(process.env, { preloadPath: preload, config: { ipcPath, sendAgain: true } });
        // The GET's session stays open; the POST's is closed once it is answered.
        const code = `
        const http2 = require('node:http2');
        const a = http2.connect('${base}');
        const get = a.request({ ':path': '/a?token=t0k', authorization: 'Bearer s3cret', 'x-keep': '1' });
        get.resume();
        const b = http2.connect('${base}');
        const post = b.request({ ':method': 'POST', ':path': '/p', 'content-type': 'application/json', 'content-length': '10', authorization: 'Basic dTpw' });
        post.resume();
        post.on('close', () => b.close());
        post.end('{"n":"é"}');
        setTimeout(() => {}, 60_000);`;
        child = spawn(bin, ['-e', code], { env, stdio: 'inherit' });
        const trace = () => entry.session.snapshot();
        const done = (path) => trace().httpRequests.find((r) => new URL(r.reqURL).pathname === path && r.respDoneAt !== undefined);
        const first = await until('the first GET', () => done('/a'));
        const post = await until('the POST', () => done('/p'));
        assert.equal(first.client, 'http2');
        assert.match(JSON.stringify(first.reqHeaders), /<redacted>/, 'the trace redacted the Authorization');
        await until('the POST session to close', () => seen.length === 2);
        const sessionsBefore = sessions;

        const again = await entry.session.sendAgain.send(first.traceID);
        assert.equal(again.ok, true, JSON.stringify(again));
        assert.ok(again.traceID && again.traceID !== first.traceID, 'a new request');
        await until('the server to get it again', () => seen.filter((s) => s.path === '/a?token=t0k').length === 2);
        const got = seen.filter((s) => s.path === '/a?token=t0k');
        assert.deepEqual(got[1], got[0], "the server received what the program sent, on the program's open session");
        assert.equal(got[1].auth, 'Bearer s3cret');
        assert.equal(sessions, sessionsBefore, "no new session while the program's is open");
        const repeat = await until('its record with repeatOf', () =>
          trace().httpRequests.find((r) => r.traceID === again.traceID && r.repeatOf),
        );
        assert.equal(repeat.repeatOf, first.traceID, 'linked to the first');
        assert.equal(repeat.client, 'http2');
        assert.equal(repeat.reqURL, first.reqURL, 'the same (redacted) URL in the trace');
        const auth = repeat.reqHeaders.find(([n]) => n.toLowerCase() === 'authorization');
        assert.equal(auth[1], '<redacted>', 'the trace still shows <redacted>');

        // The body goes again too, on a new session (the program closed the POST's).
        const postAgain = await entry.session.sendAgain.send(post.traceID);
        assert.equal(postAgain.ok, true, JSON.stringify(postAgain));
        await until('the POST again', () => seen.filter((s) => s.path === '/p').length === 2);
        const posts = seen.filter((s) => s.path === '/p');
        assert.deepEqual({ ...posts[1], session: undefined }, { ...posts[0], session: undefined });
        assert.deepEqual(posts[1], {
          method: 'POST',
          path: '/p',
          auth: 'Basic dTpw',
          keep: undefined,
          length: '10',
          body: '{"n":"é"}',
          session: sessionsBefore + 1,
        });
        await until('the POST again recorded', () =>
          trace().httpRequests.find((r) => r.traceID === postAgain.traceID && r.repeatOf === post.traceID),
        );

        // Edited: a REDACTED value keeps the program's, a typed one replaces it; method, path and body change.
        const edited = await entry.session.sendAgain.send(first.traceID, {
          method: 'PUT',
          url: `${base}/b`,
          headers: [
            [':method', 'GET'],
            ['authorization', '<redacted>'],
            ['x-keep', '2'],
          ],
          body: 'edited',
        });
        assert.equal(edited.ok, true, JSON.stringify(edited));
        const b = await until('the edited request', () => seen.find((s) => s.path === '/b'));
        assert.deepEqual(
          { ...b, session: undefined },
          { method: 'PUT', path: '/b', auth: 'Bearer s3cret', keep: '2', length: undefined, body: 'edited', session: undefined },
        );

        // To another origin (server B, a new session there): the Authorization stays out, typed or not said.
        const toB = await entry.session.sendAgain.send(first.traceID, {
          url: `${other.base}/to-b`,
          headers: [
            ['authorization', '<redacted>'],
            ['x-keep', '3'],
          ],
        });
        assert.equal(toB.ok, true, JSON.stringify(toB));
        assert.deepEqual(toB.leftOut, ['authorization']);
        const gotB = await until('B to get it', () => other.seen.find((r) => r.path === '/to-b'));
        assert.deepEqual(gotB, { path: '/to-b', auth: undefined, keep: '3', authority: new URL(other.base).host });
        const typed = await entry.session.sendAgain.send(first.traceID, {
          url: `${other.base}/typed`,
          headers: [['authorization', 'Bearer typed']],
        });
        assert.equal(typed.ok, true, JSON.stringify(typed));
        assert.equal(typed.leftOut, undefined, 'nothing left out');
        const gotTyped = await until('B to get the typed one', () => other.seen.find((r) => r.path === '/typed'));
        assert.equal(gotTyped.auth, 'Bearer typed');
      } finally {
        child?.kill();
        await store.dispose();
        server.close();
        other.server.close();
      }
    },
  );
}
