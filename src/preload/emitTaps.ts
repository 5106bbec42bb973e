/**
 * Events of the program's objects seen without listeners. Node's sockets and requests tell what
 * happens to them through the events they emit ('lookup', 'connectionAttempt*', 'connect',
 * 'secure', 'secureConnect', 'close'; a request's 'upgrade'/'connect'), but a listener of ours
 * shows in `listenerCount()`, `eventNames()` and `listeners()`, counts toward the program's
 * MaxListenersExceededWarning, and stays on a socket Node hands to the program in a request's
 * 'connect' or 'upgrade' (which Node promises free of library listeners).
 *
 * So the prototype whose events are wanted (net.Socket.prototype, ClientRequest.prototype) gets
 * an `emit` of its own, non-enumerable, that calls the observers of the emitting object (kept in
 * a symbol-keyed slot, see Slot) before handing the event to the inherited `emit` (looked up at
 * each call, so a program's later patch of EventEmitter.prototype.emit still applies). Objects
 * with no observer pay one property read. What stays visible: `emit` is an own property of
 * those two prototypes (docs/architecture.md).
 */

import { mirror } from './mirror';
import { Slot } from './tracer';
import { defineRestorable, isDetached } from './detach';

/** Sees one event of an observed object, before its listeners; must not throw. */
export type EventTap = (event: string | symbol, a: unknown, b: unknown, c: unknown, d: unknown) => void;

const tapsOf = new Slot<EventTap[]>('nettrace.taps', (key) => (obj) => (obj as Record<symbol, EventTap[] | undefined>)[key]);

/**
 * Every event name an observer was added for (observeEvents' `events`): an observed object's
 * events no observer wants ('data', 'readable', 'drain', 'free', 'timeout', … — most of a
 * socket's) skip its observers. Besides the calls saved, the observers then run only for the few
 * events they are for, too rarely for V8 to compile them, or to inline them into `emit` when it
 * compiles that (the mix's first 1,500 requests: one 24 M-instruction job of `emit` with the
 * connection's observer inlined, bench/tools/opt-ir.mjs).
 */
const wanted = new Set<string | symbol>();

/** Prototypes given an emit of ours. */
const tapped = new WeakSet<object>();

/**
 * Sees every event of every object of a tapped prototype (observer or not), before its listeners;
 * returns at once on the events it does not want; must not throw.
 */
export type EveryTap = (obj: object, event: string | symbol, a: unknown) => void;

/**
 * Gives `proto` the observing `emit` (once). `every`: sees the `everyEvents` of every object of
 * `proto` (events no object is observed for beforehand: a request's interim responses). Only the
 * first call's applies.
 */
export function tapEmit(proto: object, every?: EveryTap, everyEvents: readonly string[] = []): void {
  if (tapped.has(proto)) return;
  const parent = Object.getPrototypeOf(proto) as { emit?: Function } | null;
  // A prototype with an `emit` of its own (none of Node 20–26's) keeps it, wrapped.
  const ownDesc = Object.getOwnPropertyDescriptor(proto, 'emit');
  const own = ownDesc && typeof ownDesc.value === 'function' ? (ownDesc.value as Function) : undefined;
  const original = own ?? parent?.emit;
  if (typeof original !== 'function' || (ownDesc && !own)) return;
  tapped.add(proto);
  const get = tapsOf.get;
  const everyWants = new Set<string | symbol>(everyEvents);
  const emit = function emit(this: object, event: string | symbol, a?: unknown, b?: unknown, c?: unknown, d?: unknown): boolean {
    if (every !== undefined && everyWants.has(event) && !isDetached()) {
      try {
        every(this, event, a);
      } catch {
        // The observer guards its own hook.
      }
    }
    const taps = get(this);
    // The observers run here rather than in a function of their own: one function less for V8 to
    // optimize on its own once hot (it was, before `emit` itself, and then inlined into it again).
    // An object without observers (most) pays the slot's read only, not the name's lookup.
    if (taps !== undefined && wanted.has(event) && !isDetached()) {
      for (let i = 0; i < taps.length; i++) {
        try {
          taps[i]!(event, a, b, c, d);
        } catch {
          // An observer never throws into the program (each guards its own hook).
        }
      }
    }
    const inner = own ?? (parent!.emit as Function);
    // The listeners get the arguments as given (their number too), without an `arguments` object
    // for the common counts: this runs for every event of every socket.
    switch (arguments.length) {
      case 1:
        return inner.call(this, event);
      case 2:
        return inner.call(this, event, a);
      case 3:
        return inner.call(this, event, a, b);
      default:
        // eslint-disable-next-line prefer-rest-params
        return inner.apply(this, arguments);
    }
  };
  // No slot key on the prototype itself (it would show in the program's util.inspect with
  // showHidden); a read on an object without observers misses along the chain instead.
  mirror(emit, original);
  defineRestorable(proto, 'emit', { value: emit, writable: true, configurable: true, enumerable: ownDesc?.enumerable ?? false });
}

/**
 * Observes the `events` `obj` emits (its prototype must have been tapped): `tap` is called for
 * those (and may be for others another observer wants); `first`: before the others.
 */
export function observeEvents(obj: object, events: readonly string[], tap: EventTap, first = false): void {
  for (let i = 0; i < events.length; i++) wanted.add(events[i]!);
  const taps = tapsOf.get(obj);
  if (taps === undefined) tapsOf.set(obj, [tap]);
  else if (first) taps.unshift(tap);
  else taps.push(tap);
}

/** The events of an observer of 'close' alone. */
export const CLOSE: readonly string[] = ['close'];

/** Observes the first `event` of `obj` only (its prototype must have been tapped). */
export function observeOnce(obj: object, event: string, fn: (a: unknown, b: unknown, c: unknown, d: unknown) => void, first = false): void {
  let seen = false;
  observeEvents(
    obj,
    [event],
    (e, a, b, c, d) => {
      if (e !== event || seen) return;
      seen = true;
      fn(a, b, c, d);
    },
    first,
  );
}
