// covers: src/preload/message/traceparent.ts, src/preload/causality.ts
// Net Trace's own W3C traceparent (the addTraceparent option, src/preload/message/traceparent.ts): the
// header's form, the trace-id of the incoming request a call was made for (the one it carried,
// else one made up for it and shared by its calls), a new trace outside any; a ClientRequest
// that has one keeps it, one whose head is built without any header gets one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs(["export * from './src/preload/message/traceparent';", "export { incomingStore } from './src/preload/causality';"]);
const VALID = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;
const traceOf = (tp) => VALID.exec(tp)[1];

test('traceIdOf: the trace-id of a valid traceparent only', () => {
  assert.equal(m.traceIdOf(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`), 'a'.repeat(32));
  assert.equal(m.traceIdOf(`00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`), undefined, 'all-zero trace-id');
  assert.equal(m.traceIdOf('01-x'), undefined);
  assert.equal(m.traceIdOf(undefined), undefined);
});

test('newTraceparent: a new trace outside any incoming request, the incoming one inside', () => {
  const a = m.newTraceparent();
  const b = m.newTraceparent();
  assert.match(a, VALID);
  assert.notEqual(traceOf(a), traceOf(b), 'outside any incoming request: a trace each');
  const carried = 'c'.repeat(32);
  m.incomingStore.run({ id: 'i3', traceId: carried }, () => {
    assert.equal(traceOf(m.newTraceparent()), carried, 'the trace the incoming request carried');
  });
  const made = m.incomingStore.run({ id: 'i4', traceId: undefined }, () => [m.newTraceparent(), m.newTraceparent()]);
  assert.equal(traceOf(made[0]), traceOf(made[1]), 'one made-up trace per incoming request, shared by its calls');
  assert.notEqual(made[0], made[1], 'a parent-id per call');
  const other = m.incomingStore.run({ id: 'i5', traceId: undefined }, () => m.newTraceparent());
  assert.notEqual(traceOf(other), traceOf(made[0]));
});

test('addToHttpRequests: a head built without a traceparent gets one; a request with its own keeps it', () => {
  class Outgoing {
    constructor(headers) {
      this.h = headers;
    }
    hasHeader(n) {
      return this.h !== null && n in this.h;
    }
    setHeader(n, v) {
      (this.h ??= {})[n] = [n, v];
    }
    _storeHeader(firstLine, headers) {
      return [firstLine, headers];
    }
  }
  class Client extends Outgoing {}
  m.addToHttpRequests(Client.prototype, { name: 'http', enabled: true });
  assert.equal(Object.prototype.hasOwnProperty.call(Client.prototype, '_storeHeader'), true);
  const none = new Client(null);
  const [, sent] = none._storeHeader('GET / HTTP/1.1\r\n', null);
  assert.match(sent.traceparent[1], VALID);
  const own = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
  const mine = new Client({ traceparent: ['traceparent', own] });
  assert.equal(mine._storeHeader('GET / HTTP/1.1\r\n', mine.h)[1].traceparent[1], own);
  const raw = new Client(null);
  assert.deepEqual(raw._storeHeader('GET / HTTP/1.1\r\n', ['x-a', '1'])[1], ['x-a', '1'], 'raw array headers: left alone');
  m.addToHttpRequests(Outgoing.prototype, { name: 'http', enabled: false });
  assert.equal(new Outgoing(null)._storeHeader('x', null)[1], null, 'the hook disabled: nothing added');
});
