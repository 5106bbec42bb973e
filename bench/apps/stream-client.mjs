// The client of bench/host-stream.mjs: makes <rate> new HTTP requests per second for <seconds>
// seconds, starting at the wall-clock time <startAt> (epoch ms, so the benchmark can align its own
// per-second clock with it), paced in ticks of <tickMs> (rate 1000, tick 10 ms: 10 requests every
// 10 ms). A late tick catches up (fires every request that is due), so a slow process shows up as
// bursts, not as fewer requests. One keep-alive Agent; GET <url>, body drained.
//   node stream-client.mjs <url> <rate> <seconds> <startAt> [tickMs]
// Prints a JSON line {at, started, completed, errors} every 50 ms (cumulative counts; `at` is
// Date.now()), then {final: true, ...} once every request finished (or after 10 s), then exits.
// Knows nothing about what traces it.
import http from 'node:http';

const [url, rateArg, secondsArg, startAtArg, tickArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const startAt = Number(startAtArg);
const tickMs = Number(tickArg ?? 10);
if (!url || !(rate > 0) || !(seconds > 0) || !(startAt > 0) || !(tickMs > 0)) {
  console.error('usage: stream-client.mjs <url> <rate> <seconds> <startAt epoch ms> [tickMs]');
  process.exit(2);
}
const total = Math.round(rate * seconds);
const perTick = (rate * tickMs) / 1000;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let started = 0;
let completed = 0;
let errors = 0;
let firstError;
let lastDoneAt = 0;
let lastStartAt = 0;

const line = (extra = {}) => process.stdout.write(JSON.stringify({ at: Date.now(), started, completed, errors, ...extra }) + '\n');

function done(err) {
  if (err) {
    errors++;
    firstError ??= `${err.code ?? ''} ${err.message ?? err}`.trim();
  } else completed++;
  lastDoneAt = Date.now();
  if (started === total && completed + errors === total) finish();
}

function one() {
  started++;
  let settled = false;
  const settle = (err) => {
    if (settled) return;
    settled = true;
    done(err);
  };
  const req = http.get(url, { agent }, (res) => {
    res.resume();
    res.on('end', () => settle());
    res.on('error', settle);
  });
  req.on('error', settle);
}

let sampler;
let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  clearInterval(sampler);
  line({ final: true, lastStartAt, lastDoneAt, firstError });
  agent.destroy();
}

function tick() {
  const k = Math.floor((Date.now() - startAt) / tickMs);
  const due = Math.min(total, Math.round((k + 1) * perTick));
  while (started < due) one();
  if (started < total) setTimeout(tick, Math.max(0, startAt + (k + 1) * tickMs - Date.now()));
  else {
    lastStartAt = Date.now();
    setTimeout(finish, 10_000).unref();
  }
}

sampler = setInterval(() => line(), 50);
setTimeout(tick, Math.max(0, startAt - Date.now()));
