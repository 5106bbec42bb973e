'use strict';
// The benchmark's "bare hooks" condition: the observation points of dist/preload.cjs with nothing
// behind them. It subscribes to the same diagnostics channels (http and undici) with empty
// subscribers and installs the same wrappers (http/https request and get, global fetch,
// net.Socket#connect, IncomingMessage#push and #_destroy, ClientRequest#destroy, undici's
// Request#onData) as pass-throughs. Recording nothing, it measures what Node's channels and one
// wrapper per method cost a program at all, which tells that cost apart from the work Net Trace
// does in them (building records, ids, timestamps, stacks, serializing, sending).
const dc = require('node:diagnostics_channel');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');

const noop = () => {};
for (const name of ['http.client.request.start', 'http.client.response.finish', 'http.client.request.error']) dc.subscribe(name, noop);
for (const name of [
  'undici:client:sendHeaders',
  'undici:request:bodySent',
  'undici:request:headers',
  'undici:request:trailers',
  'undici:client:connectError',
  'undici:request:error',
]) {
  dc.subscribe(name, noop);
}

/** Replaces `obj[name]` with a pass-through, as the preload does (non-enumerable where it is). */
function passThrough(obj, name, enumerable) {
  const original = obj[name];
  if (typeof original !== 'function') return;
  const wrapped = function (...args) {
    return original.apply(this, args);
  };
  Object.defineProperty(obj, name, { value: wrapped, writable: true, configurable: true, enumerable });
}

for (const mod of [http, https]) for (const name of ['request', 'get']) passThrough(mod, name, true);
passThrough(globalThis, 'fetch', Object.getOwnPropertyDescriptor(globalThis, 'fetch')?.enumerable ?? false);
passThrough(net.Socket.prototype, 'connect', false);
passThrough(http.IncomingMessage.prototype, 'push', false);
passThrough(http.IncomingMessage.prototype, '_destroy', false);
passThrough(http.ClientRequest.prototype, 'destroy', false);
// undici's Request class is reached only through its first request, as in the preload.
const seen = new WeakSet();
dc.subscribe('undici:request:create', ({ request }) => {
  const proto = request && Object.getPrototypeOf(request);
  if (!proto || seen.has(proto)) return;
  seen.add(proto);
  passThrough(proto, 'onData', false);
});

// BARE_SECOND_CONNECTION=1: the program also opens a second connection (to its server, kept open
// and idle) at its first request, as Net Trace's preload opens its pipe to the collector then.
// Why it matters: Node's `Socket#_handle` getter (lib/net.js) reads `this[kHandle]` for every
// socket, and the Socket constructor calls it three times at three shapes of the object under
// construction. A program whose only socket was made before V8 gave the getter feedback (the
// first calls run without) leaves it polymorphic; a second socket made later adds those shapes
// and turns it megamorphic for the rest of the process — a stub-cache probe in every inlined
// `socket._handle` read of Node's http and stream code (≈ 3,200–3,900 instructions per http
// request, callgrind). Any program with two sockets in its life pays it, traced or not.
if (process.env.BARE_SECOND_CONNECTION === '1') {
  const open = () => {
    // Once: the subscribers go, so later requests pay nothing for them.
    dc.unsubscribe('http.client.request.start', open);
    dc.unsubscribe('undici:request:create', open);
    const url = process.argv.find((a) => /^https?:\/\//.test(a));
    const s = net.connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
    s.on('error', noop);
    s.unref();
  };
  dc.subscribe('http.client.request.start', open);
  dc.subscribe('undici:request:create', open);
}
