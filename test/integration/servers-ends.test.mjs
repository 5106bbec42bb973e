// covers: src/preload/server/serverHooks.ts
// How served exchanges end (issue 49): an HTTP/2 core-API server that reads the request body (a
// 'data' listener, resume(), pipe()) finished each response, not "aborted"; an event stream the
// client abandoned is aborted with the body bytes the server did write (HTTP/1.1 and HTTP/2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeBinaries, runTraced } from './harness.mjs';

/** The app's run, once per Node version (both tests read it). */
async function traced(bin) {
  const { code, trace, stdout, stderr } = await runTraced(bin, 'served-bodies.cjs');
  assert.equal(code, 0, stderr);
  const inc = (path) => {
    const found = trace.incomingRequests.filter((i) => new URL(i.reqURL).pathname === path);
    assert.equal(found.length, 1, path);
    return found[0];
  };
  return { out: JSON.parse(stdout), inc };
}

for (const { label, bin } of nodeBinaries()) {
  let ran;
  const once = () => (ran ??= traced(bin));
  test(`${label}: HTTP/2 core-API streams whose handler reads the body (data listener, resume(), pipe()) are finished, not aborted, with their lengths`, async () => {
    const { out, inc } = await once();
    for (const mode of ['data', 'resume', 'pipe']) {
      const seen = out.h2[mode];
      // What Node and the client say: the whole response arrived, no reset.
      assert.equal(seen.status, 200);
      assert.equal(seen.rstCode, 0);
      const r = inc(`/${mode}`);
      assert.equal(r.server, 'http2');
      assert.equal(r.aborted, undefined, `${mode}: not aborted`);
      assert.equal(r.respStatusCode, 200);
      assert.equal(r.error, undefined);
      assert.equal(r.reqContentLen, 'hello world'.length, `${mode}: request body`);
      assert.equal(r.respContentLen, seen.written, `${mode}: response body`);
      assert.ok(r.respDoneAt >= r.respHeadAt && r.respHeadAt >= r.reqBodyDoneAt, `${mode}: times`);
      assert.ok(r.reqEndAt >= r.respDoneAt);
    }
  });

  test(`${label}: an event stream the client abandoned after 5 events (HTTP/1.1, HTTP/2) is aborted, with the body bytes the server wrote`, async () => {
    const { out, inc } = await once();
    for (const [path, seen, server] of [
      ['/events', out.h1sse, 'http'],
      ['/sse', out.h2.sse, 'http2'],
    ]) {
      const r = inc(path);
      assert.equal(r.server, server);
      assert.ok(seen.events >= 5, `${path}: ${seen.events} events written`);
      assert.equal(r.aborted, true, `${path}: the client went away`);
      assert.equal(r.respDoneAt, undefined);
      assert.equal(r.respStatusCode, 200);
      assert.equal(r.respContentLen, seen.written, `${path}: the body bytes the server wrote`);
      assert.ok(r.reqEndAt >= r.respHeadAt);
    }
  });
}
