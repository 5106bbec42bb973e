// Two traced processes calling one server (test/integration/whatIfLimits.test.mjs): this program
// starts two children (this file again, NT_ROLE=child), each making NT_CALLS GET requests to
// NT_URL, NT_GAP_MS apart, the second starting NT_STAGGER_MS after the first (NT_ORDER=after: once
// the first has exited, then NT_STAGGER_MS later). Prints what each child saw: its pid and the
// status (or error code) of each call, in order.
const http = require('node:http');
const { spawn } = require('node:child_process');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (err) => resolve(err.code));
  });
}

async function child() {
  const calls = Number(process.env.NT_CALLS || 4);
  const gap = Number(process.env.NT_GAP_MS || 300);
  const seen = [];
  for (let i = 0; i < calls; i++) {
    seen.push(await get(process.env.NT_URL));
    if (i < calls - 1) await sleep(gap);
  }
  console.log(JSON.stringify({ pid: process.pid, seen }));
}

function start(calls) {
  const c = spawn(process.execPath, [__filename], {
    env: { ...process.env, NT_ROLE: 'child', NT_CALLS: String(calls) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  return new Promise((resolve) => c.on('close', () => resolve(JSON.parse(out.trim()))));
}

async function parent() {
  const [a, b] = (process.env.NT_CALLS_EACH || '4,4').split(',').map(Number);
  const stagger = Number(process.env.NT_STAGGER_MS || 150);
  let results;
  if (process.env.NT_ORDER === 'after') {
    const first = await start(a);
    await sleep(stagger);
    results = [first, await start(b)];
  } else {
    const first = start(a);
    await sleep(stagger);
    results = await Promise.all([first, start(b)]);
  }
  console.log(JSON.stringify(results));
}

(process.env.NT_ROLE === 'child' ? child() : parent()).catch((err) => {
  console.error(err);
  process.exit(1);
});
