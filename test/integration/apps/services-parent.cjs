// A gateway that starts two services as child processes (services-child.cjs): service a calls
// service b for every request, the gateway calls both. Each service answers with the headers it
// received. Prints what the clients and services saw, as JSON. Traced, all three processes are
// (the children inherit the preload); the test links every call to the request it became.
'use strict';
const http = require('node:http');
const { fork } = require('node:child_process');
const { join } = require('node:path');

function start(name, env) {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'services-child.cjs'), [name], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('message', (m) => resolve({ child, port: m.port }));
    child.once('error', reject);
  });
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: keepAlive }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      })
      .on('error', reject);
  });
}
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 2 });

(async () => {
  const b = await start('b', {});
  const a = await start('a', { PEER_PORT: String(b.port) });
  const seen = [];
  const gateway = http.createServer(async (req, res) => {
    const n = req.url.slice(1);
    const fromA = await get(a.port, `/a?n=${n}`);
    const fromB = await get(b.port, `/b?n=${n}`);
    seen.push({ n, a: JSON.parse(fromA.body), b: JSON.parse(fromB.body) });
    res.end('ok');
  });
  await new Promise((r) => gateway.listen(0, '127.0.0.1', r));
  const port = gateway.address().port;
  await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((n) => get(port, `/${n}`)));
  process.stdout.write(JSON.stringify({ ports: { gateway: port, a: a.port, b: b.port }, seen }));
  keepAlive.destroy();
  gateway.close();
  a.child.kill();
  b.child.kill();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
