// Record events (issue 17): CPU per request of the preload's encoder and of the collector's
// decoder, against the JSON path they replace (JSON.stringify of each record update + UTF-8
// bytes on the preload's side; JSON.parse of each line on the collector's side). Pure CPU in one
// process, no I/O: three updates per request shaped like an `http.get` (start with its header
// block, response head with rawHeaders, end), built fresh for each request as the hooks do.
//
//   node bench/events.mjs [requests=20000] [runs=7]
//
// Prints the median of `runs` (after one warm-up run) in µs per request. The collector must keep
// up with 10,000 requests/s: its decode share is the "decode" column (100 µs per request would be
// all of one core at that rate).
import { bundleTs } from '../test/lib/bundleTs.mjs';
import { updates } from './lib/httpUpdates.mjs';

const m = bundleTs(["export * from './src/protocol/events';", "export { EventDecoder } from './src/collector/eventDecoder';"]);
const requests = Number(process.argv[2] ?? 20000);
const runs = Number(process.argv[3] ?? 7);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

function runOnce() {
  // Encode: events.
  const enc = new m.EventEncoder(64 * 1024 * 1024);
  let a = cpu();
  for (let i = 0; i < requests; i++) {
    for (const [id, f] of updates(i)) {
      enc.begin('httpRequests', id);
      for (const k in f) enc.field(k, f[k]);
      enc.end();
    }
  }
  const encodeMs = cpu() - a;
  const bytes = Buffer.from(enc.buf.subarray(0, enc.off));
  // Encode: JSON lines (what the transport did per record message, batches of 128).
  a = cpu();
  let jsonBytes = 0;
  const lines = [];
  let text = '';
  let n = 0;
  for (let i = 0; i < requests; i++) {
    for (const [id, fields] of updates(i)) {
      text += JSON.stringify({ type: 'record', kind: 'httpRequests', id, fields }) + '\n';
      if (++n % 128 === 0) {
        const b = Buffer.from(text, 'utf8');
        jsonBytes += b.length;
        lines.push(b);
        text = '';
      }
    }
  }
  if (text) lines.push(Buffer.from(text, 'utf8'));
  const jsonEncodeMs = cpu() - a;
  // Decode: events.
  a = cpu();
  const out = new m.EventDecoder().decode(bytes, enc.count);
  const decodeMs = cpu() - a;
  if (out.error || out.messages.length !== requests * 3) throw new Error(`decode: ${out.error}`);
  // Decode: JSON lines.
  a = cpu();
  let parsed = 0;
  for (const b of lines) for (const line of b.toString('utf8').split('\n')) if (line) parsed += JSON.parse(line) ? 1 : 0;
  const jsonDecodeMs = cpu() - a;
  if (parsed !== requests * 3) throw new Error('json decode');
  return { encodeMs, jsonEncodeMs, decodeMs, jsonDecodeMs, bytes: bytes.length, jsonBytes };
}

runOnce();
const rs = Array.from({ length: runs }, runOnce);
const us = (k) => ((median(rs.map((r) => r[k])) * 1000) / requests).toFixed(2);
console.log(`record events vs JSON lines, ${requests} requests × 3 updates, median of ${runs} runs (Node ${process.version})`);
console.log('| path | preload encode µs/req | collector decode µs/req | bytes/req |');
console.log('|---|---:|---:|---:|');
console.log(`| JSON lines | ${us('jsonEncodeMs')} | ${us('jsonDecodeMs')} | ${(rs[0].jsonBytes / requests).toFixed(0)} |`);
console.log(`| events | ${us('encodeMs')} | ${us('decodeMs')} | ${(rs[0].bytes / requests).toFixed(0)} |`);
