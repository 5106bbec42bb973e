/**
 * What the preload's collector connection (transport.ts) calls, bound before the program can
 * replace it: `net`'s socket functions the moment `net` is loaded, and the timers, clock, JSON and
 * fs functions when the preload loads.
 */

import { readFileSync, writeSync } from 'node:fs';
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
  binding: (process as { binding?: (name: string) => unknown }).binding,
  writeSync,
  readFileSync,
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setImmediate: globalThis.setImmediate,
  stringify: JSON.stringify,
  perfNow: performance.now.bind(performance),
  bufferFrom: Buffer.from.bind(Buffer) as (text: string, encoding: BufferEncoding) => Buffer,
  apply: Reflect.apply,
  wait: Atomics.wait,
};

/**
 * Whether the collector's process (`pid`) may still read: it exists and is neither stopped
 * (SIGSTOP, a debugger) nor a zombie, per /proc/<pid>/stat. False where that cannot be read (no
 * /proc, another user's process): the exit flush then gives up as for a stopped one.
 */
export function collectorMayRead(pid: number | undefined): boolean {
  if (typeof pid !== 'number' || !(pid > 0)) return false;
  try {
    const stat = String(orig.readFileSync(`/proc/${pid}/stat`, 'latin1'));
    // "pid (comm) S …": the state follows the last ')' (comm may hold one).
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state === 'R' || state === 'S' || state === 'D';
  } catch {
    return false;
  }
}

/** The fd of a connected (or connecting) socket, -1 when there is none. */
export function fdOf(socket: net.Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: number } })._handle;
  return typeof handle?.fd === 'number' ? handle.fd : -1;
}

/** A pipe to the collector made without `net` (see rawPipe): its fd, its close, and Node's handle itself (a `net.Socket` can take it over: `new Socket({ handle })`). */
export interface RawPipe {
  fd: number;
  close(): void;
  handle: object;
}

/** Node's pipe handle as lib/net.js uses it (`process.binding('pipe_wrap')`). */
interface PipeWrap {
  Pipe: new (type: number) => { connect(req: object, path: string): number; fd?: number; close(): void; unref(): void };
  PipeConnectWrap: new () => { oncomplete?: Function };
  constants: { SOCKET: number };
}

/**
 * A unix-socket connection to `path` made with Node's pipe handle itself, without loading `net`,
 * null when the collector cannot be reached (as `net` would find), or undefined when it cannot be
 * made so (the caller then connects with `net`). For the one
 * connection a process that made no request opens, at its exit, to send its hello and exit:
 * `net` and the streams it loads cost ≈ 47 M instructions there, as much as the rest of the
 * preload's start (issue 52). libuv connects a unix socket within the call (as for net's sockets,
 * transport.ts), so the fd takes the bytes at once; the handle is closed with the process.
 * Not where `process.binding` would warn (`--pending-deprecation`: DEP0111 reaches the program's
 * 'warning' listeners), is missing or refused (the permission model), nor on Windows (named
 * pipes have no fd). With `unref`, the handle does not keep the program's event loop alive (the
 * connection a process makes at its start to have the collector's proof early: Transport.prove).
 */
export function rawPipe(path: string, unref = false): RawPipe | null | undefined {
  if (process.platform === 'win32' || typeof orig.binding !== 'function' || PENDING_DEPRECATION) return undefined;
  try {
    const wrap = orig.apply(orig.binding, process, ['pipe_wrap']) as PipeWrap;
    const handle = new wrap.Pipe(wrap.constants.SOCKET);
    const req = new wrap.PipeConnectWrap();
    req.oncomplete = () => {};
    const err = handle.connect(req, path);
    const fd = handle.fd;
    if (err !== 0 || typeof fd !== 'number' || fd < 0) {
      handle.close();
      return null;
    }
    if (unref) handle.unref();
    return { fd, close: () => handle.close(), handle };
  } catch {
    return undefined;
  }
}

/** Node has loaded `net` (the program did, or the preload's connection). */
export function netLoaded(): boolean {
  return (process as { moduleLoadList?: string[] }).moduleLoadList?.includes('NativeModule net') !== false;
}

/**
 * Node runs with pending deprecations on (the flag, in the command line or NODE_OPTIONS, or its
 * variable), read when the preload loads: as Node read them, before the program could change them.
 */
const PENDING_DEPRECATION =
  process.env.NODE_PENDING_DEPRECATION === '1' ||
  [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--pending-deprecation'));
