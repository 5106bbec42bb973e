// undici (Node's fetch and the npm package) with bodies whose length undici works out as it
// sends them (a ReadableStream, FormData, Blob, URLSearchParams, ky, a Node stream), and the
// dispatchers Pool, Agent and ProxyAgent (a CONNECT tunnel to an HTTP and an HTTPS target).
// The servers run in this process and report what they saw per path.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as undici from 'undici';
import ky from 'ky';

const certs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'certs');
const ca = readFileSync(join(certs, 'ca.pem'));
const seen = {};
const handler = (req, res) => {
  let recv = 0;
  req.on('data', (d) => (recv += d.length));
  req.on('end', () => {
    const u = new URL(req.url, 'http://x');
    const status = Number(u.searchParams.get('status') ?? 200);
    const body = 'r'.repeat(Number(u.searchParams.get('size') ?? 20));
    seen[u.pathname] = {
      method: req.method,
      contentLength: req.headers['content-length'],
      transferEncoding: req.headers['transfer-encoding'],
      recv,
      status,
      sent: body.length,
      remotePort: req.socket.remotePort,
    };
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  });
};
const server = http.createServer(handler);
const tlsServer = https.createServer(
  { key: readFileSync(join(certs, 'localhost.key')), cert: readFileSync(join(certs, 'localhost.pem')) },
  handler,
);
const tunnels = [];
const proxy = http.createServer((req, res) => res.writeHead(405).end());
proxy.on('connect', (req, client, head) => {
  const [host, port] = req.url.split(':');
  tunnels.push({ target: req.url, clientPort: client.remotePort });
  const upstream = net.connect(Number(port), host === 'localhost' ? '127.0.0.1' : host, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
});
const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));
const port = await listen(server);
const tlsPort = await listen(tlsServer);
const proxyPort = await listen(proxy);
const base = `http://127.0.0.1:${port}`;
const text = 'stream body. '.repeat(40);
const chunks = () =>
  new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(text.slice(0, 200)));
      c.enqueue(new TextEncoder().encode(text.slice(200)));
      c.close();
    },
  });
const form = () => {
  const f = new FormData();
  f.append('name', 'value');
  f.append('file', new Blob(['file contents '.repeat(10)], { type: 'text/plain' }), 'a.txt');
  return f;
};
const drain = async (res) => (res.text ? res.text() : res.body.text());

// Node's fetch (bundled undici).
await drain(await fetch(`${base}/fetch-stream`, { method: 'POST', body: chunks(), duplex: 'half' }));
await drain(await fetch(`${base}/fetch-form`, { method: 'POST', body: form() }));
await drain(await fetch(`${base}/fetch-blob`, { method: 'POST', body: new Blob(['blob '.repeat(33)]) }));
await drain(await fetch(`${base}/fetch-params`, { method: 'POST', body: new URLSearchParams({ a: '1', b: 'two words' }) }));
await drain(await fetch(`${base}/fetch-string`, { method: 'PUT', body: 'plain string' }));
// ky (on the global fetch).
await ky.post(`${base}/ky-json`, { json: { hello: 'world', n: [1, 2, 3] } }).text();
await ky.post(`${base}/ky-form`, { body: form() }).text();
// npm undici: its fetch, and the dispatcher API with a Node stream body.
await drain(await undici.fetch(`${base}/undici-fetch-stream`, { method: 'POST', body: chunks(), duplex: 'half' }));
await drain(await undici.fetch(`${base}/undici-fetch-form`, { method: 'POST', body: form() }));
await drain(
  await undici.request(`${base}/undici-request-stream`, {
    method: 'POST',
    body: Readable.from([Buffer.from('abc'), Buffer.from('defgh')]),
  }),
);
// Dispatchers.
const pool = new undici.Pool(base, { connections: 2 });
await Promise.all([1, 2, 3].map(async (i) => drain(await pool.request({ path: `/pool-${i}?size=${100 + i}`, method: 'GET' }))));
await pool.close();
const agent = new undici.Agent();
await drain(await undici.request(`${base}/agent-1?status=201`, { dispatcher: agent, method: 'POST', body: 'agent body' }));
await drain(await undici.request(`${base}/agent-2?status=404&size=3`, { dispatcher: agent }));
await agent.close();
const proxyAgent = new undici.ProxyAgent({ uri: `http://127.0.0.1:${proxyPort}`, requestTls: { ca } });
await drain(await undici.request(`https://localhost:${tlsPort}/proxied-https?size=77`, { dispatcher: proxyAgent }));
await drain(
  await undici.request(`https://localhost:${tlsPort}/proxied-https-2?size=5`, {
    dispatcher: proxyAgent,
    method: 'POST',
    body: 'through the tunnel',
  }),
);
await proxyAgent.close();
server.close();
tlsServer.close();
proxy.close();
console.log(JSON.stringify({ seen, tunnels, ports: { port, tlsPort, proxyPort } }));
