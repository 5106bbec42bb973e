// HelperClient (src/helper/launch.ts) splits the helper's stdout into JSON lines by hand: a line
// cut across chunks anywhere (inside a multi-byte character too), several lines in one chunk, a
// last line without its newline, and a line that is not JSON (skipped) — each message once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { bundleTs } from '../lib/bundleTs.mjs';

const { HelperClient } = bundleTs(["export { HelperClient } from './src/helper/launch';"]);

function client() {
  const child = new EventEmitter();
  child.stdout = new PassThrough();
  const c = new HelperClient(child, 'root');
  const got = [];
  c.on('message', (m) => got.push(m));
  return { child, c, got };
}

test('every message once, in order, however the bytes are cut', async () => {
  const lines = [
    { type: 'ready', mode: 'bpf' },
    { type: 'kernelEvent', kind: 'dataIn', at: 1.5, note: 'é€😀' },
    'not json',
    { type: 'stats', lostEvents: 0 },
    { type: 'exit', reason: 'done' },
  ];
  const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'); // no newline at the end
  const bytes = Buffer.from(text);
  const want = lines.filter((l) => typeof l !== 'string');
  for (let cut = 1; cut <= bytes.length; cut += 3) {
    const { child, c, got } = client();
    for (let i = 0; i < bytes.length; i += cut) child.stdout.write(bytes.subarray(i, i + cut));
    child.stdout.end();
    await new Promise((r) => child.stdout.on('end', r));
    assert.deepEqual(got, want, `chunks of ${cut} bytes`);
    assert.equal(c.ready?.authority, 'root');
  }
});
