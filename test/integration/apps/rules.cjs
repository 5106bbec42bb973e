// Trace rules across clients and threads: for each client, requests to /keep, /skip, /mark and
// /status?code=200|500 (what is kept is decided at the end), over http, https, fetch, undici and
// http2 in the main thread, http in a child process, fetch and http in a worker thread.
// NT_URLS: the servers' URLs. With NT_STEP, it makes one round of /keep?n=N and /skip?n=N per
// line read from stdin, printing "round N" after each (for a rule changed while it runs).
const http = require('node:http');
const https = require('node:https');
const http2 = require('node:http2');
const { spawnSync } = require('node:child_process');
const { Worker, isMainThread, workerData } = require('node:worker_threads');
const urls = JSON.parse(process.env.NT_URLS);

const PATHS = ['/keep', '/skip', '/mark', '/status?code=200', '/status?code=500'];
const tag = (path, client) => `${path}${path.includes('?') ? '&' : '?'}c=${client}`;

function get(mod, url) {
  return new Promise((resolve, reject) => {
    mod
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
}

async function viaFetch(base, client) {
  for (const p of PATHS) await (await fetch(base + tag(p, client))).text();
}

async function viaHttp(mod, base, client) {
  for (const p of PATHS) await get(mod, base + tag(p, client));
}

/** An h2c server answering like servers.mjs: /status?code=N with N, anything else 200. */
function h2Server() {
  const srv = http2.createServer();
  srv.on('stream', (stream, headers) => {
    const url = new URL(headers[':path'], 'http://x');
    stream.respond({ ':status': url.pathname === '/status' ? Number(url.searchParams.get('code')) : 200 });
    stream.end('h2');
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

async function viaHttp2(port) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  for (const p of PATHS) {
    await new Promise((resolve, reject) => {
      const req = session.request({ ':path': tag(p, 'http2') });
      req.on('error', reject);
      req.resume();
      req.on('end', resolve);
      req.end();
    });
  }
  session.close();
}

async function main() {
  if (process.env.NT_STEP) {
    let n = 0;
    const { createInterface } = require('node:readline');
    for await (const _line of createInterface({ input: process.stdin })) {
      n++;
      await get(http, `${urls.http}/keep?n=${n}`);
      await get(http, `${urls.http}/skip?n=${n}`);
      await new Promise((resolve, reject) => {
        const w = new Worker(
          `require('node:http').get(${JSON.stringify(`${urls.http}/worker?n=${n}`)}, (r) => { r.resume(); r.on('end', () => process.exit(0)); })`,
          { eval: true },
        );
        w.on('exit', resolve);
        w.on('error', reject);
      });
      console.log(`round ${n}`);
    }
    return;
  }
  await viaHttp(http, urls.http, 'http');
  await viaHttp(https, urls.https, 'https');
  await viaFetch(urls.http, 'fetch');
  const undici = require('undici');
  for (const p of PATHS) await (await undici.request(urls.http + tag(p, 'undici'))).body.text();
  const srv = await h2Server();
  await viaHttp2(srv.address().port);
  srv.close();
  const child = spawnSync(process.execPath, [__filename], { env: { ...process.env, NT_ROLE: 'child' }, stdio: 'inherit' });
  await new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: 'worker' });
    w.on('exit', resolve);
    w.on('error', reject);
  });
  console.log('done', child.status);
}

if (!isMainThread) {
  (async () => {
    await viaFetch(urls.http, 'worker-fetch');
    await viaHttp(http, urls.http, workerData);
  })();
} else if (process.env.NT_ROLE === 'child') {
  viaHttp(http, urls.http, 'child');
} else {
  main();
}
