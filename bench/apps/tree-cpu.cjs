// Runs a command and, when it ends, writes the CPU of its whole process tree to a file, then exits
// as the command did: `node tree-cpu.cjs OUT -- CMD ARGS…`. The real-suite benchmarks
// (bench/lib/suites.mjs) put it around the program on both sides, so the program's CPU is told
// from that of `nettrace run` and of the helper it starts. OUT gets {userMs, systemMs}: the user
// and system CPU of this process and of its waited-for children (`cutime`, `cstime` of
// /proc/self/stat, which count their own waited-for children; clock ticks of 10 ms). Linux only.
const { spawn } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');

const out = process.argv[2];
const cmd = process.argv.slice(process.argv.indexOf('--') + 1);
const child = spawn(cmd[0], cmd.slice(1), { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('error', (e) => {
  process.stderr.write(`tree-cpu: ${cmd[0]}: ${e.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const u = process.cpuUsage();
  writeFileSync(out, JSON.stringify({ userMs: u.user / 1000 + Number(f[13]) * 10, systemMs: u.system / 1000 + Number(f[14]) * 10 }));
  process.exit(code ?? (signal ? 128 : 1));
});
