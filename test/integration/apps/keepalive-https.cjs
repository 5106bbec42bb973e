// HTTP keep-alive (second request reuses the connection), a POST with a body, and HTTPS trusted
// through NODE_EXTRA_CA_CERTS.
const http = require('node:http');
const https = require('node:https');
const urls = JSON.parse(process.env.NT_URLS);

function get(mod, url, opts = {}) {
  return new Promise((resolve, reject) => {
    const req = mod.request(url, opts, (res) => {
      let n = 0;
      res.on('data', (d) => (n += d.length));
      res.on('end', () => resolve({ status: res.statusCode, n }));
    });
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

(async () => {
  const agent = new http.Agent({ keepAlive: true });
  const a = await get(http, `${urls.httpLocalhost}/one?size=100`, {
    agent,
    headers: { authorization: 'Bearer secret-token', 'x-visible': 'yes' },
  });
  const b = await get(http, `${urls.httpLocalhost}/two?size=200`, { agent });
  const c = await get(http, `${urls.http}/post`, { agent, method: 'POST', body: 'x'.repeat(1234), headers: { 'content-length': 1234 } });
  agent.destroy();
  const d = await get(https, `${urls.https}/secure?size=50`);
  console.log(JSON.stringify([a, b, c, d]));
})();
