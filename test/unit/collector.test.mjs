// covers: src/collector/server.ts, src/collector/session.ts
// needs: the build (dist/core.cjs)
// Collector server: NDJSON over the unix socket split at odd chunk boundaries, bad lines,
// waitForIdle, throttled change events, private saved files, cleanup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const { startCollector, LineSplitter } = createRequire(import.meta.url)('../../dist/core.cjs');

const now = Date.now();
const messages = [
  { type: 'hello', pid: 4242, ppid: 1, threadId: 0, argv: ['node', 'app.js'], nodeVersion: 'v20', cwd: '/', startAt: now },
  {
    type: 'record',
    kind: 'httpRequests',
    id: 'r1',
    fields: { client: 'http', reqMethod: 'GET', reqURL: 'http://h/ünïcödé/€', reqStartAt: now + 1 },
  },
  {
    type: 'record',
    kind: 'httpRequests',
    id: 'r1',
    fields: { reqSentAt: now + 2, respRecvAt: now + 3, respDoneAt: now + 4, respStatusCode: 200 },
  },
  { type: 'stats', droppedEvents: 2, untracedRequests: 1 },
];

function send(ipcPath, chunks, end = true) {
  return new Promise((resolve, reject) => {
    const s = connect(ipcPath, async () => {
      for (const c of chunks) {
        s.write(c);
        await new Promise((r) => setTimeout(r, 2));
      }
      if (end) s.end(resolve);
      else resolve(s);
    });
    s.on('error', reject);
  });
}

test('LineSplitter joins lines across chunks and drops oversized lines', () => {
  let dropped = 0;
  const sp = new LineSplitter(10, () => dropped++);
  const out = [];
  for (const c of ['ab', 'c\nde', 'f\n\n0123456789012', '345\nok\n']) out.push(...sp.push(Buffer.from(c)));
  assert.deepEqual(out.map(String), ['abc', 'def', '', 'ok']);
  assert.equal(dropped, 1);
});

test('LineSplitter passes blob frames through whole, split anywhere, with any bytes in them, and drops oversized ones', () => {
  let dropped = 0;
  const sp = new LineSplitter(40, () => dropped++);
  const payload = Buffer.from([0x0a, 0x00, 0xff, 0x7b, 0x0a, 0x41]); // newlines, NUL, invalid UTF-8
  const stream = Buffer.concat([
    Buffer.from('one\n{"type":"blob","id":"b1","len":6}\n'),
    payload,
    Buffer.from('two\n{"type":"blob","id":"b2","len":0}\nthree\n{"type":"blob","id":"b3","len":50}\n'),
    Buffer.alloc(50, 0x0a),
    Buffer.from('four\n'),
  ]);
  for (const size of [1, 2, 3, 5, 7, stream.length]) {
    dropped = 0;
    const out = [];
    for (let i = 0; i < stream.length; i += size) out.push(...sp.push(stream.subarray(i, i + size)));
    const shown = out.map((x) => (Buffer.isBuffer(x) ? String(x) : `${JSON.parse(x.header).id}=${x.data.toString('hex')}`));
    assert.deepEqual(shown, ['one', `b1=${payload.toString('hex')}`, 'two', 'b2=', 'three', 'four'], `chunks of ${size}`);
    assert.equal(dropped, 1, 'the 50-byte blob is over the 40-byte limit');
    assert.equal(sp.heldBytes, 0);
    assert.equal(sp.midMessage, false);
  }
});

test('collector merges NDJSON split at odd boundaries (mid UTF-8 character) from two connections', async () => {
  const collector = await startCollector({ description: 'test', changeIntervalMs: 10 });
  const changes = [];
  collector.session.on('change', (ids) => changes.push(...ids));
  try {
    if (process.platform !== 'win32') {
      assert.equal(statSync(dirname(collector.ipcPath)).mode & 0o777, 0o700);
    }
    const bytes = Buffer.from(messages.map((m) => JSON.stringify(m)).join('\n') + '\nnot json at all\n\n');
    const chunks = [];
    // Odd sizes, including splits inside multi-byte characters.
    for (let i = 0, size = 1; i < bytes.length; i += size, size = ((size * 7) % 13) + 1) chunks.push(bytes.subarray(i, i + size));
    const other = [
      { ...messages[0], pid: 4243 },
      { type: 'record', kind: 'httpRequests', id: 'r1', fields: { reqURL: 'http://other/', reqStartAt: now } },
      { type: 'exit', exitAt: now + 9, exitCode: 0 },
    ];
    const open = await send(collector.ipcPath, [other.map((m) => JSON.stringify(m) + '\n').join('')], false);
    await send(collector.ipcPath, chunks);
    assert.equal(await collector.waitForIdle({ timeoutMs: 2000 }), true);
    open.destroy();
    const trace = collector.session.snapshot();
    assert.equal(trace.httpRequests.length, 2);
    const r = trace.httpRequests.find((x) => x.pid === 4242);
    assert.equal(r.reqURL, 'http://h/ünïcödé/€');
    assert.equal(r.respStatusCode, 200);
    assert.deepEqual(r.timings, { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 1, wait: 1, receive: 1 });
    assert.equal(trace.stats.droppedEvents, 2);
    // pid 4242's messages carry no `exit`, so its closed connection is reported as cut short.
    assert.deepEqual(trace.stats.warnings, [
      'a preload message was not valid JSON',
      'pid 4242 closed its connection without an exit message: it was killed or could not flush, so its last events may be missing',
    ]);
    assert.deepEqual(trace.processes.map((p) => p.pid).sort(), [4242, 4243]);
    await new Promise((res) => setTimeout(res, 30));
    assert.ok(changes.includes(r.traceID), `change events: ${changes}`);
  } finally {
    await collector.close();
  }
  assert.equal(existsSync(dirname(collector.ipcPath)), false, 'socket dir removed');
});

test('waitForIdle times out while a process is still connected', async () => {
  const collector = await startCollector({ description: 'test' });
  try {
    const s = await send(collector.ipcPath, [JSON.stringify(messages[0]) + '\n'], false);
    assert.equal(await collector.waitForIdle({ timeoutMs: 150 }), false);
    s.end();
    assert.equal(await collector.waitForIdle({ timeoutMs: 1000 }), true);
  } finally {
    await collector.close();
  }
});

test('oversized lines are dropped with a warning', async () => {
  const collector = await startCollector({ description: 'test', maxLineBytes: 1000 });
  try {
    const big = JSON.stringify({ type: 'warning', message: 'x'.repeat(5000) });
    await send(collector.ipcPath, [
      big.slice(0, 3000),
      big.slice(3000) + '\n' + JSON.stringify({ type: 'warning', message: 'small' }) + '\n',
    ]);
    await collector.waitForIdle();
    assert.deepEqual(collector.session.snapshot().stats.warnings, ['a preload message over 1000 bytes was dropped', 'small']);
  } finally {
    await collector.close();
  }
});

test('saved JSON and HAR are mode 0600, also when the file existed with a wider mode', { skip: process.platform === 'win32' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-save-'));
  const collector = await startCollector({ description: 'test' });
  try {
    await send(
      collector.ipcPath,
      messages.map((m) => JSON.stringify(m) + '\n'),
    );
    await collector.waitForIdle();
    const json = join(dir, 't.json');
    const har = join(dir, 't.har');
    writeFileSync(har, 'old');
    chmodSync(har, 0o644);
    await collector.session.saveJson(json);
    await collector.session.saveHar(har);
    assert.equal(statSync(json).mode & 0o777, 0o600);
    assert.equal(statSync(har).mode & 0o777, 0o600);
    assert.equal(JSON.parse(readFileSync(json, 'utf8')).httpRequests.length, 1);
    assert.equal(JSON.parse(readFileSync(har, 'utf8')).log.entries.length, 1);
  } finally {
    await collector.close();
  }
});

test("a change's listeners share one enrichment of each request; between changes it is made anew", async () => {
  const { Session } = createRequire(import.meta.url)('../../dist/core.cjs');
  const s = new Session({ description: 'memo', beginAt: new Date(now), sourceMaps: false, changeIntervalMs: 1 });
  const seen = [];
  s.on('change', (ids) => seen.push(ids.map((id) => [s.request(id), s.request(id)])));
  s.on('change', (ids) => seen.push(ids.map((id) => [s.request(id)])));
  const c = s.openConnection();
  s.apply(c, messages[0]);
  s.apply(c, {
    type: 'record',
    kind: 'httpRequests',
    id: 'r1',
    fields: { client: 'http', reqMethod: 'GET', reqURL: 'http://h/', reqStartAt: now + 1 },
  });
  s.flushChanges();
  const [[[a, b]], [[c2]]] = seen;
  assert.ok(a && a === b && b === c2, 'one object for every listener of the change');
  assert.equal(a.reqURL, 'http://h/');
  // Later, after the record changed: a new enrichment with the new fields.
  s.apply(c, { type: 'record', kind: 'httpRequests', id: 'r1', fields: { respStatusCode: 204, respRecvAt: now + 5 } });
  const later = s.request(seen[0][0][0].traceID);
  assert.notEqual(later, a);
  assert.equal(later.respStatusCode, 204);
  assert.notEqual(s.request(later.traceID), later, 'outside a change, each call enriches anew');
});

test(
  'a process that wrote its whole stream and exited before the collector read it loses nothing, though the collector answers its hello',
  { skip: process.platform === 'win32' },
  async () => {
    // A rule makes the collector answer the hello with the rule set. The writer is a child run with
    // spawnSync, which blocks this loop: it connects (the kernel queues the connection), writes
    // ~100 KB (more than the 64 KiB libuv reads at once, less than the socket buffer) and exits
    // before the collector reads a byte. The answer then fails with EPIPE after the first read.
    const c = await startCollector({ description: 't', rules: [{ id: 'm', name: 'm', condition: 'true', action: 'mark', tag: 'x' }] });
    const count = 250;
    const lines = [JSON.stringify({ ...messages[0], pid: 4343 })];
    for (let i = 0; i < count; i++) {
      const fields = { client: 'http', reqMethod: 'GET', reqURL: `http://h/${i}/${'p'.repeat(120)}`, reqStartAt: now + 1 };
      lines.push(JSON.stringify({ type: 'record', kind: 'httpRequests', id: `q${i}`, fields }));
      lines.push(
        JSON.stringify({ type: 'record', kind: 'httpRequests', id: `q${i}`, fields: { respDoneAt: now + 4, respStatusCode: 200 } }),
      );
    }
    lines.push(JSON.stringify({ type: 'exit', exitAt: now + 9, exitCode: 0 }));
    const stream = lines.join('\n') + '\n';
    assert.ok(stream.length > 65536 && stream.length < 120_000, `${stream.length} bytes`);
    const writer = `const s = require('node:net').connect(process.argv[1], () => s.end(process.argv[2], () => s.destroy()));`;
    let trace;
    try {
      const res = spawnSync(process.execPath, ['-e', writer, c.ipcPath, stream], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(res.status, 0, res.stderr);
      const deadline = Date.now() + 10_000;
      while (c.session.builder.trace.processes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.ok(await c.waitForIdle({ timeoutMs: 10_000 }));
      trace = c.session.snapshot();
    } finally {
      await c.close();
    }
    assert.deepEqual(trace.stats.warnings, []);
    assert.equal(trace.processes[0]?.exitCode, 0);
    assert.equal(trace.httpRequests.length, count);
    assert.ok(trace.httpRequests.every((r) => r.respStatusCode === 200 && !r.incomplete));
  },
);
