// Issue 62 (information): what a traced program pays per `await` once it has called one of the SDKs
// whose calls the preload carries to their requests (src/preload/initiator/sdkCalls.ts): an
// AsyncLocalStorage context, carried by promise hooks on Node 20 and 22 and by AsyncContextFrame on
// 24+. bench/apps/sdk-awaits.cjs under `nettrace run`, after one Stripe call against after one
// plain `fetch`, median of alternating runs, on this Node and each installed one of 22, 24, 26;
// with `--pause=MS`, the loop timed again after that pause (the context is disabled on 20 and 22
// after 30 s without SDK use).
//
//   node bench/sdk-context.mjs [--runs=5] [--pause=31000]
import http from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { nodeBin, otherNodeMajors } from '../scripts/nodes.mjs';
import { appsDir, root } from './lib/common.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt);
const runs = opt('runs', 5);
const pause = opt('pause', 0);

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: 'cus_bench', object: 'customer' }));
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const dir = mkdtempSync(join(tmpdir(), 'nettrace-sdk-context-'));

function run(node, sdk) {
  return new Promise((resolve) => {
    const cli = join(root, 'dist', 'cli.cjs');
    const child = spawn(
      process.execPath,
      [cli, 'run', '--quiet', '--out', join(dir, 't.json'), '--', node, join(appsDir, 'sdk-awaits.cjs')],
      {
        env: { ...process.env, PORT: String(server.address().port), NT_SDK: sdk, NT_PAUSE_MS: String(pause) },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', () => resolve(out.trim().split('\n').at(-1).split(' ').map(Number)));
  });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const nodes = [{ label: process.version, bin: process.execPath }];
for (const m of otherNodeMajors) if (existsSync(nodeBin(m))) nodes.push({ label: `node ${m}`, bin: nodeBin(m) });
console.log(`| Node | after a fetch (ns per iteration) | after a Stripe call | difference |${pause ? ` after ${pause} ms idle |` : ''}`);
console.log(`|---|---:|---:|---:|${pause ? '---:|' : ''}`);
try {
  for (const node of nodes) {
    const off = [];
    const on = [];
    const later = [];
    for (let i = 0; i < runs; i++) {
      off.push((await run(node.bin, '0'))[0]);
      const r = await run(node.bin, '1');
      on.push(r[0]);
      if (pause) later.push(r[1]);
    }
    const [a, b] = [median(off), median(on)];
    console.log(`| ${node.label} | ${a} | ${b} | ${(b - a).toFixed(1)} |${pause ? ` ${median(later)} |` : ''}`);
  }
} finally {
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
