// Issue 4 details: socket-op trace, bodies (text, JSON, binary, truncated, gzip) and several
// addresses for one name (happy eyeballs: 127.0.0.2 refuses, 127.0.0.1 answers).
const http = require('node:http');
const zlib = require('node:zlib');
const urls = JSON.parse(process.env.NT_URLS);

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ echo: Buffer.concat(chunks).toString(), ok: true }));
    } else if (url.pathname === '/binary') {
      res.setHeader('content-type', 'application/octet-stream');
      res.end(Buffer.from([0, 1, 2, 3, 254, 255]));
    } else if (url.pathname === '/big') {
      res.setHeader('content-type', 'text/plain');
      res.end('a'.repeat(100000));
    } else if (url.pathname === '/gzip') {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-encoding', 'gzip');
      res.end(zlib.gzipSync('compressed text'));
    } else {
      res.end('ok');
    }
  });
});

const request = (url, opts = {}, body) =>
  new Promise((resolve, reject) => {
    const req = http.request(url, opts, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });

server.listen(0, '127.0.0.1', async () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  await request(`${base}/json`, { method: 'POST', headers: { 'content-type': 'application/json' } }, '{"hello":"world"}');
  await request(`${base}/binary`);
  await request(`${base}/big`);
  await request(`${base}/gzip`);
  await (
    await fetch(`${base}/json?via=fetch`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })
  ).text();
  // One name, two addresses: the first refuses.
  const lookup = (host, opts, cb) =>
    cb(null, [
      { address: '127.0.0.2', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ]);
  await request(`http://multi.test:${server.address().port}/multi`, { lookup, autoSelectFamily: true });
  server.close();
  console.log('done', urls.http.length > 0);
});
