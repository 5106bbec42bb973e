// The program of test/integration/rules-break.test.mjs: makes the requests named on its command
// line, one after the other, to the test's servers (NT_BASE: http, NT_H2: h2c), and prints each
// status. The lines that make a request carry a `@request:<client>` marker: the test finds their
// line numbers by it and expects the debugger to pause with that line as the program's frame.
const http = require('node:http');
const http2 = require('node:http2');

const base = process.env.NT_BASE;
const h2base = process.env.NT_H2;

function viaHttp(path) {
  return new Promise((resolve, reject) => {
    const onResponse = (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    };
    const req = http.request(base + path, onResponse); // @request:http
    req.on('error', reject);
    req.end();
  });
}

async function viaFetch(path) {
  const res = await fetch(base + path); // @request:fetch
  await res.text();
  return res.status;
}

async function viaFetchPost(path) {
  const init = { method: 'POST', body: JSON.stringify({ order: 1 }), headers: { 'content-type': 'application/json' } };
  const res = await fetch(base + path, init); // @request:fetchPost
  await res.text();
  return res.status;
}

function viaHttp2(path) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(h2base);
    session.on('error', reject);
    const stream = session.request({ ':path': path }); // @request:http2
    let status;
    stream.on('response', (headers) => (status = headers[':status']));
    stream.on('error', reject);
    stream.resume();
    stream.on('end', () => {
      session.close();
      resolve(status);
    });
    stream.end();
  });
}

async function viaAxios(path) {
  const axios = require('axios');
  const res = await axios.get(base + path); // @request:axios
  return res.status;
}

async function viaGot(path) {
  const { default: got } = await import('got');
  const res = await got(base + path); // @request:got
  return res.statusCode;
}

const clients = { http: viaHttp, fetch: viaFetch, fetchPost: viaFetchPost, http2: viaHttp2, axios: viaAxios, got: viaGot };

(async () => {
  // Each argument is <client>:<path>, e.g. http:/orders/1.
  for (const step of process.argv.slice(2)) {
    const colon = step.indexOf(':');
    const status = await clients[step.slice(0, colon)](step.slice(colon + 1));
    process.stdout.write(`status ${step} ${status}\n`);
  }
  process.stdout.write('done\n');
})().catch((err) => {
  process.stdout.write(`failed ${err && err.stack}\n`);
  process.exitCode = 1;
});
