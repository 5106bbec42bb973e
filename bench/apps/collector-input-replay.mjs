// Issue 65: a real run's raw collector input (bench/apps/collector-input-recorder.cjs's file)
// replayed in-process, in its recorded order, through the collector's own input path: each preload
// connection's bytes into a PreloadInput (lines and frames split, parsed and decoded, applied to
// the Session), the helper's stdout text into a HelperClient whose lines a HelperLink applies, as
// SessionHelper.attach feeds them. `node collector-input-replay.mjs <dist dir> <input file>
// [helper] [upto]`: `helper` `off` leaves the helper's text out; `upto` `apply` (the default) stops
// after applying, `table` goes on as `nettrace run` does at the program's end: the trace file
// written (to a temporary file), the records derived in place, the table made (and dropped).
// Prints one JSON line: {requests, kernelEvents}.
import { createRequire } from 'node:module';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const [dist, file, helper = 'on', upto = 'apply'] = process.argv.slice(2);
const core = createRequire(import.meta.url)(resolve(dist, 'core.cjs'));
const input = readFileSync(file);
const beginAt = new Date(input.readDoubleLE(9));
const session = new core.Session({ description: 'replay', beginAt, sourceMaps: false, changeIntervalMs: 1e9 });
const peer = { write: () => true, once: () => {}, destroyed: false };

// The helper as the CLI runs it: its stdout read by a HelperClient, each line applied by a link.
const stdout = Object.assign(new EventEmitter(), { setEncoding() {} });
const child = Object.assign(new EventEmitter(), { stdout });
const client = new core.HelperClient(child, 'root');
const link = new core.HelperLink(session, { pcapRequested: false, send: () => {} });
client.on('message', (m) => {
  client.messages.length = 0;
  link.apply(m.type === 'ready' && client.ready ? client.ready : m);
});

const open = new Map();
for (let at = 0; at < input.length;) {
  const kind = input[at];
  const conn = input.readUInt32LE(at + 1);
  const len = input.readUInt32LE(at + 5);
  // A copy, as the socket's chunk is a buffer of its own.
  const bytes = Buffer.from(input.subarray(at + 9, at + 9 + len));
  at += 9 + len;
  if (kind === 1) {
    const c = session.openConnection();
    session.rules.attach(c, peer);
    // A challenge is answered with a key this replay does not have: it is taken as answered.
    open.set(conn, { c, input: new core.PreloadInput(session, c, 8 * 1024 * 1024, (line) => line.includes('"challenge"')) });
  } else if (kind === 2) open.get(conn)?.input.push(bytes);
  else if (kind === 3) {
    const o = open.get(conn);
    if (o) session.closeConnection(o.c, false);
    open.delete(conn);
  } else if (kind === 4 && helper !== 'off') stdout.emit('data', bytes.toString('utf8'));
  else if (kind === 5 && helper !== 'off') stdout.emit('end');
}
link.finish();
session.flushChanges();
const trace = session.builder.trace;
let kernelEvents = 0;
for (const c of trace.tcpConns) kernelEvents += c.kernelEvents?.length ?? 0;
const out = JSON.stringify({ requests: trace.httpRequests.length, kernelEvents });
if (upto === 'table') {
  // As src/cli/runTraced.ts: the recorded facts to the file, then derived in place for the table.
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-input-replay-'));
  const facts = session.facts();
  await session.saveJson(join(dir, 'trace.json'), facts);
  rmSync(dir, { recursive: true, force: true });
  core.writeTrace(session.deriveInPlace(facts, 'diagnosed'), { width: 120, maxRows: core.RUN_TABLE_ROWS }, () => {});
}
console.log(out);
// Ended here, as the CLI ends after its table: what a process does at its exit is no stage's.
process.exit(0);
