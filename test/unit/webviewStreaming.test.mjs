// covers: webview/waterfall.ts
// The panel's waterfall for a response still streaming: no end yet, and the time since its first
// byte drawn as receiving up to "now" (not pending); once it ends, its own end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = await build({
  absWorkingDir: root,
  stdin: { contents: "export * from './webview/waterfall';", resolveDir: root, loader: 'ts' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
  logLevel: 'warning',
});
const w = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);

/** A request with its start, as the list's rows carry it. */
const at = (r) => ({ req: r, start: w.requestStart(r) });

const base = {
  traceID: 'req-1',
  pid: 1,
  client: 'http',
  reqMethod: 'GET',
  reqURL: 'http://h/sse',
  reqStartAt: 0,
  reqSentAt: 2,
  respRecvAt: 10,
  respStatusCode: 200,
};
const timings = { blocked: 0, dns: -1, connect: 2, ssl: -1, send: 0, wait: 8, receive: -1 };

test('a streaming response has no end and receives up to now', () => {
  const r = { ...base, respContentLen: 96, respEvents: 2, timings };
  assert.equal(w.requestEnd(at(r)), undefined);
  assert.equal(w.requestDuration(at(r)), undefined);
  assert.deepEqual(
    w.requestSegments(at(r), 50).map((s) => [s.phase, s.start, s.end]),
    [
      ['connect', 0, 2],
      ['wait', 2, 10],
      ['receive', 10, 50],
    ],
  );
});

test('once ended, or before any progress was reported, it is not streaming', () => {
  assert.equal(w.requestEnd(at({ ...base, respContentLen: 96, respDoneAt: 60, timings: { ...timings, receive: 50 } })), 60);
  assert.equal(w.requestEnd(at({ ...base, timings })), 10);
  assert.equal(w.requestEnd(at({ ...base, respContentLen: 0, respDoneAt: 10, webSocket: { openAt: 10 }, timings })), 10);
});
