// Instructions of the preload's event encoder alone (src/protocol/events.ts): the three record
// updates of a keep-alive `http.get` (start with its header block, response head with rawHeaders,
// end), built as the hooks build them and encoded, run under callgrind after a warm-up at two
// sizes; Ir per request = the difference / the difference in requests. Load-independent, unlike
// bench/events.mjs's CPU time, so a change of a few hundred Ir per request shows.
//
//   node bench/encoder-ir.mjs [small=10000] [large=30000] [warmup=20000]
//
// (`node bench/encoder-ir.mjs --child N W` is one measured run: W warm-up encodes, then N.)
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleTs } from '../test/lib/bundleTs.mjs';
import { callgrindIr, STEADY_NODE_FLAGS } from './lib/callgrindRun.mjs';

if (process.argv[2] === '--child') {
  const m = bundleTs(["export * from './src/protocol/events';"], { dir: process.argv[5] });
  const t0 = 1763830000123.4567;
  const block =
    'GET /items/42?x=1 HTTP/1.1\r\nHost: 127.0.0.1:40123\r\nUser-Agent: bench\r\nAccept: application/json\r\nConnection: keep-alive\r\n\r\n';
  const raw = ['Content-Type', 'application/json', 'Content-Length', '112', 'Date', 'Sun, 22 Nov 2026 17:00:00 GMT'];
  raw.push('Connection', 'keep-alive', 'Keep-Alive', 'timeout=5');
  const enc = new m.EventEncoder(8e6);
  const add = (id, fields) => {
    enc.begin('httpRequests', id);
    for (const k in fields) enc.field(k, fields[k]);
    enc.end();
  };
  const run = (n) => {
    for (let i = 0; i < n; i++) {
      const id = `r${i}`;
      const at = t0 + i;
      const start = { client: 'http', reqMethod: 'GET', reqURL: `http://127.0.0.1:40123/items/${i}?x=1` };
      Object.assign(start, { protoMajor: 1, protoMinor: 1, reqStartAt: at, reusedConn: true });
      start.reqHeaders = block;
      start.tcpConn = 't1';
      add(id, start);
      const head = { reqSentAt: at + 0.05, respRecvAt: at + 0.4, respStatusCode: 200, respStatusText: 'OK', protoMajor: 1 };
      head.protoMinor = 1;
      head.respHeaders = raw;
      add(id, head);
      add(id, { respContentLen: 112, respDoneAt: at + 0.5 });
      if (enc.off > 3e6) enc.reset();
    }
  };
  run(Number(process.argv[4]));
  run(Number(process.argv[3]));
} else {
  const [small = 10000, large = 30000, warmup = 20000] = process.argv.slice(2).map(Number);
  const self = fileURLToPath(import.meta.url);
  // A bundle folder per run: the two run at once.
  const ir = async (n) => {
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-encoder-ir-'));
    return (await callgrindIr([...STEADY_NODE_FLAGS, self, '--child', String(n), String(warmup), dir], process.env)).ir;
  };
  const [a, b] = await Promise.all([ir(small), ir(large)]);
  console.log(
    `event encoder, an http request's three updates: ${Math.round((b - a) / (large - small)).toLocaleString('en-US')} Ir per request`,
  );
  console.log(
    `(Ir ${a.toLocaleString('en-US')} at ${small}, ${b.toLocaleString('en-US')} at ${large}, ${warmup} warm-up, ${process.version})`,
  );
}
