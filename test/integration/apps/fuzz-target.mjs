// The real program of the fuzz test: prints the collector's socket path (from its preload config)
// so the test can attack it, waits for the go line on stdin, then makes REQUESTS real requests
// (fetch and http, keep-alive) to the test's server while the fuzzing runs, and exits with 7 when
// they are done and the test has ended its stdin.
import http from 'node:http';
import { createInterface } from 'node:readline';

const [base, nonce] = process.argv.slice(2);
const n = Number(process.env.REQUESTS ?? 200);
console.log(JSON.stringify({ ipcPath: JSON.parse(process.env.NETTRACE_CONFIG).ipcPath }));
// Lines on stdin: "go" starts the requests; the program exits once they are done and stdin has
// ended (the test ends it when its peers are done, so the collector is up for all of them).
const rl = createInterface({ input: process.stdin });
const lines = rl[Symbol.asyncIterator]();
await lines.next();
const stdinEnded = (async () => {
  while (!(await lines.next()).done);
})();
const agent = new http.Agent({ keepAlive: true });
for (let i = 0; i < n; i++) {
  const url = `${base}/real/${i}?run=${nonce}`;
  if (i % 2 === 0) {
    const r = await fetch(url);
    await r.text();
  } else {
    await new Promise((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  }
  await new Promise((r) => setTimeout(r, 5));
}
agent.destroy();
await stdinEnded;
rl.close();
process.exitCode = 7;
