// The requests of the OpenTelemetry export test (otlp.test.mjs): http, https, fetch (with a query
// secret), a redirect chain followed by fetch, http2, a refused connection, a TLS failure and a
// timeout. Prints how long its requests took, so a test can compare runs.
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
const urls = JSON.parse(process.env.NT_URLS);
const tls = JSON.parse(process.env.NT_TLS);

function get(mod, url, opts = {}) {
  return new Promise((resolve) => {
    const req = mod.get(url, opts, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (e) => resolve(e.code || e.name));
  });
}

function h2get(origin, path) {
  return new Promise((resolve) => {
    const session = http2.connect(origin);
    session.on('error', (e) => resolve(e.code));
    const stream = session.request({ ':path': path });
    stream.on('response', () => {});
    stream.resume();
    stream.on('end', () => {
      session.close();
      resolve('ok');
    });
    stream.on('error', (e) => resolve(e.code));
  });
}

const t0 = performance.now();
const out = {};
out.http = await get(http, `${urls.http}/plain?size=5`);
out.https = await get(https, `${urls.https}/secure`);
out.fetch = await fetch(`${urls.http}/fetched?api_key=abc123&page=2`).then((r) => r.text().then(() => r.status));
out.redirect = await fetch(`${urls.http}/r/2`).then((r) => r.text().then(() => r.url));
out.http2 = await h2get(`https://localhost:${tls.alpn}`, '/h2');
out.refused = await get(http, `${urls.refused}/refused`);
out.tls = await get(https, `${urls.untrusted}/untrusted`);
out.timeout = await get(http, `${urls.stall}/stall`, { signal: AbortSignal.timeout(300) });
out.ms = Math.round(performance.now() - t0);
console.log(JSON.stringify(out));
