// A test runner's pool in small: a worker process (fork, IPC) and a worker thread each make N
// requests at once to a local server, report to their parent, and are killed the moment the report
// arrives (SIGTERM to the fork, terminate() to the thread), as vitest's tinypool and Jest's workers
// do. Prints what each worker saw: {fork, thread} counts of responses read whole.
const http = require('node:http');
const { fork } = require('node:child_process');
const { Worker } = require('node:worker_threads');

const N = Number(process.env.NT_N ?? 60);

/** The worker's part: N requests at once, then the report. */
async function requests(url) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const one = (i) =>
    new Promise((resolve, reject) =>
      http
        .get(`${url}/r/${i}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        })
        .on('error', reject),
    );
  const statuses = await Promise.all(Array.from({ length: N }, (_, i) => one(i)));
  return statuses.filter((s) => s === 200).length;
}

if (process.argv[2] === 'fork') {
  requests(process.argv[3]).then((ok) => process.send({ ok }));
} else if (process.argv[2] === 'thread') {
  const { parentPort, workerData } = require('node:worker_threads');
  requests(workerData.url).then((ok) => parentPort.postMessage({ ok }));
} else {
  const server = http
    .createServer((req, res) => res.end('ok'))
    .listen(0, '127.0.0.1', async () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      const forked = await new Promise((resolve) => {
        const child = fork(__filename, ['fork', url]);
        child.on('message', (m) => {
          child.kill('SIGTERM');
          resolve(m.ok);
        });
      });
      const threaded = await new Promise((resolve) => {
        const worker = new Worker(__filename, { argv: ['thread'], workerData: { url } });
        worker.on('message', (m) => {
          void worker.terminate();
          resolve(m.ok);
        });
      });
      server.close();
      console.log(JSON.stringify({ fork: forked, thread: threaded }));
    });
}
