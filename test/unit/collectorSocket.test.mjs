// covers: src/preload/transport/collectorSocket.ts
// The preload's pipe socket (src/preload/transport/collectorSocket.ts): a net.Socket that works over a unix
// socket as any other (connect, Node's stream writes, reads, its fd) while Node's shared
// `Socket#_handle` accessor is never called for it, so a program's sockets keep that accessor's
// feedback to themselves; where Node has no such accessor, the plain class is used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs(["export { collectorSocketClass } from './src/preload/transport/collectorSocket';"]);

test('the pipe socket connects, writes, reads and has an fd without calling Node’s shared _handle accessor', async () => {
  const shared = Object.getOwnPropertyDescriptor(net.Socket.prototype, '_handle');
  assert.ok(shared?.get && shared?.set, 'this Node has the accessor the workaround is for');
  let callsForOthers = 0;
  let callsForPlain = 0;
  // Node's accessor cannot be redefined (not configurable): a class between it and the pipe's
  // counts the calls that reach it — its own instances stand for the program's sockets.
  class Counting extends net.Socket {}
  Object.defineProperty(Counting.prototype, '_handle', {
    configurable: true,
    get() {
      if (Object.getPrototypeOf(this) === Counting.prototype) callsForPlain++;
      else callsForOthers++;
      return shared.get.call(this);
    },
    set(v) {
      if (Object.getPrototypeOf(this) === Counting.prototype) callsForPlain++;
      else callsForOthers++;
      shared.set.call(this, v);
    },
  });
  const path = join(mkdtempSync(join(tmpdir(), 'nettrace-pipe-')), 'collector.sock');
  const received = [];
  const server = net.createServer();
  try {
    const Cls = m.collectorSocketClass(Counting);
    assert.notEqual(Cls, Counting);
    await new Promise((resolve) => server.listen(path, resolve));
    // The program's side: a plain socket of the counting class, connected to the same server.
    const program = new Counting();
    program.connect({ path });
    server.on('connection', (c) => {
      c.on('data', (d) => received.push(String(d)));
      c.write('rules');
    });
    const s = new Cls();
    assert.ok(s instanceof net.Socket);
    assert.equal(s._handle, null);
    s.connect({ path });
    assert.equal(typeof s._handle?.fd, 'number');
    assert.ok(s._handle.fd >= 0, 'the fd the preload writes to');
    const [data] = await once(s, 'data');
    assert.equal(String(data), 'rules');
    s.write('hello\n');
    for (let i = 0; i < 50 && received.join('') !== 'hello\n'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(received.join(''), 'hello\n');
    s.destroy();
    program.destroy();
    await once(s, 'close');
    assert.equal(callsForOthers, 0, 'the pipe never went through the shared accessor');
    assert.ok(callsForPlain > 0, 'the program’s socket did (the counter works)');
  } finally {
    server.close();
  }
});

test('without Node’s _handle accessor the plain class is used, and nothing throws', () => {
  class Plain {}
  assert.equal(m.collectorSocketClass(Plain), Plain);
  assert.equal(m.collectorSocketClass(null), null);
  class GetterOnly {}
  Object.defineProperty(GetterOnly.prototype, '_handle', { get: () => null, configurable: true });
  assert.equal(m.collectorSocketClass(GetterOnly), GetterOnly);
});
