// Trace rules under load (test/integration/rules-load.test.mjs). NT_BASE: the test server's URL.
//   NT_MODE=limits: 30 requests to /lim and 20 to /limskip (even ones by http, odd ones by fetch),
//     one after the other, in this process, then the same in a child process and a worker thread.
//   NT_MODE=flight: for each line "go NAME" read from stdin, 200 requests at once to
//     /hold/NAME?i=K&code=C (even K by http, odd by fetch; C 200 or 500 by K), printing
//     "started NAME" once all are sent and "done NAME OK FAILED" when all have ended.
const http = require('node:http');
const { spawn } = require('node:child_process');
const { Worker, isMainThread, workerData } = require('node:worker_threads');
const readline = require('node:readline');

const base = process.env.NT_BASE;

function viaHttp(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
}
async function viaFetch(url) {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}
const one = (k, url) => (k % 2 === 0 ? viaHttp(url) : viaFetch(url));

async function limits(who) {
  for (let k = 0; k < 30; k++) await one(k, `${base}/lim?who=${who}&i=${k}`);
  for (let k = 0; k < 20; k++) await one(k, `${base}/limskip?who=${who}&i=${k}`);
}

async function main() {
  if (!isMainThread) return limits(workerData.who);
  if (process.env.NT_MODE === 'limits') {
    await limits(process.env.NT_WHO ?? 'parent');
    if (process.env.NT_WHO) return;
    await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [__filename], { env: { ...process.env, NT_WHO: 'child' }, stdio: 'inherit' });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exited ${code}`))));
    });
    await new Promise((resolve, reject) => {
      const w = new Worker(__filename, { workerData: { who: 'worker' } });
      w.on('error', reject);
      w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))));
    });
    console.log('limits done');
    return;
  }
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const m = /^go (\w+)$/.exec(line.trim());
    if (!m) continue;
    const name = m[1];
    const all = [];
    for (let k = 0; k < 200; k++) {
      const code = (k >> 1) % 2 === 0 ? 200 : 500;
      all.push(
        one(k, `${base}/hold/${name}?i=${k}&code=${code}`).then(
          () => true,
          () => false,
        ),
      );
    }
    console.log(`started ${name}`);
    const results = await Promise.all(all);
    console.log(`done ${name} ${results.filter(Boolean).length} ${results.filter((x) => !x).length}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
