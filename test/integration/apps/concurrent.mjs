// N concurrent requests (http and fetch), each with a unique path and body size.
import http from 'node:http';
const urls = JSON.parse(process.env.NT_URLS);
const n = Number(process.env.NT_COUNT ?? 500);
const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
const one = (i) => {
  const path = `/c?id=${i}&size=${100 + ((i * 37) % 5000)}`;
  if (i % 2 === 0)
    return fetch(urls.http + path, { method: 'POST', body: 'b'.repeat(i % 300) })
      .then((r) => r.arrayBuffer())
      .then((b) => b.byteLength);
  return new Promise((resolve, reject) => {
    const req = http.request(urls.http + path, { agent, method: 'POST' }, (res) => {
      let len = 0;
      res.on('data', (d) => (len += d.length));
      res.on('end', () => resolve(len));
    });
    req.on('error', reject);
    req.end('b'.repeat(i % 300));
  });
};
const sizes = await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
agent.destroy();
console.log(JSON.stringify({ made: n, bytes: sizes.reduce((a, b) => a + b, 0) }));
