/**
 * New record objects with room for their fields inside the object (the builder's records,
 * builder.ts applyRecord).
 *
 * A record is made by adding its fields one by one to an object. V8 keeps only the properties an
 * object was made with inside it; every property added past those goes to a separate property
 * array, which is copied into a larger one every few properties — a request (20-odd fields)
 * left the smaller copies to the garbage collector and kept the last array, with its header and
 * spare slots, as long as the trace. An object made by a constructor instead
 * gets as many slots inside it as V8 expects the constructor's objects to have: its estimate
 * from the `this.x = …` assignments in the constructor's body, cut down to the largest object
 * made by the time V8 stops watching (in-object slack tracking, after the first few objects).
 * The constructors below hold those assignments in a branch that never runs, and the first
 * objects are made here, at load, with exactly that many fields, so every later record has
 * them inside. Records keep `Object.prototype`: they stay plain objects to every reader.
 */

import type { RecordKind } from '../contract/types';

/** In-object fields of a request record: what a completed request has (20–23 in the realistic mix). */
const REQUEST_SLOTS = 22;
/** In-object fields of any other record (connections, dials, TLS tunnels: 10–14). */
const OTHER_SLOTS = 14;

/** Never set: the constructors' assignments only tell V8 how many fields to expect. */
const SIZING = { on: false };

/** A request record's object (22 fields inside). */
function RequestObject(this: Record<string, unknown>): void {
  if (SIZING.on) {
    this.f0 = this.f1 = this.f2 = this.f3 = this.f4 = this.f5 = this.f6 = this.f7 = 0;
    this.f8 = this.f9 = this.f10 = this.f11 = this.f12 = this.f13 = this.f14 = this.f15 = 0;
    this.f16 = this.f17 = this.f18 = this.f19 = this.f20 = this.f21 = 0;
  }
}

/** Any other record's object (14 fields inside). */
function OtherObject(this: Record<string, unknown>): void {
  if (SIZING.on) {
    this.f0 = this.f1 = this.f2 = this.f3 = this.f4 = this.f5 = this.f6 = this.f7 = 0;
    this.f8 = this.f9 = this.f10 = this.f11 = this.f12 = this.f13 = 0;
  }
}

type Construct = new () => Record<string, unknown>;

/** Makes the first objects of `ctor` (V8 watches the first seven), one with `slots` fields. */
function size(ctor: Construct, slots: number): Construct {
  ctor.prototype = Object.prototype;
  for (let i = 0; i < 8; i++) {
    const o = new ctor();
    if (i === 0) for (let f = 0; f < slots; f++) o[`f${f}`] = 0;
  }
  return ctor;
}

const Request = size(RequestObject as unknown as Construct, REQUEST_SLOTS);
const Other = size(OtherObject as unknown as Construct, OTHER_SLOTS);

/** A new, empty record object of `kind` (a plain object with room for its fields inside it). */
export function newRecordObject(kind: RecordKind): Record<string, unknown> {
  return kind === 'httpRequests' ? new Request() : new Other();
}
