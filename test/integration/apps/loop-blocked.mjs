// The program of test/integration/loop-blocked.test.mjs: requests to the test's server (the head
// after ?delay=MS, the body after ?bodyDelay=MS, one on a new connection), during which this program blocks its own event
// loop with a busy loop of BLOCK_MS (argv[3] "block"), or does not (argv[3] "control"), or runs
// one of 10 ms of CPU time, below the shortest stretch reported (argv[3] "short"). Prints one JSON line: for
// each request, the block's epoch begin and end as the program measured them. With argv[4] set,
// the program first pins all its threads to that CPU (taskset), where the test runs other busy
// processes: the OS then preempts its callbacks.
import { execFileSync } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import https from 'node:https';

const base = process.argv[2];
/** The test's HTTPS server (its own certificate, not checked here: the case is about time). */
const tlsBase = process.env.NT_TLS_BASE;
const mode = process.argv[3];
const pin = process.argv[4];
if (pin !== undefined) execFileSync('taskset', ['-a', '-p', '-c', pin, String(process.pid)], { stdio: 'ignore' });
const BLOCK_MS = mode === 'short' ? 10 : 300;
const now = () => performance.timeOrigin + performance.now();
const blocks = {};

/** CPU time this process has used (ms). */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Holds the thread for BLOCK_MS on the clock ("block" mode), or works for 10 ms of CPU time
 * ("short": on a CPU shared with busy processes that takes several times as long on the clock,
 * the OS preempting it), and notes when, under `name`.
 */
function block(name) {
  if (mode !== 'block' && mode !== 'short') return;
  const beginAt = now();
  if (mode === 'short') {
    const from = cpuMs();
    while (cpuMs() - from < BLOCK_MS);
  } else while (now() - beginAt < BLOCK_MS);
  blocks[name] = { beginAt, endAt: now() };
}

/**
 * http.get; `during` "wait": block once the request is sent; "receive": once the head arrived;
 * "connect": on a connection of its own, right after the connect call went out (Node makes it
 * in a tick queued by http.get, so a tick queued next runs before the connection can be seen).
 * The block runs in that very callback, not a timer later: on a loaded machine a timer can fire
 * after the response (or its body) was already handled, and then nothing waited for the program.
 */
function get(path, name, during) {
  return new Promise((resolve, reject) => {
    const options = during === 'connect' ? { agent: new http.Agent({ keepAlive: false }) } : {};
    const req = http.get(`${base}${path}`, options, (res) => {
      if (during === 'receive') block(name);
      res.resume();
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    if (during === 'wait') req.on('finish', () => block(name));
    if (during === 'connect') process.nextTick(() => block(name));
  });
}

/** https.get on a connection of its own; with `name`, blocks (block()) once TCP is connected. */
function tlsGet(path, name) {
  return new Promise((resolve, reject) => {
    const options = { agent: new https.Agent({ keepAlive: false }), rejectUnauthorized: false };
    const req = https.get(`${tlsBase}${path}`, options, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    if (name) req.on('socket', (socket) => socket.once('connect', () => block(name)));
  });
}

// Both clients and a TLS handshake a few times first, unmeasured: their first use loads and
// compiles code (undici above all), which is the program's own work too, but not what the control
// run is about.
for (let i = 0; i < 3; i++) {
  await get(`/warm-http-${i}`, 'warm', 'none');
  await (await fetch(`${base}/warm-fetch-${i}`)).text();
  await tlsGet(`/warm-tls-${i}`);
}

/**
 * A pause between the cases: two callbacks with only a few ms of the loop's own work between them
 * (the TLS response, the next request's start) fall in one stretch, as the monitor's ticks could
 * not run in that gap, and on a loaded machine "short" then read as a 24 ms block of two requests.
 * Each case is about one callback.
 */
const apart = () => new Promise((resolve) => setTimeout(resolve, 60));

await get('/?delay=50', 'http-wait', 'wait');
await apart();
await get('/?connect=1', 'http-connect', 'connect');
await apart();
// https on a connection of its own: block once TCP is connected, the client's first handshake
// message already sent (Node starts the handshake in the first 'connect' listener, its own), so
// the server's answer arrives while the program holds its thread.
await tlsGet('/?tls=1', 'https-tls');
await apart();
await get('/?bodyDelay=50', 'http-receive', 'receive');
await apart();
// fetch: block once undici has written the request (its diagnostics channel says when).
let fetchSent = false;
const onSent = () => {
  if (fetchSent) return;
  fetchSent = true;
  block('fetch-wait');
};
diagnostics.subscribe('undici:request:bodySent', onSent);
await (await fetch(`${base}/?delay=50&fetch=1`)).text();
diagnostics.unsubscribe('undici:request:bodySent', onSent);
console.log(JSON.stringify(blocks));
