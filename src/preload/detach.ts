/**
 * Everything the preload installs in its host, kept so that detach() can take it out again: the
 * diagnostics_channel subscriptions, the functions it replaced on Node's modules, prototypes and
 * globals, its timers and its collector connection. A preload loaded into a running process
 * through the debugger (an attach session) is detached when the debugger detaches or the trace
 * ends: nothing of Net Trace keeps working in the program afterwards.
 *
 * A replaced function is put back where the property still holds our wrapper; where the program
 * (or a library) wrapped it again since, our wrapper stays inside theirs and passes every call
 * through (its hook is disabled). Methods put on single objects in flight (a socket's `push`, a
 * request's `write`) stay on those objects and pass through likewise.
 */

import { subscribe as dcSubscribe, unsubscribe as dcUnsubscribe } from 'node:diagnostics_channel';
import type { DetachReport } from '../protocol/preload';

let detached = false;
const undo: Array<() => void> = [];
const channels = new Set<string>();
let restored = 0;
let passThrough = 0;

/** True once detach() ran: every hook passes through. */
export function isDetached(): boolean {
  return detached;
}

/** Runs `fn` at detach() (at once when detached already); last registered, first run. */
export function onDetach(fn: () => void): void {
  if (detached) safely(fn);
  else undo.push(fn);
}

type Subscriber = (message: unknown, name: string | symbol) => void;
/** The preload's subscribers by channel, for deliver(). */
const subscribers = new Map<string, Subscriber[]>();

/** `dc.subscribe`, undone at detach(). */
export function subscribe(name: string, fn: Subscriber): void {
  dcSubscribe(name, fn);
  channels.add(name);
  const list = subscribers.get(name) ?? [];
  list.push(fn);
  subscribers.set(name, list);
  onDetach(() => {
    dcUnsubscribe(name, fn);
    subscribers.delete(name);
  });
}

/**
 * Hands a message Node published before the preload subscribed (the one that made the loader
 * run it, firstUse.ts) to the preload's subscribers of that channel, as a publish would.
 */
export function deliver(name: string, message: unknown): void {
  for (const fn of subscribers.get(name) ?? []) {
    try {
      fn(message, name);
    } catch {
      // Each subscriber guards its own hook.
    }
  }
}

/**
 * `Object.defineProperty(obj, key, descriptor)` for a replaced method, undone at detach(): the
 * property's previous own descriptor comes back (or the own property goes, where the method was
 * inherited) if it still holds `descriptor.value`.
 */
export function defineRestorable(obj: object, key: PropertyKey, descriptor: PropertyDescriptor): void {
  const before = Object.getOwnPropertyDescriptor(obj, key);
  Object.defineProperty(obj, key, descriptor);
  const ours = descriptor.value as unknown;
  onDetach(() => {
    const current = Object.getOwnPropertyDescriptor(obj, key);
    if (!current || current.value !== ours) {
      passThrough++;
      return;
    }
    if (before) Object.defineProperty(obj, key, before);
    else delete (obj as Record<PropertyKey, unknown>)[key];
    restored++;
  });
}

/** Takes out everything registered, once; never throws. */
export function detach(): DetachReport {
  if (detached) return { already: true, channels: [...channels], restored, passThrough };
  detached = true;
  while (undo.length > 0) safely(undo.pop()!);
  return { already: false, channels: [...channels], restored, passThrough };
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // One piece that cannot be undone leaves the others to undo.
  }
}
