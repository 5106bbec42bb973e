// covers: src/preload/undici/undiciFetch.ts, src/preload/undici/badPort.ts
// fetch() to a "bad port" (the Fetch standard's blocked ports): undici rejects the call before it
// makes a request and publishes nothing, so the preload's fetch() wrapper records the failed
// request itself (src/preload/undici/undiciFetch.ts blockedFetch) — with the program's line, the
// error the program got, no invented headers or phases — and the trace rules still decide it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, nodeBinaries, root, runTraced } from './harness.mjs';
import { refusedPort } from '../lib/ports.mjs';
import { bundleTs } from '../lib/bundleTs.mjs';

const appLines = readFileSync(join(apps, 'fetchBadPort.mjs'), 'utf8').split('\n');
const lineOf = (marker) => appLines.findIndex((l) => l.includes(marker)) + 1;

/**
 * Runs `app` traced with `bin` and checks it ran through; the trace, and what the program printed
 * it saw (its JSON lines: `seen`, and `byLabel` keyed by their `label`).
 */
async function tracedApp(bin, app, env, cliArgs = []) {
  const res = await runTraced(bin, app, { env, cliArgs });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /^done$/m);
  assert.doesNotMatch(res.stdout, /unexpected|failed:/);
  const seen = res.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  return { trace: res.trace, seen, byLabel: Object.fromEntries(seen.map((s) => [s.label, s])) };
}

async function traced(cliArgs = []) {
  return tracedApp(process.execPath, 'fetchBadPort.mjs', { NT_REFUSED: String(await refusedPort()) }, cliArgs);
}

const byPath = (trace, path) => trace.httpRequests.filter((r) => new URL(r.reqURL).pathname === path);

test('a fetch() to a bad port is a failed request: the error the program got, its line, no connection, no phases', async () => {
  const { trace, seen } = await traced();
  const get = seen.find((s) => s.label === 'get');
  // What the program saw: fetch's own wrapper error, its cause "bad port".
  assert.deepEqual({ message: get.message, cause: get.cause }, { message: 'fetch failed', cause: 'bad port' });

  const [r] = byPath(trace, '/profile');
  assert.ok(r, `a record for the bad-port call: ${trace.httpRequests.map((x) => x.reqURL).join(', ')}`);
  assert.equal(r.client, 'fetch');
  assert.equal(r.reqMethod, 'GET');
  assert.equal(r.reqURL, 'http://127.0.0.1:6000/profile?token=<redacted>', 'the URL redacted as any other');
  assert.deepEqual(r.reqError, { phase: 'connect', name: 'TypeError', message: get.message, cause: { message: get.cause } });
  assert.equal(r.reqHeaders, undefined, 'fetch had not added its headers: none are invented');
  assert.equal(r.tcpConn, undefined);
  assert.equal(r.dial, undefined);
  assert.equal(r.reqEndAt, r.reqStartAt, 'it failed at the call');
  assert.deepEqual(r.timings, { blocked: 0, dns: -1, connect: -1, ssl: -1, send: -1, wait: -1, receive: -1 });
  assert.match(r.diagnosis, /^fetch refused port 6000 without connecting: the Fetch standard blocks it as a bad port/);
  // The program's line: the fetch() call inside loadProfile, then its caller.
  const top = r.initiator.frames[0];
  assert.match(top.file, /fetchBadPort\.mjs$/);
  assert.equal(top.line, lineOf('line 7: the bad-port call'));
  assert.equal(top.function, 'loadProfile');

  const [post] = byPath(trace, '/upload');
  assert.ok(post, 'a Request to a bad port too');
  assert.equal(post.reqMethod, 'POST', 'the method as fetch normalizes it');
  assert.equal(post.reqURL, 'http://localhost:10080/upload');
  assert.equal(post.initiator.frames[0].line, lineOf('// line 14'));

  // A port fetch allows goes to the network as before: undici's request, refused by the kernel.
  const [open] = byPath(trace, '/open');
  assert.ok(open.dial, 'the allowed port was dialed');
  assert.equal(open.reqError.code, 'ECONNREFUSED');
  assert.equal(seen.find((s) => s.label === 'refused').code, 'ECONNREFUSED');
  assert.equal(trace.httpRequests.length, 3);
});

test('the trace rules decide a bad-port fetch() as any other: skipped by port, kept by a rule read at its end', async () => {
  const { trace } = await traced([
    '--rule',
    'no-x11: skip port == 6000',
    '--rule',
    'fails: trace failed and errorPhase == "connect"',
    '--rule',
    'rest: skip true',
  ]);
  assert.equal(byPath(trace, '/profile').length, 0, 'skipped by the rule on its port');
  const [post] = byPath(trace, '/upload');
  assert.ok(post, 'kept by the rule that reads the failure');
  assert.equal(post.reqError.cause.message, 'bad port');
  assert.equal(byPath(trace, '/open').length, 1, 'the refused request is kept by the same rule');
  const counts = Object.fromEntries(trace.traceRules.rules.map((r) => [r.id, r.matched]));
  assert.equal(counts['no-x11'], 1);
});

test("the preload's list of bad ports is the one this Node's fetch() blocks", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-badport-'));
  const { badPortOf } = bundleTs(["export { badPortOf } from './src/preload/undici/badPort';"], { dir, name: 'badport.cjs' });
  const blocked = [];
  const ours = [];
  // Every bad port is below 10,100; a few above it stand for the rest.
  const ports = [...Array(10100).keys(), 11000, 32768, 65535];
  for (let i = 0; i < ports.length; i += 500) {
    await Promise.all(
      ports.slice(i, i + 500).map(async (p) => {
        const url = `http://127.0.0.1:${p}/`;
        if (badPortOf(url) !== undefined) ours.push(p);
        // A bad port rejects at once; any other is refused by the kernel (or aborted, if something listens and is slow).
        await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.body?.cancel(),
          (e) => e.cause?.message === 'bad port' && blocked.push(p),
        );
      }),
    );
  }
  const sort = (a) => a.sort((x, y) => x - y);
  assert.deepEqual(sort(ours), sort(blocked));
  assert.ok(blocked.length >= 80, `${blocked.length} bad ports`);
  assert.equal(badPortOf('https://example.com/'), undefined, 'the default port is never a bad one');
  assert.equal(badPortOf('ftp://example.com:21/'), undefined, 'only http(s) URLs are fetched over the network');
});

const wsLines = readFileSync(join(apps, 'websocketBadPort.mjs'), 'utf8').split('\n');
const wsLineOf = (marker) => wsLines.findIndex((l) => l.includes(marker)) + 1;

for (const node of nodeBinaries().filter((n) => Number(/\d+/.exec(n.label)[0]) >= 22)) {
  test(`${node.label}: a global WebSocket to a bad port is a failed request with its line; the class is the same to the program`, async () => {
    const { trace, byLabel: seen } = await tracedApp(node.bin, 'websocketBadPort.mjs', { NT_REFUSED: String(await refusedPort()) });
    // What the program saw: an error event that does not say why (Node 24+: an empty TypeError and
    // a 1006 close; Node 22: "Received network error or non-101 status code."), as for a refused socket.
    assert.equal(seen.feed.error.type, 'error');
    assert.notEqual(seen.feed.error.message, 'bad port');
    assert.deepEqual([seen.feed.instance, seen.feed.proto, seen.feed.OPEN], [true, true, 1], 'instanceof, the prototype, the constants');
    assert.equal(seen.chat.instance, true, 'a subclass of the global WebSocket is one');
    assert.equal(seen.chat.error.type, 'error');
    assert.equal(seen.invalid.threw, 'SyntaxError', 'a URL the constructor refuses still throws');

    const [feed] = byPath(trace, '/feed');
    assert.ok(feed, `a record for the bad-port socket: ${trace.httpRequests.map((x) => x.reqURL).join(', ')}`);
    assert.equal(feed.client, 'fetch');
    assert.equal(feed.reqMethod, 'GET');
    assert.equal(feed.reqURL, 'http://127.0.0.1:6000/feed?token=<redacted>', 'the URL fetch is given, redacted');
    assert.deepEqual(feed.reqError, { phase: 'connect', name: 'Error', message: 'bad port' });
    assert.equal(feed.reqHeaders, undefined, 'no headers are invented');
    assert.equal(feed.tcpConn, undefined);
    assert.equal(feed.reqEndAt, feed.reqStartAt);
    assert.match(feed.diagnosis, /^fetch refused port 6000 for this WebSocket without connecting/);
    assert.equal(feed.initiator.frames[0].line, wsLineOf('// the bad-port socket'));
    assert.equal(feed.initiator.frames[0].function, 'openFeed');

    const [chat] = byPath(trace, '/chat');
    assert.equal(chat?.reqURL, 'https://localhost:6697/chat');
    // The subclass's own (implicit) constructor is the program's innermost frame, its `new` the next.
    assert.deepEqual(
      chat.initiator.frames.slice(0, 2).map((f) => f.line),
      [wsLineOf('class Chat extends WebSocket'), wsLineOf('// a subclass, wss')],
    );

    const [open] = byPath(trace, '/open');
    assert.equal(open.reqError.code, 'ECONNREFUSED', 'a port fetch allows is dialed and refused by the kernel');
    assert.doesNotMatch(open.diagnosis, /bad port/);
    assert.equal(trace.httpRequests.length, 3, 'the URL the constructor threw for made no record');
  });
}

const uLines = readFileSync(join(apps, 'undiciBadPort.cjs'), 'utf8').split('\n');
const uLineOf = (marker) => uLines.findIndex((l) => l.includes(marker)) + 1;

for (const node of nodeBinaries()) {
  test(`${node.label}: userland undici's fetch() and WebSocket to a bad port are failed requests of client undici, with their lines`, async () => {
    const { trace, byLabel: seen } = await tracedApp(node.bin, 'undiciBadPort.cjs', { NODE_PATH: join(root, 'node_modules') });
    assert.deepEqual([seen.fetch.message, seen.fetch.cause], ['fetch failed', 'bad port']);
    assert.deepEqual([seen.ws.instance, seen.ws.OPEN], [true, 1], 'the exported class is the same to the program');
    const [f] = byPath(trace, '/u');
    assert.ok(f, `a record for the bad-port fetch: ${trace.httpRequests.map((x) => x.reqURL).join(', ')}`);
    assert.equal(f.client, 'undici');
    assert.equal(f.reqURL, 'http://127.0.0.1:6000/u?token=<redacted>');
    assert.deepEqual(f.reqError, { phase: 'connect', name: 'TypeError', message: 'fetch failed', cause: { message: 'bad port' } });
    assert.match(f.diagnosis, /^fetch refused port 6000 without connecting/);
    assert.equal(f.initiator.frames[0].line, uLineOf('// the userland fetch'));
    const [w] = byPath(trace, '/w');
    assert.ok(w, 'a record for the bad-port socket');
    assert.equal(w.client, 'undici');
    assert.deepEqual(w.reqError, { phase: 'connect', name: 'Error', message: 'bad port' });
    assert.match(w.diagnosis, /^fetch refused port 6666 for this WebSocket/);
    assert.equal(w.initiator.frames[0].line, uLineOf('// the userland socket'));
    assert.equal(trace.httpRequests.length, 2);
  });
}
