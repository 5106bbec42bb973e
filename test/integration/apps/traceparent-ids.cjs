// A gateway serving 1,000 requests (20 at a time) from an untraced client (a child process without
// the preload: its requests carry no traceparent), each making two calls to a service (`from=N`,
// one through http.get, one through fetch); run with --add-traceparent, the service's incoming
// requests show the traceparent each call carried. Prints the ports as JSON.
'use strict';
const http = require('node:http');

const TOTAL = 1000;
const CONCURRENT = 20;

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function get(url, agent) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
}

async function main() {
  const svc = await listen(http.createServer((req, res) => res.end('ok')));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
  const gw = await listen(
    http.createServer(async (req, res) => {
      const from = new URL(req.url, 'http://x').searchParams.get('n');
      await get(`http://127.0.0.1:${svc}/svc?from=${from}&k=0`, agent);
      const r = await fetch(`http://127.0.0.1:${svc}/svc?from=${from}&k=1`);
      await r.text();
      res.end('done');
    }),
  );
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  await new Promise((resolve, reject) => {
    require('node:child_process')
      .execFile(process.execPath, [__filename, String(gw)], { env }, (err) => (err ? reject(err) : resolve()))
      .stderr.pipe(process.stderr);
  });
  console.log(JSON.stringify({ gw, svc }));
  process.exit(0);
}

/** The untraced client: 1,000 requests to the gateway, 20 at a time. */
async function client(gw) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENT });
  let next = 0;
  const worker = async () => {
    while (next < TOTAL) await get(`http://127.0.0.1:${gw}/gw?n=${next++}`, agent);
  };
  await Promise.all(Array.from({ length: CONCURRENT }, worker));
  process.exit(0);
}

if (process.argv[2]) client(Number(process.argv[2]));
else main();
