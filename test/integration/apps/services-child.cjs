// One service of services-parent.cjs: answers with the request headers it received (minus the
// Host, whose port changes per run); with PEER_PORT it first calls that service (`/chained`).
'use strict';
const http = require('node:http');

const name = process.argv[2];
const peer = Number(process.env.PEER_PORT || 0);
const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((req, res) => {
  const headers = req.rawHeaders.filter((_, i) => !/^host$/i.test(req.rawHeaders[i - (i % 2)]));
  const answer = (chained) => res.end(JSON.stringify({ name, url: req.url, headers, chained }));
  if (!peer) return answer(undefined);
  http.get({ host: '127.0.0.1', port: peer, path: `/chained${req.url.slice(2)}`, agent }, (r) => {
    let body = '';
    r.on('data', (c) => (body += c));
    r.on('end', () => answer(JSON.parse(body).headers));
  });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('SIGTERM', () => process.exit(0));
