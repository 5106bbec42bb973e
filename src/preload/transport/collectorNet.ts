/**
 * What the preload's collector connection (transport.ts) calls, bound before the program can
 * replace it: `net`'s socket functions the moment `net` is loaded, and the timers, clock, JSON and
 * fs functions when the preload loads.
 */

import * as fs from 'node:fs';
import type * as net from 'node:net';
import { collectorSocketClass } from './collectorSocket';

/** `net`'s functions the transport uses, bound by bindNet(); CollectorSocket: collectorSocket.ts. */
export interface NetFunctions {
  CollectorSocket: ReturnType<typeof collectorSocketClass>;
  connect: Function;
  on: Function;
  unref: Function;
  destroy: Function;
}
let netFns: NetFunctions | undefined;

/**
 * Binds `net`'s functions for the collector connection: called as soon as `net` is loaded (by the
 * program: builtins.ts), before any hook of ours or patch of the program's; else at the first
 * connection to the collector.
 */
export function bindNet(): NetFunctions {
  if (netFns) return netFns;
  const mod = require('node:net') as typeof net;
  netFns = {
    CollectorSocket: collectorSocketClass(mod.Socket),
    connect: mod.Socket.prototype.connect,
    on: mod.Socket.prototype.on,
    unref: mod.Socket.prototype.unref,
    destroy: mod.Socket.prototype.destroy,
  };
  return netFns;
}

/** The original functions, bound before the program can replace them. */
export const orig = {
  writeSync: fs.writeSync,
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setImmediate: globalThis.setImmediate,
  stringify: JSON.stringify,
  perfNow: performance.now.bind(performance),
  bufferFrom: Buffer.from.bind(Buffer) as (text: string, encoding: BufferEncoding) => Buffer,
  apply: Reflect.apply,
  wait: Atomics.wait,
};

/** The fd of a connected (or connecting) socket, -1 when there is none. */
export function fdOf(socket: net.Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: number } })._handle;
  return typeof handle?.fd === 'number' ? handle.fd : -1;
}
