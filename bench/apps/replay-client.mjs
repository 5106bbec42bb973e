// The replaying "program" of `bench/host-stream.mjs --replay`: writes the bytes that real traced
// processes' preloads sent (recorded by the benchmark, one file per preload connection) to a
// collector's socket, paced as if those processes made <rate> requests per second, so the collector
// gets exactly what the preloads sent, faster than a real client can run on this machine.
//   node replay-client.mjs <manifest.json> <ipcPath> <rate> <startAt> [tickMs]
// The manifest lists the recorded connections: {conns: [{file, requests, continues}]} (`requests`:
// how many requests the connection's process made; `continues`: a second connection of a process,
// carrying the end of the first, see HelloMessage.conn). Every connection of the manifest is
// connected before <startAt> (epoch ms), then from <startAt> on, every <tickMs> the bytes due are
// written: the same fraction of every connection's bytes as the fraction of all requests due
// (rate 10,000, tick 10 ms: 100 requests' worth every 10 ms, shared by the connections by their
// request counts), so the bytes per tick are proportional to the requests; a chunk may end in the
// middle of a line or frame, as a socket's may. A late tick catches up. Once every byte is written,
// the `continues` connections are written whole, then every socket is ended.
// Prints a JSON line {at, started, completed, errors, queued} every 50 ms, as stream-client.mjs does
// (`started` = `completed`: requests whose first record was written whole, from the manifest's
// `marks` per connection, [byte offset, requests so far]; without marks, the fraction of bytes
// written × the requests; `queued`: bytes written but still buffered in this process, i.e. not yet
// taken by the collector's socket), then {final: true, ...} once every socket has closed, then exits.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';

const [manifestPath, ipcPath, rateArg, startAtArg, tickArg] = process.argv.slice(2);
const rate = Number(rateArg);
const startAt = Number(startAtArg);
const tickMs = Number(tickArg ?? 10);
if (!manifestPath || !ipcPath || !(rate > 0) || !(startAt > 0) || !(tickMs > 0)) {
  console.error('usage: replay-client.mjs <manifest.json> <ipcPath> <rate> <startAt epoch ms> [tickMs]');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const conns = manifest.conns.map((c) => ({ ...c, bytes: readFileSync(resolve(dirname(manifestPath), c.file)), written: 0 }));
const main = conns.filter((c) => !c.continues);
const later = conns.filter((c) => c.continues);
const total = main.reduce((n, c) => n + c.requests, 0);
const perTick = (rate * tickMs) / 1000;

/** Requests due so far (the schedule). */
let scheduled = 0;
let lastStartAt = 0;
const queued = () => conns.reduce((n, c) => n + (c.socket?.writableLength ?? 0), 0);
/** Requests of `c` whose first record is written whole. */
function madeIn(c) {
  const m = c.marks;
  if (!m?.length) return Math.floor((c.requests * c.written) / c.bytes.length);
  let lo = 0;
  let hi = m.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (m[mid][0] <= c.written) lo = mid + 1;
    else hi = mid;
  }
  return lo ? m[lo - 1][1] : 0;
}
const made = () => main.reduce((n, c) => n + madeIn(c), 0);
const line = (extra = {}) => {
  const started = made();
  process.stdout.write(JSON.stringify({ at: Date.now(), started, completed: started, errors: 0, queued: queued(), ...extra }) + '\n');
};

/** Connects `c`; resolves once connected. Whatever the collector sends (rule sets) is read and dropped. */
function open(c) {
  return new Promise((resolve, reject) => {
    const socket = connect(ipcPath, () => resolve());
    socket.on('error', reject);
    socket.resume();
    c.closed = new Promise((r) => socket.on('close', r));
    c.socket = socket;
  });
}

/** Writes `c`'s bytes up to `upTo`. */
function writeTo(c, upTo) {
  if (upTo > c.written) {
    c.socket.write(c.bytes.subarray(c.written, upTo));
    c.written = upTo;
  }
}

await Promise.all(main.map(open));
const sampler = setInterval(() => line(), 50);

function tick() {
  const k = Math.floor((Date.now() - startAt) / tickMs);
  const due = Math.min(total, Math.round((k + 1) * perTick));
  if (due > scheduled) {
    const frac = due / total;
    for (const c of main) writeTo(c, due === total ? c.bytes.length : Math.floor(c.bytes.length * frac));
    scheduled = due;
  }
  if (scheduled < total) setTimeout(tick, Math.max(0, startAt + (k + 1) * tickMs - Date.now()));
  else finish();
}

async function finish() {
  lastStartAt = Date.now();
  for (const c of main) c.socket.end();
  for (const c of later) {
    await open(c);
    writeTo(c, c.bytes.length);
    c.socket.end();
  }
  await Promise.all(conns.map((c) => c.closed));
  clearInterval(sampler);
  line({ final: true, lastStartAt, lastDoneAt: lastStartAt });
}

setTimeout(tick, Math.max(0, startAt - Date.now()));
