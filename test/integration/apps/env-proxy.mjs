// Node's own proxy support (NODE_USE_ENV_PROXY=1 with HTTP_PROXY, Node 24 and later): the global
// fetch and http.get of one target, both through the proxy the environment names.
import http from 'node:http';

const target = process.env.NT_TARGET;
const r1 = await fetch(`${target}/via-fetch`);
const t1 = await r1.text();
const t2 = await new Promise((resolve, reject) => {
  http
    .get(`${target}/via-get`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    })
    .on('error', reject);
});
console.log(JSON.stringify([t1, t2]));
