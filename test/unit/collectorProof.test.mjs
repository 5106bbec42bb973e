// covers: src/protocol/collectorProof.ts, src/protocol/sha256.ts, src/preload/transport/collectorProof.ts,
//   src/collector/collectorProof.ts
// The collector's proof of the session's key (docs/security.md, "How a traced process knows its
// collector"): the preload's own HMAC-SHA256 equals Node's; the preload accepts the proof for its
// nonce under its key, whole or in pieces, and nothing else (another key, a proof made for another
// nonce, garbage, a line too long, an end before the proof); and, read synchronously from a real
// socket, a slow proof is waited for within the budget, a silent or stopped collector is given up
// on in bounded time, and an end of the connection is a failure at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, createConnection } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs([
  "export * from './src/protocol/collectorProof';",
  "export { CollectorProof, awaitProofSync, randomNonce } from './src/preload/transport/collectorProof';",
  "export { sha256, hmacSha256 } from './src/protocol/sha256';",
  "export { newCollectorKey, answerChallenge, newChallenge, provesKey } from './src/collector/collectorProof';",
]);

const hex = (u8) => Buffer.from(u8).toString('hex');

test("the proof's own SHA-256 and HMAC-SHA256 equal Node's, for every length around the block boundaries and keys of every size", () => {
  for (let n = 0; n < 260; n++) {
    const data = randomBytes(n);
    assert.equal(hex(m.sha256(data)), createHash('sha256').update(data).digest('hex'), `sha256 of ${n} bytes`);
    const key = randomBytes((n * 7) % 150);
    assert.equal(hex(m.hmacSha256(key, data)), createHmac('sha256', key).update(data).digest('hex'), `hmac, key ${key.length}, data ${n}`);
  }
  // RFC 4231, test case 2.
  const mac = m.hmacSha256(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'));
  assert.equal(hex(mac), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  // The proof itself, as Node's crypto would make it.
  const key = randomBytes(32);
  const nonce = randomBytes(32);
  const expected = createHmac('sha256', key)
    .update(Buffer.concat([nonce, Buffer.from('nettrace collector proof v1')]))
    .digest('hex');
  assert.equal(m.proofFor(key.toString('hex'), nonce.toString('hex')), expected);
});

test('a nonce is 32 fresh bytes from the system (two never equal); a key is 32 bytes in hex', () => {
  const a = m.randomNonce();
  const b = m.randomNonce();
  assert.equal(a.length, m.NONCE_BYTES);
  assert.notDeepEqual(a, b);
  const key = m.newCollectorKey();
  assert.ok(m.isHex(key, m.KEY_BYTES));
  assert.ok(!m.isHex(key.toUpperCase(), m.KEY_BYTES) || !/[a-f]/.test(key));
  assert.ok(!m.isHex(key.slice(2), m.KEY_BYTES));
});

/** The collector's answer, as its server writes it, to the challenge `p` wrote. */
function answer(p, key) {
  const line = p.challenge.toString('latin1');
  assert.match(line, /^\{"type":"challenge","nonce":"[0-9a-f]{64}"\}\n$/, 'the challenge holds the nonce and nothing else');
  return m.answerChallenge(line.slice(0, -1), key);
}

test('the proof for the nonce under the key passes, whole or byte by byte, and hands on what followed it', () => {
  const key = m.newCollectorKey();
  const p = new m.CollectorProof(key);
  const proof = answer(p, key);
  assert.match(proof, /^\{"type":"proof","proof":"[0-9a-f]{64}"\}\n$/);
  const rules = '{"type":"rules","version":1}\n';
  const r = p.feed(Buffer.from(proof + rules));
  assert.ok(Buffer.isBuffer(r));
  assert.equal(r.toString(), rules);
  const q = new m.CollectorProof(key);
  const bytes = Buffer.from(answer(q, key));
  for (let i = 0; i < bytes.length - 1; i++) assert.equal(q.feed(bytes.subarray(i, i + 1)), 'wait');
  const last = q.feed(bytes.subarray(bytes.length - 1));
  assert.ok(Buffer.isBuffer(last) && last.length === 0);
});

test('a proof under another key, a proof made for another nonce, garbage and an over-long line all fail', () => {
  const key = m.newCollectorKey();
  const p = new m.CollectorProof(key);
  assert.equal(p.feed(Buffer.from(answer(p, m.newCollectorKey()))), 'bad', 'another key');
  // A proof the real collector gave for a nonce of someone else's (its answer to any challenge).
  const other = new m.CollectorProof(key);
  const replayed = answer(other, key);
  assert.equal(new m.CollectorProof(key).feed(Buffer.from(replayed)), 'bad', 'a proof for another nonce');
  assert.ok(Buffer.isBuffer(other.feed(Buffer.from(replayed))), 'the same proof passes for its own nonce');
  for (const garbage of [
    '\n',
    'hello\n',
    '{"type":"proof","proof":""}\n',
    `{"type":"proof","proof":"${'0'.repeat(64)}"}\n`,
    `${replayed.slice(0, -2)}\n`,
  ]) {
    assert.equal(new m.CollectorProof(key).feed(Buffer.from(garbage)), 'bad', JSON.stringify(garbage));
  }
  // The expected proof with a case change, or a space: not byte for byte, refused.
  const q = new m.CollectorProof(key);
  const good = answer(q, key);
  assert.equal(q.feed(Buffer.from(good.replace('"proof":"', '"proof": "'))), 'bad');
  const long = new m.CollectorProof(key);
  assert.equal(long.feed(Buffer.alloc(m.MAX_PROOF_LINE - 1, 0x61)), 'wait');
  assert.equal(long.feed(Buffer.from('a')), 'bad', 'no newline within MAX_PROOF_LINE bytes');
  // The collector answers only a challenge; a hello first (a configuration without a key) gets nothing.
  assert.equal(m.answerChallenge('{"type":"hello","pid":1}', key), undefined);
  assert.equal(m.answerChallenge('{"type":"challenge","nonce":"zz"}', key), undefined);
  assert.equal(m.answerChallenge('not json', key), undefined);
});

test("a router's own challenge to its collector: the right proof passes, another key's does not", () => {
  const key = m.newCollectorKey();
  const { line, expect } = m.newChallenge(key);
  const proof = m.answerChallenge(line.slice(0, -1), key);
  assert.ok(m.provesKey(Buffer.from(proof), expect));
  assert.ok(!m.provesKey(Buffer.from(m.answerChallenge(line.slice(0, -1), m.newCollectorKey())), expect));
  assert.ok(!m.provesKey(Buffer.from('{}\n'), expect));
});

/** A unix socket pair: the server side (the test's "collector") and the client's non-blocking fd. */
async function pair() {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-proof-'));
  const path = join(dir, 'ipc.sock');
  let serverSide;
  const server = createServer((s) => (serverSide = s));
  await new Promise((r) => server.listen(path, r));
  const client = createConnection(path);
  await new Promise((r) => client.once('connect', r));
  while (!serverSide) await new Promise((r) => setImmediate(r));
  // libuv stops reading it: the test reads the descriptor itself, as the preload does where the loop will not turn.
  client._handle.readStop();
  const fd = client._handle.fd;
  assert.ok(fd >= 0);
  return {
    fd,
    serverSide,
    close() {
      client.destroy();
      serverSide.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('read synchronously: a slow proof is waited for within the budget; none is given up on at the budget, a stopped collector soon', async (t) => {
  const key = m.newCollectorKey();
  // A collector in another process (this thread blocks in the read loop) that answers 150 ms late.
  const nonce = randomBytes(m.NONCE_BYTES);
  const p = new m.CollectorProof(key, nonce);
  const proof = answer(p, key);
  const { spawn } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-proof-w-'));
  const path = join(dir, 'ipc.sock');
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require('net').createServer((c) => setTimeout(() => c.write(${JSON.stringify(proof)}), 150)).listen(${JSON.stringify(path)}, () => console.log('ready'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => (child.kill(), rmSync(dir, { recursive: true, force: true })));
  await new Promise((r) => child.stdout.once('data', r));
  const client = createConnection(path);
  await new Promise((r) => client.once('connect', r));
  client.pause();
  t.after(() => client.destroy());
  const t0 = performance.now();
  const r = m.awaitProofSync(client._handle.fd, p, 3000, 50, () => true);
  const took = performance.now() - t0;
  assert.ok(Buffer.isBuffer(r), `the slow proof passed (${String(r)})`);
  assert.ok(took >= 100 && took < 2500, `${took} ms`);

  const silent = await pair();
  t.after(() => silent.close());
  const q = new m.CollectorProof(key);
  let t1 = performance.now();
  assert.equal(
    m.awaitProofSync(silent.fd, q, 300, 50, () => true),
    'wait',
  );
  let waited = performance.now() - t1;
  assert.ok(waited >= 290 && waited < 1500, `a live but silent collector: the whole budget, ${waited} ms`);
  t1 = performance.now();
  assert.equal(
    m.awaitProofSync(silent.fd, q, 1000, 50, () => false),
    'wait',
  );
  waited = performance.now() - t1;
  assert.ok(waited >= 45 && waited < 600, `a stopped or gone collector: the stall time only, ${waited} ms`);
  assert.equal(
    m.awaitProofSync(-1, q, 1000, 50, () => true),
    'wait',
    'no descriptor (a named pipe): nothing read',
  );
});

test('read synchronously: a wrong proof and the end of the connection fail at once', async (t) => {
  const key = m.newCollectorKey();
  const wrong = await pair();
  t.after(() => wrong.close());
  const p = new m.CollectorProof(key);
  wrong.serverSide.write(answer(p, m.newCollectorKey()));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(
    m.awaitProofSync(wrong.fd, p, 1000, 50, () => true),
    'bad',
  );
  const ended = await pair();
  t.after(() => ended.close());
  ended.serverSide.end('{"type":"pro');
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  assert.equal(
    m.awaitProofSync(ended.fd, new m.CollectorProof(key), 1000, 50, () => true),
    'bad',
  );
  assert.ok(performance.now() - t0 < 200);
});
