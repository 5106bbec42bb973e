// covers: src/preload/playback/replayWebSocket.ts
// The pieces of a replayed WebSocket (src/preload/playback/replayWebSocket.ts): the accept value
// made from the program's key (RFC 6455's own example), a server's frame of each size class as
// `ws`'s own parser reads it, and the program's messages counted off its masked frames however its
// writes split them (a fragmented message once, at its final frame; each control frame once).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { bundleTs } from '../lib/bundleTs.mjs';

const dir = mkdtempSync(join(tmpdir(), 'nettrace-replay-ws-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const { acceptOf, frameOf, ClientFrameCounter } = bundleTs(
  ["export { acceptOf, frameOf, ClientFrameCounter } from './src/preload/playback/replayWebSocket';"],
  { dir, name: 'replay-ws.cjs' },
);
const { Receiver, Sender } = createRequire(import.meta.url)('ws');

test("acceptOf: RFC 6455 §1.3's example", () => {
  assert.equal(acceptOf('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test("frameOf: text, binary and control frames of every length class, read back by ws's own Receiver", async () => {
  const sent = [
    [1, Buffer.from('hello')],
    [2, Buffer.alloc(125, 1)],
    [2, Buffer.alloc(126, 2)],
    [1, Buffer.from('x'.repeat(65535))],
    [2, Buffer.alloc(65536, 3)],
    [9, Buffer.from('p1')],
  ];
  const got = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data, isBinary) => got.push([isBinary ? 2 : 1, Buffer.from(data)]));
  receiver.on('ping', (data) => got.push([9, Buffer.from(data)]));
  const done = new Promise((resolve, reject) => {
    receiver.on('error', reject);
    receiver.on('ping', () => resolve());
  });
  for (const [op, payload] of sent) receiver.write(frameOf(op, payload));
  await done;
  assert.deepEqual(
    got.map(([op, b]) => [op, b.toString('hex')]),
    sent.map(([op, b]) => [op, b.toString('hex')]),
  );
});

test('ClientFrameCounter: one per message or control frame, whatever the writes split', () => {
  const frames = [];
  const sender = new Sender({ write: (b) => frames.push(Buffer.from(b)), cork() {}, uncork() {} });
  // A message in two fragments, a ping in between, then a long binary one and a close.
  sender.send(Buffer.from('part one '), { binary: false, fin: false, mask: true });
  sender.ping(Buffer.from('p'), true);
  sender.send(Buffer.from('part two'), { binary: false, fin: true, mask: true });
  sender.send(Buffer.alloc(70000, 7), { binary: true, fin: true, mask: true });
  sender.close(1000, 'bye', true);
  const bytes = Buffer.concat(frames);
  for (const size of [1, 7, 1000, bytes.length]) {
    let n = 0;
    const counter = new ClientFrameCounter(() => n++);
    for (let i = 0; i < bytes.length; i += size) counter.write(bytes.subarray(i, i + size));
    assert.equal(n, 4, `written ${size} bytes at a time: the ping, the text, the binary, the close`);
  }
});
