// covers: src/preload/message/recorder.ts, src/trace/builder/recordings.ts
// Recording for replay (issue 64 item 1: `nettrace run --record`, src/preload/message/recorder.ts,
// src/trace/builder/recordings.ts). A program (apps/record.mjs) makes its requests with node:http,
// node:https, the global fetch, userland undici.request, node:http2, axios and got, and opens
// WebSockets with ws (and Node's own, 22+), against real local servers (recordServers.mjs) that
// answer (JSON with cookies, gzip, binary, chunked with trailers, an event stream, a 503, an
// echo, a 100 Continue), fail (reset before the head, reset after 1000 bytes of the body, never
// answer past the client's timeout) or cannot be reached (a refused port, NXDOMAIN from a local
// DNS server, an expired certificate). Each recorded exchange is held byte for byte to what its
// server sent, its head to what the program's client handed the program, its end to what the
// program saw; on every Node the suite runs. Then the caps: a body over the per-body cap cut and
// said, the run's cap held across two processes, and nothing recorded without `--record`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { apps, cli, nodeBinaries, run } from './harness.mjs';
import { caFile } from './servers.mjs';
import { RESET_AFTER, startRecordServers } from './recordServers.mjs';

let servers;
before(async () => {
  servers = await startRecordServers();
});
after(() => servers?.close());

/** Runs apps/record.mjs under `nettrace run` with `flags`: the trace, its file's text and mode, the program's lines by id, stderr. */
async function recordRun(bin, flags, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-record-'));
  const out = join(dir, 'trace.json');
  try {
    const res = await run(
      process.execPath,
      [
        cli,
        'run',
        '--quiet',
        '--helper',
        'off',
        `--dns-trace=${servers.dnsAddress}`,
        '--out',
        out,
        ...flags,
        '--',
        bin,
        join(apps, 'record.mjs'),
      ],
      { env: { ...servers.env, NT_CA: caFile, NODE_EXTRA_CA_CERTS: caFile, ...env }, timeoutMs: 120_000 },
    );
    assert.equal(res.code, 0, `${res.stderr}\n${res.stdout.slice(-2000)}`);
    const text = readFileSync(out, 'utf8');
    const lines = new Map(
      res.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .map((l) => [l.id, l]),
    );
    return { trace: JSON.parse(text), text, mode: statSync(out).mode & 0o777, lines, stderr: res.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The exchange of the request whose URL has `?id=<id>`, with that request. */
function exchangeOf(trace, id) {
  const reqs = trace.httpRequests.filter((r) => new URL(r.reqURL).searchParams.get('id') === id);
  assert.equal(reqs.length, 1, `one request ${id}: ${trace.httpRequests.map((r) => r.reqURL).join(', ')}`);
  const found = trace.exchanges.filter((e) => e.traceID === reqs[0].traceID);
  assert.equal(found.length, 1, `one exchange for ${id}`);
  return { ex: found[0], req: reqs[0] };
}

const bytes = (b) => Buffer.from(b.base64, 'base64');
const pairsOf = (flat) => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]);

/** Header pairs folded as fetch's Headers shows them: names lower-cased, values joined (Set-Cookie apart). */
function foldFetch(pairs) {
  const out = [];
  const at = new Map();
  for (const [n, v] of pairs) {
    const name = n.toLowerCase();
    if (name !== 'set-cookie' && at.has(name)) out[at.get(name)][1] += `, ${v}`;
    else {
      at.set(name, out.length);
      out.push([name, v]);
    }
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Header pairs as undici.request's `headers` object holds them: lower-cased names, a repeated one's values in a list. */
function foldUndici(pairs) {
  const o = {};
  for (const [n, v] of pairs) {
    const name = n.toLowerCase();
    o[name] = o[name] === undefined ? v : [].concat(o[name], v);
  }
  return o;
}

/** The head the program was handed, compared with the recorded one as its client shows headers. */
function sameHead(client, ex, p) {
  assert.equal(ex.response.status, Number(p.status), 'the status the program got');
  const rec = ex.response.headers;
  if (client === 'fetch')
    assert.deepEqual(
      foldFetch(rec),
      [...p.headers].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    );
  else if (client === 'undici') assert.deepEqual(foldUndici(rec), Object.fromEntries(p.headers));
  else if (client === 'http2')
    assert.deepEqual(
      rec,
      pairsOf(p.rawHeaders).filter(([n]) => !n.startsWith(':')),
    );
  else assert.deepEqual(rec, pairsOf(p.rawHeaders), 'every header pair as received, in order, values unredacted');
}

/** How each case ends (http2 reports resets with the stream's code, checked against what the program saw). */
const ENDS = {
  json: 'completed',
  gzip: 'completed',
  binary: 'completed',
  trailers: 'completed',
  sse: 'completed',
  busy: 'completed',
  post: 'completed',
  continue: 'completed',
  resetHead: 'reset',
  resetMid: 'reset',
  never: 'timeout',
  refused: 'refused',
  nxdomain: 'dns',
  expired: 'tls',
};
const CLIENTS = ['http', 'https', 'fetch', 'undici', 'http2', 'axios', 'got'];
/** Clients that hand the program the body decoded (gzip). */
const DECODES = new Set(['fetch', 'axios', 'got']);

/** One answered or failed exchange held to its server and its program. */
function checkExchange(trace, client, name, p) {
  const id = `${client}-${name}`;
  const { ex, req } = exchangeOf(trace, id);
  const s = servers.sent.get(id);
  const want = ENDS[name];
  assert.equal(ex.end.kind, want, `${id}: ${JSON.stringify(ex.end)} (the program saw ${JSON.stringify(p.error ?? p.status)})`);
  assert.equal(p.ok, want === 'completed', `${id}: the program's outcome`);
  if (want === 'completed') {
    sameHead(client, ex, p);
    assert.equal(ex.response.status, s.status, 'the status the server sent');
    for (const pair of s.headers) {
      if (client === 'http2' && pair[0] === 'trailer') continue;
      assert.ok(
        ex.response.headers.some(([n, v]) => n.toLowerCase() === pair[0] && v === pair[1]),
        `${id}: ${pair} as sent`,
      );
    }
    assert.ok(bytes(ex.body).equals(s.body), `${id}: the body byte for byte as the server sent it`);
    assert.equal(ex.body.size, s.body.length);
    assert.equal(ex.body.truncated, undefined);
    const program = Buffer.from(p.body, 'base64');
    if (name === 'gzip' && DECODES.has(client))
      assert.ok(program.equals(gunzipSync(s.body)), `${id}: still compressed in the recording, decoded by the client`);
    else assert.ok(program.equals(s.body), `${id}: what the program read`);
    // When the bytes came: the head after the start, each read after it, adding up to the body.
    const t = ex.timing;
    assert.ok(t.firstByteMs >= 0 && t.firstByteMs <= req.respRecvAt - req.reqStartAt + 1, `${id}: first byte ${t.firstByteMs}`);
    assert.equal(
      t.chunks.reduce((n, [, b]) => n + b, 0),
      s.body.length,
    );
    assert.ok(
      t.chunks.every(([ms], i) => i === 0 || ms >= t.chunks[i - 1][0]),
      'reads in order',
    );
    const lastRead = req.respDoneAt - req.respRecvAt;
    assert.ok(
      Math.abs(t.chunks.at(-1)[0] - lastRead) <= 10,
      `${id}: the last read ${t.chunks.at(-1)[0]} ms after the head, the trace's end ${lastRead}`,
    );
    if (name === 'trailers') {
      assert.deepEqual(ex.trailers, [['x-checksum', 'sha-abc']], `${id}: the trailers as sent`);
      // Three pieces 40 ms apart: read as they came (the client's reads, on its clock: those the trace times too).
      assert.ok(t.chunks.length >= 2, `${id}: ${JSON.stringify(t.chunks)}`);
    } else assert.equal(ex.trailers, undefined);
    if (p.trailers?.length) assert.deepEqual(ex.trailers.flat(), client === 'undici' ? p.trailers.flat() : p.trailers);
  }
  if (name === 'post' || name === 'continue') {
    assert.ok(bytes(ex.reqBody).equals(s.reqBody), `${id}: the request body as the program sent it`);
    assert.equal(ex.reqBody.size, s.reqBody.length);
  } else assert.equal(ex.reqBody, undefined, `${id}: no request body`);
  if (name === 'continue') assert.deepEqual(ex.interim, [{ status: 100, statusText: 'Continue', headers: [] }]);
  else assert.equal(ex.interim, undefined);
  if (name === 'resetHead') {
    assert.equal(ex.response, undefined, 'reset before the head');
    assert.equal(ex.end.afterBodyBytes, undefined);
    if (client === 'http2') assert.equal(ex.end.http2Code, p.rstCode, 'the stream reset the program saw');
  }
  if (name === 'resetMid') {
    assert.equal(ex.end.afterBodyBytes, RESET_AFTER, `${id}: reset after the bytes that came`);
    assert.ok(bytes(ex.body).equals(s.body), `${id}: the bytes before the reset`);
    assert.equal(ex.response.status, 200);
    if (p.read !== undefined) assert.ok(p.read <= RESET_AFTER, `${id}: the program read ${p.read}`);
    if (client === 'http2') assert.equal(ex.end.http2Code, p.rstCode, 'the stream reset the program saw');
  }
  if (want === 'refused' || want === 'dns' || want === 'tls') {
    // HTTP/2's stream error wraps the session's: its cause is what failed.
    assert.equal(ex.end.code, p.error.code === 'ERR_HTTP2_STREAM_CANCEL' ? p.error.cause : p.error.code);
    assert.equal(ex.end.code, { refused: 'ECONNREFUSED', dns: 'ENOTFOUND', tls: 'CERT_HAS_EXPIRED' }[want]);
    assert.equal(ex.response, undefined);
  }
  if (want === 'timeout') assert.equal(s.never, true, `${id}: the server never answered`);
}

/** A WebSocket's recorded messages, held to what its server sent and what the program sent. */
function checkWebSocket(trace, id, p) {
  const { ex } = exchangeOf(trace, id);
  const s = servers.sent.get(id);
  assert.equal(ex.response.status, 101);
  assert.equal(ex.end.kind, 'completed');
  const msgs = ex.messages.map((m) => ({ dir: m.dir, opcode: m.opcode, data: bytes(m.data), atMs: m.atMs }));
  const data = (dir) => msgs.filter((m) => m.dir === dir && m.opcode <= 2);
  assert.deepEqual(
    data('in').map((m) => [m.opcode, m.data.toString('hex')]),
    s.frames.filter((f) => f.opcode <= 2).map((f) => [f.opcode, f.data.toString('hex')]),
    'every message the server sent, in order',
  );
  assert.deepEqual(
    data('out').map((m) => [m.opcode, m.data.toString('hex')]),
    s.got.map((f) => [f.opcode, f.data.toString('hex')]),
    'every message the program sent, unmasked, in order',
  );
  // What the program read: the server's messages, as text or bytes.
  assert.deepEqual(
    p.messages.map((m) => m.text ?? Buffer.from(m.binary, 'base64').toString('latin1')),
    data('in').map((m) => m.data.toString(m.opcode === 1 ? 'utf8' : 'latin1')),
  );
  assert.ok(
    msgs.some((m) => m.dir === 'in' && m.opcode === 9 && m.data.toString() === 'p1'),
    'the ping',
  );
  assert.ok(
    msgs.some((m) => m.dir === 'out' && m.opcode === 10 && m.data.toString() === 'p1'),
    'the pong',
  );
  const close = Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')]);
  assert.ok(
    msgs.some((m) => m.dir === 'in' && m.opcode === 8 && m.data.equals(close)),
    'the server close',
  );
  assert.ok(
    msgs.every((m, i) => i === 0 || m.atMs >= msgs[i - 1].atMs),
    'in the order they passed',
  );
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: --record keeps each exchange of http, https, fetch, undici, http2, axios, got and WebSockets as its server sent it and its program saw it`, async () => {
    servers.sent.clear();
    const { trace, text, mode, lines, stderr } = await recordRun(bin, ['--record']);
    assert.equal(mode, 0o600, 'the trace is readable only by its owner');
    assert.ok(!text.includes('never-recorded'), "the request's credentials are nowhere in the file");
    assert.equal(trace.recording.maxBodyBytes, 4 * 1024 * 1024);
    assert.equal(trace.recording.maxRunBytes, 256 * 1024 * 1024);
    assert.deepEqual([trace.recording.cutExchanges, trace.recording.cutBytes], [0, 0]);
    assert.ok(Math.abs(trace.recording.recordedAt - Date.parse(trace.traceBeginAt)) < 5, 'recorded from the trace start');
    let n = 0;
    for (const client of CLIENTS) {
      for (const name of Object.keys(ENDS)) {
        if (name === 'continue' && client !== 'http') continue;
        const p = lines.get(`${client}-${name}`);
        assert.ok(p, `the program ran ${client}-${name}`);
        checkExchange(trace, client, name, p);
        n++;
      }
    }
    for (const id of ['ws', 'ws-global']) {
      if (!lines.has(id)) continue;
      checkWebSocket(trace, id, lines.get(id));
      n++;
    }
    assert.equal(trace.exchanges.length, n, 'one exchange per request, none made up');
    assert.match(stderr, new RegExp(`recorded for replay: ${n} exchanges, [\\d.]+ kB of bodies(;|$)`, 'm'));
  });
}

test('a body over --record-max-body is cut there, marked and counted; the end line and `nettrace show` say so', async () => {
  servers.sent.clear();
  const { trace, stderr } = await recordRun(process.execPath, ['--record', '--record-max-body', '10000'], {
    NT_CLIENTS: 'http',
    NT_CASES: 'json,binary',
  });
  const { ex } = exchangeOf(trace, 'http-binary');
  const sent = servers.sent.get('http-binary').body;
  assert.equal(ex.over, 'body');
  assert.equal(ex.body.size, sent.length);
  assert.equal(ex.body.truncated, true);
  assert.ok(bytes(ex.body).equals(sent.subarray(0, 10000)), 'the first 10000 bytes as sent');
  assert.equal(ex.end.kind, 'completed');
  assert.equal(exchangeOf(trace, 'http-json').ex.over, undefined);
  assert.deepEqual([trace.recording.maxBodyBytes, trace.recording.cutExchanges, trace.recording.cutBytes], [10000, 1, sent.length - 10000]);
  assert.match(stderr, /recorded for replay: 2 exchanges, [\d.]+ kB of bodies, 1 body cut at the 10\.0 kB cap/);

  // `nettrace show` of the saved file says the same.
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-record-show-'));
  try {
    const file = join(dir, 't.json');
    writeFileSync(file, JSON.stringify(trace));
    const shown = await run(process.execPath, [cli, 'show', file]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /recorded for replay: 2 exchanges, [\d.]+ kB of bodies, 1 body cut at the 10\.0 kB cap/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the run cap holds across processes: what goes over is cut, marked `run` and counted', async () => {
  servers.sent.clear();
  const { trace, stderr } = await recordRun(process.execPath, ['--record', '--record-max-run', '100000'], {
    NT_CLIENTS: 'http',
    NT_CASES: 'binary',
    NT_CHILD: '1',
  });
  assert.equal(trace.exchanges.length, 2);
  const pids = new Set(trace.httpRequests.map((r) => r.pid));
  assert.equal(pids.size, 2, 'two processes recorded');
  const kept = trace.exchanges.reduce((n, e) => n + bytes(e.body).length, 0);
  assert.equal(kept, 100000, 'the run kept its cap of bytes, no more');
  const cut = trace.exchanges.filter((e) => e.over === 'run');
  assert.equal(cut.length, 1);
  assert.equal(cut[0].body.truncated, true);
  for (const id of ['http-binary', 'child-http-binary']) {
    const { ex } = exchangeOf(trace, id);
    const sent = servers.sent.get(id).body;
    assert.equal(ex.body.size, sent.length);
    assert.ok(bytes(ex.body).equals(sent.subarray(0, bytes(ex.body).length)), `${id}: its first bytes as sent`);
  }
  assert.deepEqual([trace.recording.cutExchanges, trace.recording.cutBytes], [1, 2 * 65536 - 100000]);
  assert.match(stderr, /recorded for replay: 2 exchanges, 100\.0 kB of bodies, 1 cut at the run's 100\.0 kB cap/);
});

test('without --record nothing is recorded: no exchanges, no recording', async () => {
  servers.sent.clear();
  const { trace, stderr } = await recordRun(process.execPath, [], { NT_CLIENTS: 'http,fetch', NT_CASES: 'json,post' });
  assert.equal(trace.httpRequests.length, 4);
  assert.equal(trace.exchanges, undefined);
  assert.equal(trace.recording, undefined);
  assert.doesNotMatch(stderr, /recorded for replay/);
});
