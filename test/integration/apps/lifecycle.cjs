// Programs that end in the ways a trace must survive. NT_MODE picks one; NT_URL is the server.
//   workers N   N workers one after another, each: one fetch, post its status, terminate() at once
//   exit        one http.get, process.exit(3) in the 'end' handler of its response
//   sigterm     one fetch; prints "done" and waits (the test sends SIGTERM; no handler installed)
//   sigkill     one http.get to a server that never answers; prints "sent" once the request is
//               flushed and waits (the test sends SIGKILL)
//   flushnow    one fetch, then a busy loop (no timer can run) that calls the flush entry point
//               and prints what it returned, then waits for a line on stdin
const { Worker } = require('node:worker_threads');
const http = require('node:http');
const mode = process.env.NT_MODE;
const url = process.env.NT_URL;

if (mode === 'workers') {
  const n = Number(process.env.NT_COUNT ?? 100);
  const code = `const { parentPort, workerData } = require('node:worker_threads');
fetch(workerData.url).then((r) => parentPort.postMessage(r.status), (e) => parentPort.postMessage(String(e)));`;
  (async () => {
    const statuses = [];
    for (let i = 0; i < n; i++) {
      const w = new Worker(code, { eval: true, workerData: { url: `${url}/w?id=${i}` } });
      await new Promise((resolve, reject) => {
        w.once('message', (m) => {
          statuses.push(m);
          w.terminate().then(resolve, reject);
        });
        w.once('error', reject);
      });
    }
    console.log('statuses', statuses.filter((s) => s === 200).length);
  })();
} else if (mode === 'exit') {
  http.get(`${url}/exit`, (res) => {
    res.resume();
    res.on('end', () => process.exit(3));
  });
} else if (mode === 'sigterm') {
  fetch(`${url}/sigterm`)
    .then((r) => r.text())
    .then(() => {
      console.log('done');
      setInterval(() => {}, 1000);
    });
} else if (mode === 'sigkill') {
  const req = http.get(`${url}/killed`);
  req.on('finish', () => console.log('sent'));
  req.on('error', () => {});
  setInterval(() => {}, 1000);
} else if (mode === 'flushnow') {
  fetch(`${url}/paused`)
    .then((r) => r.text())
    .then(() => {
      // Stand-in for a breakpoint: no timer or I/O callback runs while this loop spins.
      const until = Date.now() + 300;
      while (Date.now() < until);
      const flush = globalThis[Symbol.for('nettrace.flushNow')];
      console.log('flushed', typeof flush === 'function' ? flush() : 'none');
      process.stdin.once('data', () => process.exit(0));
    });
}
