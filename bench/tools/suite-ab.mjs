// Where the traced vitest suite's CPU goes, by option: the suite of bench/suite-vitest.mjs run
// untraced and under `nettrace run` with two sets of options (A: the defaults, B: the options
// given), in rounds that rotate the order, each round's CPU split as the benchmark splits it (the
// collector, the program's processes, the rest). What B saves over A, side by side in the same
// rounds, is what the options it turns off cost (e.g. `--initiator off`: the stacks captured).
//
// Or two builds, with the same options: `--a-cli=OLD/bin/nettrace.cjs` (its dist/ beside it;
// `--b-cli` likewise, both this checkout's by default). The suite runs on the Node that runs this.
//
//   node bench/tools/suite-ab.mjs "--initiator off" [--rounds=3] [--a="--helper off"] [--a-cli=F] [--b-cli=F]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fmt, median } from '../lib/common.mjs';
import { runSide, vitestSuite } from '../lib/suites.mjs';

const arg = (name, dflt) => process.argv.find((x) => x.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const split = (text) => text.split(' ').filter(Boolean);
const B = split(process.argv.slice(2).find((x) => !/^--(rounds|a|a-cli|b-cli)=/.test(x)) ?? '');
const clis = { A: arg('a-cli', undefined), B: arg('b-cli', undefined) };
const A = split(arg('a', ''));
const rounds = Number(arg('rounds', '3'));
const tmp = mkdtempSync(join(os.tmpdir(), 'nettrace-suite-ab-'));
const suite = await vitestSuite(tmp);
const sides = { untraced: [], A: [], B: [] };
try {
  for (let i = 0; i < rounds; i++) {
    const order = ['untraced', 'A', 'B'];
    for (let k = 0; k < i % 3; k++) order.push(order.shift());
    const got = {};
    for (const side of order) {
      await suite.prepare();
      const r = await runSide(['npm', 'test'], {
        cwd: suite.app,
        env: suite.env,
        traced: side !== 'untraced',
        runArgs: side === 'A' ? A : side === 'B' ? B : [],
        dir: tmp,
        ...(clis[side] ? { cli: resolve(clis[side]) } : {}),
      });
      const seen = await suite.ask('count');
      got[side] = { ...r, calls: seen.count, recorded: r.trace?.httpRequests.length };
      delete got[side].trace;
      sides[side].push(got[side]);
    }
    const u = got.untraced;
    const line = (k) =>
      `${k} [${(k === 'A' ? A : B).join(' ') || 'defaults'}]: wall ${fmt(got[k].wallMs)} ms, collector ${fmt(got[k].collector.cpuUs / 1000)} ms, program +${fmt(got[k].treeUserMs - u.treeUserMs)} user / +${fmt(got[k].treeSystemMs - u.treeSystemMs)} system ms, rest ${fmt(got[k].cpuMs - got[k].collector.cpuUs / 1000 - got[k].treeMs)} ms, ${got[k].recorded} of ${got[k].calls} recorded`;
    console.log(
      `round ${i + 1}/${rounds} (load ${os.loadavg()[0].toFixed(1)}): untraced wall ${fmt(u.wallMs)} ms, program user ${fmt(u.treeUserMs)} ms\n  ${line('A')}\n  ${line('B')}`,
    );
  }
} finally {
  await suite.stop();
  rmSync(tmp, { recursive: true, force: true });
}
const d = (k, f) => median(sides[k].map((r, i) => f(r) - f(sides.untraced[i])));
for (const k of ['A', 'B']) {
  console.log(
    `${k} [${(k === 'A' ? A : B).join(' ') || 'defaults'}], medians over untraced in the same rounds: program user +${fmt(d(k, (r) => r.treeUserMs))} ms, system +${fmt(d(k, (r) => r.treeSystemMs))} ms; collector ${fmt(median(sides[k].map((r) => r.collector.cpuUs / 1000)))} ms; wall ×${fmt(median(sides[k].map((r, i) => r.wallMs / sides.untraced[i].wallMs)), 3)}`,
  );
}
console.log(
  `B − A, program user CPU, median of the rounds: ${fmt(median(sides.B.map((r, i) => r.treeUserMs - sides.A[i].treeUserMs)))} ms`,
);
