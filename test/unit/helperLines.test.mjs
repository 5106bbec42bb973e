// covers: src/helper/launch.ts
// HelperClient (src/helper/launch.ts) splits the helper's stdout into JSON lines by hand: a line
// cut across chunks anywhere (inside a multi-byte character too), several lines in one chunk, a
// last line without its newline, and a line that is not JSON (skipped) — each message once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { bundleTs } from '../lib/bundleTs.mjs';

const { HelperClient } = bundleTs(["export { HelperClient } from './src/helper/launch';"]);

function client(stdin) {
  const child = new EventEmitter();
  child.stdout = new PassThrough();
  child.stdin = stdin;
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

// Node may emit a child's 'exit' before the lines it wrote just before exiting were read: a
// helper that ends as soon as its target's last socket is read had its final readings cut off.
test('exited resolves after the last line was read, not at the exit event; bounded when the pipe stays open', async () => {
  const { child, c, got } = client();
  child.stdout.write(JSON.stringify({ type: 'ready', mode: 'inet_diag' }) + '\n');
  let ended = false;
  c.exited.then(() => (ended = true));
  child.emit('exit', 0);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(ended, false, 'not before its output is read to the end');
  child.stdout.end(JSON.stringify({ type: 'exit', reason: 'target exited' }) + '\n');
  await new Promise((r) => child.stdout.on('end', r));
  child.emit('close', 0);
  assert.equal(await c.exited, 0);
  assert.deepEqual(
    got.map((m) => m.type),
    ['ready', 'exit'],
  );
  // A process that inherited the pipe keeps it open: the exit counts after a second.
  const held = client();
  const t0 = performance.now();
  held.child.emit('exit', 3);
  assert.equal(await held.c.exited, 3);
  const waited = performance.now() - t0;
  assert.ok(waited >= 900 && waited < 3000, `${waited} ms`);
});

test('a command to a helper that has just ended (EPIPE) is dropped, not thrown into the collector', async () => {
  const epipe = new Writable({ write: (_chunk, _enc, cb) => cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) });
  const { c } = client(epipe);
  c.send({ type: 'stop' });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(epipe.destroyed, true, 'the write failed');
});
