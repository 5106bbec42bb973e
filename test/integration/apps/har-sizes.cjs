// A gzip response and a plain one through fetch (undici decodes it), http.get (the program decodes
// it with zlib) and axios (decodes it itself); prints the decoded lengths the program got, so the
// test can hold the HAR's sizes against them (issue 49 item 8). NT_BASE: the test's server.
const http = require('node:http');
const zlib = require('node:zlib');
const axios = require('axios');

const base = process.env.NT_BASE;

function httpGet(path) {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${path}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const parts = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => {
          const raw = Buffer.concat(parts);
          resolve(res.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw).length : raw.length);
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

(async () => {
  const out = {};
  for (const path of ['/gzip', '/plain']) {
    out[`fetch${path}`] = (await (await fetch(`${base}${path}?via=fetch`)).arrayBuffer()).byteLength;
    out[`http${path}`] = await httpGet(`${path}?via=http`);
    const r = await axios.get(`${base}${path}?via=axios`, { responseType: 'arraybuffer', decompress: true });
    out[`axios${path}`] = r.data.length;
  }
  console.log(JSON.stringify(out));
})();
