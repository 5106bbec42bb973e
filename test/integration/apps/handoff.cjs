// A test runner's pool in small: a worker process (fork, IPC) and a worker thread each make N
// requests at once to a local server, report to their parent, and are killed the moment the report
// arrives (SIGTERM to the fork, terminate() to the thread), as vitest's tinypool and Jest's workers
// do. The forked workers keep Node's `process.send` before they load `http`, as vitest's does
// (`process.send.bind(process)` when its worker loads, before its tests import `http`): one
// CommonJS (this file), one an ES module (handoff-fork.mjs). Prints what each worker saw:
// {fork, esmFork, thread} counts of responses read whole.
const send = process.send?.bind(process);
const http = require('node:http');
const { fork } = require('node:child_process');
const { Worker } = require('node:worker_threads');

const N = Number(process.env.NT_N ?? 60);

/** The worker's part: N requests at once, then the report. */
async function requests(url) {
  return runRequests(http, url, N);
}

/** N requests at once to `url` through `client` (http); resolves how many answered 200. */
async function runRequests(client, url, n) {
  const agent = new client.Agent({ keepAlive: true, maxSockets: 8 });
  const one = (i) =>
    new Promise((resolve, reject) =>
      client
        .get(`${url}/r/${i}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        })
        .on('error', reject),
    );
  const statuses = await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  return statuses.filter((s) => s === 200).length;
}

module.exports = { runRequests };

if (process.argv[2] === 'fork') {
  requests(process.argv[3]).then((ok) => send({ ok }));
} else if (process.argv[2] === 'thread') {
  const { parentPort, workerData } = require('node:worker_threads');
  requests(workerData.url).then((ok) => parentPort.postMessage({ ok }));
} else if (require.main === module) {
  const server = http
    .createServer((req, res) => res.end('ok'))
    .listen(0, '127.0.0.1', async () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      const forked = (file, args) =>
        new Promise((resolve) => {
          const child = fork(file, args);
          child.on('message', (m) => {
            child.kill('SIGTERM');
            resolve(m.ok);
          });
        });
      const fromFork = await forked(__filename, ['fork', url]);
      const fromEsmFork = await forked(require('node:path').join(__dirname, 'handoff-fork.mjs'), [url]);
      const threaded = await new Promise((resolve) => {
        const worker = new Worker(__filename, { argv: ['thread'], workerData: { url } });
        worker.on('message', (m) => {
          void worker.terminate();
          resolve(m.ok);
        });
      });
      server.close();
      console.log(JSON.stringify({ fork: fromFork, esmFork: fromEsmFork, thread: threaded }));
    });
}
