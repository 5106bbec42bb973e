/**
 * A program's own `lookup` function (the `lookup` option of `net.connect`, an http Agent, undici's
 * `connect`), recorded as what it is: npm answers most lookups from an in-process cache, and a
 * cache hit is no DNS lookup. The dial gets a `programLookup` (the function's name and module, its
 * time, what it returned); a lookup through Node's resolver that the function makes (a cache miss)
 * is one of the dial's `dnsLookups`, as net's own are.
 *
 * Workaround: nothing tells which `dns.lookup` call a lookup function made for which dial, so
 * `dns.lookup` is wrapped (once the program loads `dns`, builtins.ts) and a call is given to:
 * - the dial whose `socket.connect()` is running: net calls the lookup function synchronously
 *   inside it (the connect hook marks it, see `connecting`); when that dial has no function of
 *   the program's, the call is net's own lookup, which the connect hook records already;
 * - otherwise (the function called it later, after a tick), the oldest dial still waiting for the
 *   program's function to answer for the same host name that has no lookup of its own yet.
 * Any other call (the program resolving a name for itself) is left alone, as before. Our own
 * resolver's fallback calls the unwrapped function (`nodeLookup`).
 *
 * The function's module is read once per function from the frame that called `dns.lookup`
 * synchronously inside it (its first call is a cache miss); a function that never does has its
 * name only.
 */

import { fileURLToPath } from 'node:url';
import type { DnsLookup, ProgramLookup } from '../../trace/contract/types';
import { callSites, captureStack } from '../initiator/stackCapture';
import type { ConnState, Tracer } from '../tracer';
import { newHook, replaceFunction } from '../tracer';
import { now } from '../clock/epoch';

/** Node's `dns.lookup` as the program found it (undefined until `dns` is loaded). */
let original: Function | undefined;
/** Our wrapper of it. */
let wrapper: Function | undefined;
/** The connection whose `socket.connect()` is running (set by the connect hook). */
let connecting: ConnState | undefined;
/** Dials waiting for the program's function to answer, oldest first (at most MAX_WAITING: a function that never answers). */
const waiting: ConnState[] = [];
const MAX_WAITING = 1000;
/** The program's function of each waiting dial. */
const functionOf = new WeakMap<ConnState, Function>();
/** The module of each function, once learned (learnModule). */
const moduleOf = new WeakMap<Function, string>();
/** Dials that had a lookup given to them after a tick (one each). */
const askedLater = new WeakSet<ConnState>();

/** Wraps `dns.lookup` (see the header); once `dns` is loaded. */
export function installDnsLookupHook(t: Tracer): void {
  const hook = newHook('dns');
  const dns = require('node:dns') as { lookup: Function };
  const node = dns.lookup;
  if (typeof node !== 'function' || node === wrapper) return;
  original = node;
  const wrapped = function lookup(this: unknown): unknown {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments;
    const entry = hook.enabled && (connecting !== undefined || waiting.length > 0) ? t.guard(hook, () => attribute(args)) : undefined;
    if (!entry) return node.apply(this, args);
    const { conn, record, index } = entry;
    const callArgs = Array.prototype.slice.call(args) as unknown[];
    const callback = callArgs[index] as Function;
    callArgs[index] = function (this: unknown, err: unknown, address: unknown): unknown {
      t.guard(hook, () => settle(record, err, address));
      // eslint-disable-next-line prefer-rest-params
      return callback.apply(this, arguments);
    };
    conn.lookups.push(record);
    try {
      return node.apply(this, callArgs);
    } catch (err) {
      // Refused its arguments (it throws before looking anything up): no lookup happened.
      const i = conn.lookups.indexOf(record);
      if (i >= 0) conn.lookups.splice(i, 1);
      throw err;
    }
  };
  wrapper = wrapped;
  replaceFunction(dns, 'lookup', wrapped, node);
}

/** `dns.lookup` unwrapped, for the tracer's own lookups (never given to a dial of the program's). */
export function nodeLookup(): Function {
  return original ?? (require('node:dns') as { lookup: Function }).lookup;
}

/** Marks the connection whose `socket.connect()` runs now; returns the one it replaces (restore it after). */
export function enterConnect(conn: ConnState | undefined): ConnState | undefined {
  const outer = connecting;
  connecting = conn;
  return outer;
}

/** The program's own lookup function in connect options (`{ lookup }`), or undefined (none, or Node's own). */
export function programLookupIn(options: unknown): Function | undefined {
  if (!options || typeof options !== 'object') return undefined;
  const d =
    Object.getOwnPropertyDescriptor(options, 'lookup') ?? Object.getOwnPropertyDescriptor(Object.getPrototypeOf(options) ?? {}, 'lookup');
  const fn = d && 'value' in d ? (d.value as unknown) : undefined;
  if (typeof fn !== 'function' || fn === original || fn === wrapper) return undefined;
  return fn;
}

/** A dial to a host name whose connect was given the program's `fn`: its `programLookup` begins. */
export function beginProgramLookup(conn: ConnState, fn: Function, beginAt: number): void {
  const own: ProgramLookup = { host: conn.host, beginAt, addresses: [], error: null };
  const name = Object.getOwnPropertyDescriptor(fn, 'name')?.value as unknown;
  const plain = typeof name === 'string' ? name.replace(/^(?:bound )+/, '') : '';
  if (plain !== '') own.function = plain;
  const module = moduleOf.get(fn);
  if (module !== undefined) own.module = module;
  conn.programLookup = own;
  functionOf.set(conn, fn);
  if (waiting.push(conn) > MAX_WAITING) waiting.shift();
}

/** The program's function answered (the socket's 'lookup' event), or the socket closed first (`err` its code). */
export function endProgramLookup(conn: ConnState, err: unknown, address: unknown, at = now()): void {
  const own = conn.programLookup;
  if (!own) return;
  if (own.endAt === undefined) {
    own.endAt = at;
    const i = waiting.indexOf(conn);
    if (i >= 0) waiting.splice(i, 1);
    const fn = functionOf.get(conn);
    const module = fn && moduleOf.get(fn);
    if (module !== undefined) own.module = module;
  }
  if (err) own.error = typeof err === 'string' ? err : errorCode(err);
  else if (typeof address === 'string' && !own.addresses.includes(address)) own.addresses.push(address);
}

/** The dial a `dns.lookup` call is for, and the record of it (see the header); undefined: not one of a program's function. */
function attribute(args: IArguments): { conn: ConnState; record: DnsLookup; index: number } | undefined {
  let index = -1;
  for (let i = args.length - 1; i >= 0; i--) {
    if (typeof args[i] === 'function') {
      index = i;
      break;
    }
  }
  if (index < 1) return undefined;
  const host = String(args[0]);
  let conn = connecting;
  if (conn !== undefined) {
    // Net's own lookup (no function of the program's) is recorded by the connect hook.
    if (!conn.programLookup || conn.programLookup.endAt !== undefined) return undefined;
    learnModule(conn);
  } else {
    conn = waiting.find((c) => c.programLookup!.host === host && !askedLater.has(c));
    if (!conn) return undefined;
    askedLater.add(conn);
  }
  return { conn, record: { host, beginAt: now(), addresses: [], error: null }, index };
}

/** The module of the dial's function, from the frame that called `dns.lookup` in it (once per function). */
function learnModule(conn: ConnState): void {
  const fn = functionOf.get(conn);
  if (!fn || moduleOf.has(fn) || !wrapper) return;
  const site = callSites(captureStack(wrapper, 1))?.[0];
  const file = site?.getFileName() ?? site?.getScriptNameOrSourceURL?.();
  if (!file) return;
  const module = moduleName(file);
  moduleOf.set(fn, module);
  conn.programLookup!.module = module;
}

/** The package a file belongs to (the last `node_modules/<name>` or `node_modules/@scope/name`), else the file itself. */
export function moduleName(file: string): string {
  const path = file.startsWith('file:') ? fileURLToPath(file) : file;
  const parts = path.split(/[\\/]node_modules[\\/]/);
  if (parts.length < 2) return path;
  const rest = parts[parts.length - 1]!.split(/[\\/]/);
  return rest[0]!.startsWith('@') && rest.length > 1 ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

/** Ends a lookup through Node's resolver with what it returned (one address, or the `all` list). */
function settle(record: DnsLookup, err: unknown, address: unknown): void {
  record.endAt = now();
  if (err) {
    record.error = errorCode(err);
    return;
  }
  const list = Array.isArray(address) ? address.map((a) => (a as { address?: unknown })?.address) : [address];
  for (const a of list) if (typeof a === 'string' && !record.addresses.includes(a)) record.addresses.push(a);
}

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e?.code === 'string' ? e.code : String(e?.message ?? err);
}
