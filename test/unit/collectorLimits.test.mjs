// covers: src/collector/session.ts, src/trace/builder/
// needs: the build (dist/core.cjs)
// The collector against a runaway or hostile same-user peer (issue 13, item 10): records per kind,
// captured-body blobs waiting for their records, connections at once and unfinished bytes are
// capped; what was dropped is counted in stats, said in a warning and shown in the summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { connect } from 'node:net';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const rec = (kind, id, fields) => ({ type: 'record', kind, id, fields });
/** A connection to a collector socket, once connected. */
const openSocket = (ipcPath) =>
  new Promise((resolve) => {
    const s = connect(ipcPath);
    s.on('error', () => {});
    s.on('connect', () => resolve(s));
  });

test('records past maxRecords per kind are dropped and counted; the summary says so', () => {
  const b = new core.TraceBuilder({ description: 't', maxRecords: 10 });
  const c = b.openConnection();
  for (let i = 0; i < 25; i++) b.apply(c, rec('httpRequests', `r${i}`, { reqMethod: 'GET', reqURL: `http://a/${i}` }));
  // An update of a kept record still applies.
  b.apply(c, rec('httpRequests', 'r3', { respStatusCode: 204 }));
  for (let i = 0; i < 3; i++) b.apply(c, rec('dials', `d${i}`, { dstAddress: 'a:80' }));
  assert.equal(b.trace.httpRequests.length, 10);
  assert.equal(b.trace.httpRequests[3].respStatusCode, 204);
  assert.equal(b.trace.dials.length, 3);
  assert.equal(b.trace.stats.droppedRecords, 15);
  assert.ok(b.trace.stats.warnings.some((w) => /more than 10 httpRequests records: the rest are dropped/.test(w)));
  assert.match(core.renderSummary(b.trace), /15 records over the collector's cap dropped/);
});

test('blobs waiting for their records are capped in bytes over all connections; unclaimed ones count when their connection closes', () => {
  const b = new core.TraceBuilder({ description: 't', maxPendingBlobBytes: 1000 });
  const c1 = b.openConnection();
  const c2 = b.openConnection();
  b.apply(c1, { type: 'blob', id: 'x1', data: new Uint8Array(600) });
  b.apply(c2, { type: 'blob', id: 'x2', data: new Uint8Array(600) }); // over 1000 with x1: dropped
  assert.equal(b.trace.stats.droppedBlobs, 1);
  // Claimed: its bytes no longer count, so the next fits.
  b.apply(c1, rec('httpRequests', 'r1', { reqMethod: 'POST', reqURL: 'http://a/', reqBody: { textBlob: 'x1', len: 600 } }));
  assert.equal(b.trace.httpRequests[0].reqBody.text.length, 600);
  b.apply(c2, { type: 'blob', id: 'x3', data: new Uint8Array(900) });
  assert.equal(b.trace.stats.droppedBlobs, 1);
  b.closeConnection(c2);
  assert.equal(b.trace.stats.droppedBlobs, 2, 'x3 was never claimed');
  b.apply(c1, { type: 'blob', id: 'x4', data: new Uint8Array(900) });
  assert.equal(b.trace.stats.droppedBlobs, 2, 'x3 freed its bytes');
  assert.match(core.renderSummary(b.trace), /2 captured bodies dropped/);
  // Saved and read back, the counts survive.
  const text = JSON.stringify(b.trace);
  assert.equal(core.parseTraceFile(text, 'F').stats.droppedBlobs, 2);
});

test('the collector socket: connections past maxConnections are refused, a connection holding too many unfinished bytes is closed', async (t) => {
  const collector = await core.startCollector({ description: 't', maxConnections: 3, maxPendingBytes: 1024 * 1024 });
  t.after(() => collector.close());
  const open = () => openSocket(collector.ipcPath);
  const socks = [await open(), await open(), await open()];
  const fourth = await open();
  await new Promise((r) => fourth.on('close', r));
  assert.ok(collector.session.builder.trace.stats.warnings.some((w) => /more than 3 preload connections at once/.test(w)));
  // 600 KiB unfinished on two connections: past 1 MiB in total, the second is closed.
  socks[0].write(Buffer.alloc(600 * 1024, 0x61));
  await new Promise((r) => setTimeout(r, 100));
  socks[1].write(Buffer.alloc(600 * 1024, 0x61));
  await new Promise((r) => socks[1].on('close', r));
  assert.ok(collector.session.builder.trace.stats.warnings.some((w) => /held more than 1 MiB of unfinished messages/.test(w)));
  assert.equal(socks[0].destroyed, false);
  // The first connection still works.
  socks[0].write(
    '\n' +
      JSON.stringify({ type: 'hello', pid: 7, ppid: 1, threadId: 0, argv: [], nodeVersion: 'v20', cwd: '/', startAt: Date.now() }) +
      '\n',
  );
  socks[0].write(JSON.stringify(rec('httpRequests', 'r1', { reqMethod: 'GET', reqURL: 'http://a/' })) + '\n');
  for (let i = 0; i < 50 && collector.session.builder.trace.httpRequests.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(collector.session.builder.trace.httpRequests.length, 1);
  for (const s of socks) s.destroy();
});

test('the collector socket: closing a connection over the byte limit closes only it; announced bytes not sent are not held', async (t) => {
  const collector = await core.startCollector({ description: 't', maxPendingBytes: 1024 * 1024 });
  t.after(() => collector.close());
  const open = () => openSocket(collector.ipcPath);
  const [big, announcer, hog, bystanders] = [await open(), await open(), await open(), await Promise.all(Array.from({ length: 8 }, open))];
  // A header announcing 2^40 bytes (far past the 8 MiB kept per message: skipped as it comes)
  // and one announcing 900 KiB, each followed by a few bytes: they hold what arrived, not what
  // was announced, so neither counts against the 1 MiB.
  big.write(`{"type":"blob","id":"b1","len":${2 ** 40}}\n` + 'x'.repeat(100));
  announcer.write(`{"type":"events","len":${900 * 1024},"n":1}\n` + 'y'.repeat(100));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(big.destroyed || announcer.destroyed, false);
  // 1.2 MiB unfinished on one connection, and the bystanders' bytes read in the same turn of the
  // event loop: only the hog is closed (its bytes are released at once, not at its 'close').
  hog.write(Buffer.alloc(1200 * 1024, 0x61));
  for (const b of bystanders) b.write('{"type":"warn');
  await new Promise((r) => hog.on('close', r));
  await new Promise((r) => setTimeout(r, 100));
  const closedWarnings = collector.session.builder.trace.stats.warnings.filter((w) => /held more than 1 MiB/.test(w));
  assert.equal(closedWarnings.length, 1, closedWarnings.join('\n'));
  assert.deepEqual(
    bystanders.map((b) => b.destroyed),
    bystanders.map(() => false),
  );
  assert.equal(big.destroyed || announcer.destroyed, false);
  for (const s of [big, announcer, ...bystanders]) s.destroy();
});
