// covers: src/preload/message/wsFrames.ts
// WebSocket frame counting: messages and data payload bytes from a byte stream cut anywhere,
// checked against frames written by the `ws` library's own Sender (masked and unmasked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs(["export * from './src/preload/message/wsFrames';"]);
const require = createRequire(import.meta.url);
const { Sender } = require('ws');

/** Frames for [opcode, payload, fin] as ws's Sender frames them. */
function frames(list, mask) {
  return Buffer.concat(
    list.flatMap(([opcode, data, fin = true]) =>
      Sender.frame(Buffer.from(data), {
        fin,
        opcode,
        mask,
        maskBuffer: mask ? Buffer.from([1, 2, 3, 4]) : undefined,
        readOnly: false,
        rsv1: false,
      }),
    ),
  );
}

const cases = [
  // text, binary, ping (not counted), a message in three fragments, a 126-length and a 127-length payload, close
  [1, 'hello'],
  [2, Buffer.alloc(3, 7)],
  [9, 'ping'],
  [1, 'frag-a', false],
  [0, 'frag-b', false],
  [0, 'frag-c', true],
  [2, Buffer.alloc(300, 1)],
  [1, 'y'.repeat(70000)],
  [8, Buffer.from([0x0f, 0xa1, 0x62, 0x79, 0x65])],
];
const dataBytes = 5 + 3 + 18 + 300 + 70000;

for (const mask of [false, true]) {
  test(`counts messages and payload bytes (${mask ? 'masked' : 'unmasked'}), whole and cut at every size`, () => {
    const stream = frames(cases, mask);
    for (const step of [stream.length, 1, 2, 3, 7, 13, 1000]) {
      const c = m.frameCounter();
      for (let i = 0; i < stream.length; i += step) m.countFrames(c, stream.subarray(i, i + step));
      assert.equal(c.messages, 5, `step ${step}`);
      assert.equal(c.bytes, dataBytes, `step ${step}`);
      // The parser ends on a frame boundary: one more frame is one more message.
      m.countFrames(c, frames([[1, 'z']], mask));
      assert.equal(c.messages, 6, `step ${step}: aligned after the stream`);
    }
  });
}
