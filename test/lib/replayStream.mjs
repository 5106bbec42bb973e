// Recorded collector input (test/fixtures/streams/*.json): every call the collector's IPC server
// made on its Session while a real program ran traced, with the wall clock at each call, and its
// replay into a Session of a given build. The test (test/unit/traceEquivalence.test.mjs) replays
// a stream into today's build and holds the trace it writes against the one the build that
// recorded it wrote (test/fixtures/streams/record.mjs).
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** JSON replacer/reviver keeping Uint8Array (blob frames) as {"$bytes": base64}. */
export const encodeBytes = (_k, v) => (v instanceof Uint8Array ? { $bytes: Buffer.from(v).toString('base64') } : v);
const decodeBytes = (_k, v) =>
  v && typeof v === 'object' && typeof v.$bytes === 'string' ? new Uint8Array(Buffer.from(v.$bytes, 'base64')) : v;

/** Reads a recorded stream (gzipped JSON): {beginAt, ops: [{t, op, args}]}. */
export function readStream(path) {
  return JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'), decodeBytes);
}

/** Wraps a session's input methods so each call is appended to `ops` (a deep copy of its arguments). */
export function recordSession(session, ops) {
  for (const name of ['apply', 'closeConnection', 'warn', 'flushChanges']) {
    const orig = session[name].bind(session);
    session[name] = (...args) => {
      ops.push({ t: Date.now(), op: name, args: JSON.parse(JSON.stringify(args, encodeBytes), decodeBytes) });
      return orig(...args);
    };
  }
}

/**
 * Replays `stream` into a new Session of `core` (a dist/core.cjs), the clock pinned to each
 * call's recorded time, its changes flushed every `flushEvery` calls (as its timer would). Each
 * 'change' is read as a live view reads it (Session.request of every changed id): `live` counts
 * the changes and requests read and digests what was read. Returns {trace (snapshot()), text
 * (the JSON file saveJson() writes), live}.
 */
export async function replay(core, stream, { flushEvery = 25, events } = {}) {
  const ops = structuredClone(stream.ops);
  const realNow = Date.now;
  const end = ops.length ? ops[ops.length - 1].t : Date.parse(stream.beginAt);
  let now = Date.parse(stream.beginAt);
  Date.now = () => now;
  try {
    const session = new core.Session({
      description: 'recorded',
      beginAt: new Date(stream.beginAt),
      sourceMaps: false,
      changeIntervalMs: 1e9,
    });
    const hash = createHash('sha256');
    const live = { changes: 0, reads: 0 };
    session.on('change', (ids, records) => {
      live.changes++;
      hash.update(JSON.stringify(records));
      for (const id of ids) {
        live.reads++;
        hash.update(`${id} ${JSON.stringify(session.request(id)) ?? '-'}\n`);
      }
    });
    let calls = 0;
    // With `events` ({EventEncoder, EventDecoder}): each record message that encodes goes to the
    // session as the preload's frames bring it, one event per frame, through a decoder per
    // connection (Session.applyEvent); `live.fromEvents` counts those, `live.fromCodes` (below)
    // those the builder applied from their codes.
    const coders = new Map();
    if (events) {
      // How many of those the builder took from their fields by code (TraceBuilder.applyEvent): `live.fromCodes`.
      const builder = session.builder;
      const applyEvent = builder.applyEvent.bind(builder);
      builder.applyEvent = (connection, ev) => {
        const took = applyEvent(connection, ev);
        if (took) live.fromCodes = (live.fromCodes ?? 0) + 1;
        return took;
      };
    }
    const asEvent = (connection, msg) => {
      if (!events || msg?.type !== 'record') return false;
      let c = coders.get(connection);
      if (!c) coders.set(connection, (c = { enc: new events.EventEncoder(), dec: new events.EventDecoder() }));
      if (!c.enc.begin(msg.kind, msg.id)) return false;
      for (const k in msg.fields ?? {}) c.enc.field(k, msg.fields[k]);
      if (!c.enc.end()) return false;
      const frame = Buffer.from(c.enc.buf.subarray(0, c.enc.off));
      c.enc.reset();
      const out = c.dec.each(frame, 1, (ev) => session.applyEvent(connection, ev));
      if (out.error !== undefined) throw new Error(`a re-encoded message did not decode: ${out.error}`);
      live.fromEvents = (live.fromEvents ?? 0) + 1;
      return true;
    };
    for (const o of ops) {
      now = o.t;
      if (o.op !== 'apply' || !asEvent(o.args[0], o.args[1])) session[o.op](...o.args);
      if (++calls % flushEvery === 0) session.flushChanges();
    }
    now = end;
    session.flushChanges();
    const trace = session.snapshot();
    const file = join(tmpdir(), `nettrace-replay-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
    try {
      await session.saveJson(file, trace);
      session.dispose();
      live.sha256 = hash.digest('hex');
      return { trace, text: readFileSync(file, 'utf8'), live };
    } finally {
      rmSync(file, { force: true });
    }
  } finally {
    Date.now = realNow;
  }
}
