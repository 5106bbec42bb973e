// Issue 40: the collector's work for a recorded input stream, repeated: `node collector-replay.mjs
// <dist dir> <copies> [stages] [upto]`. The stream (test/fixtures/streams/mixed.json.gz, or BENCH_STREAM)
// is applied `copies` times into one Session, each copy as its own connection and pid with its
// times shifted past the one before (so the trace grows as a long run's does), its record messages
// in the event frames the collector reads (see FRAMES), then snapshot,
// the trace file and the CLI's table, as `nettrace run` does at its end (a build with
// Session.deriveInPlace: the trace file first, then the records derived in place, then the table). Run under callgrind by
// bench/tools/collector-callgrind.mjs (Ir per request from two sizes). `stages` (any fourth argument)
// BENCH_MEMORY=1 (run with --expose-gc): only apply and one snapshot, then the
// process's RSS and heapUsed after a full collection.
// BENCH_PROFILE=<dir>: CPU profiles of the stages (node:inspector, 100 µs samples) written to
// <dir>/apply.cpuprofile (from copy BENCH_PROFILE_FROM, default a third of the copies: past the
// warm-up), save.cpuprofile and snapshot.cpuprofile (bench/tools/collector-profile.mjs reads them). BENCH_FORMAT=1 also times the file's text
// alone (formatIndented, formatCompact: see below). `stages` prints the CPU µs of each stage (`-` for none); `upto` (prepare: only the copies made; apply, snapshot, save, table: the default) stops after that stage. Prints one JSON line: {requests, …}.
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readStream } from '../../test/lib/replayStream.mjs';

/**
 * Profiles this process in pieces with node:inspector: start() and stop(name), which writes
 * <dir>/<name>.cpuprofile. Loaded only with BENCH_PROFILE (nothing of it in a measured run).
 */
async function stageProfiler(dir) {
  const { Session } = await import('node:inspector/promises');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  return {
    start: () => session.post('Profiler.start'),
    async stop(name) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    },
  };
}

const [dist, copiesArg, stages, upto = 'table'] = process.argv.slice(2);
const STAGES = ['prepare', 'apply', 'snapshot', 'save', 'table'];
const last = STAGES.indexOf(upto) - 1;
const copies = Number(copiesArg);
const core = createRequire(import.meta.url)(resolve(dist, 'core.cjs'));
const root = join(import.meta.dirname, '..', '..');
const stream = readStream(process.env.BENCH_STREAM ?? join(root, 'test', 'fixtures', 'streams', 'mixed.json.gz'));
const t0 = Date.parse(stream.beginAt);
const span = Math.max(1000, stream.ops[stream.ops.length - 1].t - t0 + 1000);

/** Adds `dt` to every numeric `...At` field, at any depth. */
function shift(v, dt) {
  if (Array.isArray(v)) return v.forEach((x) => shift(x, dt));
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return;
  for (const k in v) {
    if (typeof v[k] === 'number' && k.endsWith('At')) v[k] += dt;
    else shift(v[k], dt);
  }
}
const connections = new Set();
for (const o of stream.ops) if (o.op === 'apply' || o.op === 'closeConnection') connections.add(o.args[0]);
const perCopy = Math.max(...connections);

const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
/**
 * A record message's fields as the collector's event decoder makes them from the preload's frames
 * (an empty object filled field by field; the recorded stream holds them as JSON, and JSON.parse
 * makes objects of another shape, cheaper to apply than the real ones).
 */
function decoderFields(fields) {
  const out = {};
  for (const k in fields) out[k] = fields[k];
  return out;
}

/**
 * Whether this build's collector takes the preload's event frames (Session.applyEvent, since
 * 2026-11-28): then the record messages go to the session as frames, decoded and applied as the
 * collector does (its request updates by field code); an older build gets each message with its
 * fields shaped as its decoder made them. A frame holds a connection's record messages that came
 * one after another (at most FRAME_EVENTS), as the preload batches a tick's updates.
 */
const FRAMES = typeof core.EventEncoder === 'function' && typeof core.Session.prototype.applyEvent === 'function';
const FRAME_EVENTS = 64;
/** An encoder per connection of the copies (each keeps its connection's interned strings, as the preload does). */
const encoders = new Map();

/** Copy `c` of the input: renumbered, its times shifted, its record messages in frames (or their fields shaped as decoded). */
function copyOf(c) {
  const ops = [];
  const dt = c * span;
  /** The frame being filled: its op and encoder. */
  let open;
  const close = () => {
    if (!open) return;
    open.op.args.push(Buffer.from(open.enc.buf.subarray(0, open.enc.off)), open.enc.count);
    open.enc.reset();
    open = undefined;
  };
  for (const o of structuredClone(stream.ops)) {
    if (o.op === 'flushChanges') continue;
    if (o.op === 'apply' || o.op === 'closeConnection') o.args[0] += c * perCopy;
    const msg = o.op === 'apply' ? o.args[1] : undefined;
    if (msg && msg.type === 'hello') msg.pid += c * 100000;
    if (msg && dt) shift(msg, dt);
    if (msg?.type === 'record' && msg.fields && typeof msg.fields === 'object') {
      const connection = o.args[0];
      if (FRAMES) {
        if (open && (open.connection !== connection || open.enc.count >= FRAME_EVENTS)) close();
        if (!encoders.has(connection)) encoders.set(connection, new core.EventEncoder());
        const enc = encoders.get(connection);
        if (enc.begin(msg.kind, msg.id)) {
          for (const k in msg.fields) enc.field(k, msg.fields[k]);
          if (enc.end()) {
            if (!open) ops.push((open = { connection, enc, op: { op: 'frame', args: [connection] } }).op);
            continue;
          }
        }
      }
      msg.fields = decoderFields(msg.fields);
    }
    close();
    ops.push(o);
  }
  close();
  return ops;
}

/** The decoder of each connection (made as its first frame comes, as the collector's PreloadInput is). */
const decoders = new Map();
/** Decodes a frame of `count` events and applies each (src/collector/server.ts PreloadInput). */
function frame(connection, bytes, count) {
  let dec = decoders.get(connection);
  if (!dec) decoders.set(connection, (dec = { decoder: new core.EventDecoder(), apply: (ev) => session.applyEvent(connection, ev) }));
  dec.decoder.each(bytes, count, dec.apply);
}
const MEMORY = process.env.BENCH_MEMORY === '1';
// Every copy's input is made before the clock starts (the copies, shifts and renumbering are not
// the collector's work); with BENCH_MEMORY=1 each just before it is applied (not held).
const prepared = [];
if (!MEMORY) for (let c = 0; c < copies; c++) prepared.push(copyOf(c));
if (last < 0) {
  console.log(
    JSON.stringify({
      requests:
        copies * stream.ops.filter((o) => o.args?.[1]?.kind === 'httpRequests' && o.args[1].fields?.reqStartAt !== undefined).length,
    }),
  );
  process.exit(0);
}
/** The stages' CPU profiles (BENCH_PROFILE), or nothing. */
const profiler = process.env.BENCH_PROFILE ? await stageProfiler(process.env.BENCH_PROFILE) : undefined;
const profileFrom = Number(process.env.BENCH_PROFILE_FROM ?? Math.floor(copies / 3));
const m = {};
let t = cpu();
const session = new core.Session({ description: 'replay', beginAt: new Date(stream.beginAt), sourceMaps: false, changeIntervalMs: 1e9 });
for (let c = 0; c < copies; c++) {
  if (profiler && c === profileFrom) await profiler.start();
  const ops = MEMORY ? copyOf(c) : prepared[c];
  if (MEMORY) prepared[c] = undefined; // (nothing held; without it the copies live to the end, as they did)
  let calls = 0;
  for (const o of ops) {
    if (o.op === 'frame') frame(o.args[0], o.args[1], o.args[2]);
    else session[o.op](...o.args);
    if (++calls % 25 === 0) session.flushChanges();
  }
}
session.flushChanges();
m.apply = cpu() - t;
await profiler?.stop('apply');
if (MEMORY) {
  // The collector holding the trace after a snapshot (its derived fields kept), the snapshot itself let go.
  session.snapshot();
  globalThis.gc?.();
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  console.log(JSON.stringify({ requests: session.builder.trace.httpRequests.length, rss, heapUsed }));
  process.exit(0);
}
const out = { requests: session.builder.trace.httpRequests.length };
if (last >= 1) {
  // As `nettrace run` takes it: the recorded facts for the file, derived for the table (a build
  // before format version 2 has no facts(): its snapshot, derived fields and all, is the file's).
  // A build with deriveInPlace writes the file first, then derives the records themselves (no
  // copies; src/cli/runTraced.ts saveRun without spans to send): `save` is then timed before
  // `snapshot`, and `upto=snapshot` stops after both.
  const inPlace = typeof session.deriveInPlace === 'function';
  const file = join(tmpdir(), `nettrace-replay-${process.pid}.json`);
  let facts;
  let trace;
  if (inPlace) {
    await profiler?.start();
    t = cpu();
    facts = session.facts();
    await session.saveJson(file, facts);
    m.save = cpu() - t;
    await profiler?.stop('save');
    rmSync(file, { force: true });
    await profiler?.start();
    t = cpu();
    trace = session.deriveInPlace(facts, 'diagnosed');
    m.snapshot = cpu() - t;
    await profiler?.stop('snapshot');
  } else {
    t = cpu();
    facts = session.facts ? session.facts() : undefined;
    trace = facts ? session.snapshot(facts) : session.snapshot();
    m.snapshot = cpu() - t;
    if (last >= 2) {
      t = cpu();
      await session.saveJson(file, facts ?? trace);
      m.save = cpu() - t;
      rmSync(file, { force: true });
    }
  }
  if (last >= 3) {
    t = cpu();
    let chars = 0;
    // As `nettrace run` prints it (in pieces) when the build has writeTrace; the text is discarded.
    // (RUN_TABLE_ROWS: the build's cap on the rows `nettrace run` lists; older builds listed all.)
    if (core.writeTrace) core.writeTrace(trace, { width: 120, maxRows: core.RUN_TABLE_ROWS }, (text) => (chars += text.length));
    else chars = core.renderTrace(trace, { width: 120 }).length;
    out.tableChars = chars;
    m.table = cpu() - t;
  }
  // BENCH_FORMAT=1: what the trace file's text alone costs, whoever writes it: the snapshot's
  // requests (derived fields and all, as format version 1 held them) through JSON.stringify in
  // writeTraceFile's batches of 32, indented by one space (version 1) and without indentation,
  // then encoded to UTF-8 into one buffer; and the file's requests (facts: version 2, compact).
  if (process.env.BENCH_FORMAT === '1') {
    const reqs = trace.httpRequests;
    // (Derived in place, the records are written less their derived fields: so is their text here.)
    const derived = new Set(['timings', 'kernelTimings', 'loopBlocked', 'debuggerPaused', 'diagnosis']); // traceFile.ts DERIVED_REQUEST_FIELDS
    const recorded = inPlace
      ? reqs.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !derived.has(k))))
      : facts?.httpRequests;
    const buf = Buffer.allocUnsafe(1 << 20);
    for (const [name, list, indent] of [
      ['formatIndented', reqs, 1],
      ['formatCompact', reqs, undefined],
      ...(recorded ? [['formatFacts', recorded, undefined]] : []),
    ]) {
      t = cpu();
      for (let i = 0; i < list.length; i += 32) buf.write(JSON.stringify([list.slice(i, i + 32)], null, indent), 0);
      m[name] = cpu() - t;
    }
  }
}
session.dispose();
if (stages && stages !== '-') for (const k in m) out[k] = m[k];
console.log(JSON.stringify(out));
