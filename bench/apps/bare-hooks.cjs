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
