// Programs that end (or stop) in the ways a trace must survive. NT_MODE picks one; NT_URL is the
// HTTP server, NT_STALL one that never answers.
//   workers     NT_COUNT workers, NT_PARALLEL at a time, each: one fetch, post its status to the
//               parent, which terminate()s it at once
//   exit        one http.get, process.exit(3) in the 'end' handler of its response
//   sigterm     one fetch; once its body is read, sends itself SIGTERM (no handler installed: Node's
//               default action ends the process at once, no 'exit' event)
//   sigkill     one http.get to NT_STALL; prints "sent" once the request is written and waits
//               (the test sends SIGKILL)
//   paused      one fetch to NT_URL; once its body is read, prints "paused" and the thread stops dead
//               (a blocking read of stdin: no timer or callback can run, as at a breakpoint). A line
//               on stdin ends the program.
//   inflight    one http.get to NT_STALL; once it is written, calls the flush entry point, prints
//               "flushed <what it returned>" and "paused", and stops dead as above
//   patched     patches net.Socket.prototype.connect to refuse unix sockets and count its calls,
//               makes three http requests, prints the count
//   warning     a 'warning' listener that exits 9; one http.get
const { Worker } = require('node:worker_threads');
const http = require('node:http');
const fs = require('node:fs');
const net = require('node:net');
const mode = process.env.NT_MODE;
const url = process.env.NT_URL;

/** Blocks the thread until a line arrives on stdin (nothing else runs meanwhile). */
function stopDead() {
  const buf = Buffer.alloc(64);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      if (fs.readSync(0, buf, 0, 64, null) >= 0) return;
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(nap, 0, 0, 10);
    }
  }
}

const get = (u) =>
  new Promise((resolve, reject) =>
    http
      .get(u, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject),
  );

if (mode === 'workers') {
  const n = Number(process.env.NT_COUNT ?? 100);
  const parallel = Number(process.env.NT_PARALLEL ?? 1);
  const code = `const { parentPort, workerData } = require('node:worker_threads');
fetch(workerData.url).then((r) => parentPort.postMessage(r.status), (e) => parentPort.postMessage(String(e)));`;
  let next = 0;
  const statuses = [];
  const one = () =>
    new Promise((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: { url: `${url}/w?id=${process.pid}-${next++}` } });
      w.once('message', (m) => {
        statuses.push(m);
        w.terminate().then(resolve, reject);
      });
      w.once('error', reject);
    });
  const lane = async () => {
    while (next < n) await one();
  };
  Promise.all(Array.from({ length: parallel }, lane)).then(() => console.log('statuses', statuses.filter((s) => s === 200).length));
} else if (mode === 'exit') {
  http.get(`${url}/exit`, (res) => {
    res.resume();
    res.on('end', () => process.exit(3));
  });
} else if (mode === 'sigterm') {
  fetch(`${url}/sigterm`)
    .then((r) => r.text())
    .then(() => {
      process.kill(process.pid, 'SIGTERM');
      setInterval(() => {}, 1000);
    });
} else if (mode === 'sigkill') {
  const req = http.get(`${process.env.NT_STALL}/killed`);
  req.on('finish', () => console.log('sent'));
  req.on('error', () => {});
  setInterval(() => {}, 1000);
} else if (mode === 'paused') {
  fetch(`${url}/before-pause`)
    .then((r) => r.text())
    .then(() => {
      console.log('paused');
      stopDead();
      process.exit(0);
    });
} else if (mode === 'inflight') {
  const req = http.get(`${process.env.NT_STALL}/in-flight`);
  req.on('error', () => {});
  req.on('finish', () => {
    const flush = globalThis[Symbol.for('nettrace.flushNow')];
    console.log('flushed', typeof flush === 'function' ? flush() : 'none');
    console.log('paused');
    stopDead();
    process.exit(0);
  });
} else if (mode === 'patched') {
  let calls = 0;
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    calls++;
    const opts = args[0];
    if ((opts && typeof opts === 'object' && opts.path) || typeof opts === 'string') {
      throw new Error('unix sockets are not allowed here');
    }
    return connect.apply(this, args);
  };
  (async () => {
    for (let i = 0; i < 3; i++) await get(`${url}/patched?i=${i}`);
    console.log('connect calls', calls);
  })();
} else if (mode === 'warning') {
  process.on('warning', () => process.exit(9));
  get(`${url}/warned`).then((s) => console.log('status', s));
}
