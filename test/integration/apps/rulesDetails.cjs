// A `details` rule's socket-op and DNS traces per request (test/integration/rules-details.test.mjs).
// NT_PORT: the test's HTTP server on 127.0.0.1. Over one keep-alive connection each, http then
// fetch make /plain, /ops, /plain (fetch: /fplain, /fops, /fplain) one after the other; then new
// connections to dns1.test (http), localhost (http) and dns2.test (fetch), the .test names
// resolved by the test's DNS server only when the DNS trace is on for the request.
const http = require('node:http');

const port = Number(process.env.NT_PORT);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(url, options) {
  return new Promise((resolve, reject) => {
    http
      .get(url, options, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
}
async function viaFetch(url) {
  const res = await fetch(url);
  await res.text();
  return res.status;
}

async function main() {
  for (const p of ['/plain?n=1', '/ops?n=2', '/plain?n=3']) await get(`http://127.0.0.1:${port}${p}`, { agent });
  for (const p of ['/fplain?n=1', '/fops?n=2', '/fplain?n=3']) {
    await viaFetch(`http://127.0.0.1:${port}${p}`);
    // undici's pool opens a second connection for a fetch made right after a response ends
    // (it has not seen the first one free yet); a pause keeps the three on one connection.
    await new Promise((r) => setTimeout(r, 30));
  }
  const out = {
    dnsHttp: await get(`http://dns1.test:${port}/dns-http`, { agent: false }),
    dnsNone: await get(`http://localhost:${port}/dns-none`, { agent: false }),
    dnsFetch: await viaFetch(`http://dns2.test:${port}/dns-fetch`),
  };
  agent.destroy();
  console.log(JSON.stringify(out));
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
