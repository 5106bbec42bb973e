// Failures of every phase: refused, DNS, untrusted certificate, hostname mismatch, a timeout
// against a stalling server, a reset mid-body; with http/https and fetch.
const http = require('node:http');
const https = require('node:https');
const urls = JSON.parse(process.env.NT_URLS);

function httpGet(mod, url, opts = {}) {
  return new Promise((resolve) => {
    const req = mod.get(url, opts, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve('ok'));
      res.on('error', (e) => resolve(e.code));
    });
    req.on('error', (e) => resolve(e.code || e.name));
  });
}
const fetchErr = (url, opts) =>
  fetch(url, opts)
    .then((r) => r.text())
    .then(
      () => 'ok',
      (e) => (e.cause && e.cause.code) || e.name,
    );

(async () => {
  const out = {};
  out.refused = await httpGet(http, `${urls.refused}/refused`);
  out.dns = await httpGet(http, 'http://nonexistent.invalid/dns');
  out.untrusted = await httpGet(https, `${urls.untrusted}/untrusted`);
  out.wrongHost = await httpGet(https, `${urls.wrongHost}/wrong-host`);
  out.timeout = await httpGet(http, `${urls.stall}/stall`, { signal: AbortSignal.timeout(300) });
  out.reset = await httpGet(http, `${urls.reset}/reset`);
  out.fetchRefused = await fetchErr(`${urls.refused}/fetch-refused`);
  out.fetchDns = await fetchErr('http://nonexistent.invalid/fetch-dns');
  out.fetchTimeout = await fetchErr(`${urls.stall}/fetch-stall`, { signal: AbortSignal.timeout(300) });
  out.fetchReset = await fetchErr(`${urls.reset}/fetch-reset`);
  console.log(JSON.stringify(out));
})();
