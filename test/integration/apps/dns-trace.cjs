// Names resolved by the in-process resolver (DNS trace): one found, one missing, one via fetch.
const http = require('node:http');
const urls = JSON.parse(process.env.NT_URLS);
const port = new URL(urls.http).port;
const get = (url) =>
  new Promise((resolve) =>
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', (e) => resolve(e.code)),
  );
(async () => {
  const ok = await get(`http://svc.test:${port}/dns-ok`);
  const missing = await get(`http://missing.test:${port}/dns-missing`);
  const viaFetch = await fetch(`http://svc.test:${port}/dns-fetch`).then(
    (r) => r.status,
    (e) => e.cause?.code,
  );
  console.log(JSON.stringify({ ok, missing, viaFetch }));
})();
