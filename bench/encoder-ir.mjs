// Instructions of the preload's event encoder alone (src/protocol/events.ts): the three record
// updates of a keep-alive `http.get` (bench/lib/httpUpdates.mjs, as bench/events.mjs) encoded,
// run under callgrind after a warm-up at two sizes; Ir per request = the difference / the
// difference in requests. Load-independent, unlike bench/events.mjs's CPU time, so a change of a
// few hundred Ir per request shows.
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
import { updates } from './lib/httpUpdates.mjs';

if (process.argv[2] === '--child') {
  const m = bundleTs(["export * from './src/protocol/events';"], { dir: process.argv[5] });
  const enc = new m.EventEncoder(8e6);
  const run = (n) => {
    for (let i = 0; i < n; i++) {
      for (const [id, fields] of updates(i)) {
        enc.begin('httpRequests', id);
        for (const k in fields) enc.field(k, fields[k]);
        enc.end();
      }
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
