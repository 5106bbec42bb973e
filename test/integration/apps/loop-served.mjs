// The program of test/integration/loop-blocked.test.mjs's served case: an http server whose
// handler for /sync holds its thread for BLOCK_MS with a busy loop (synchronous work), and for
// /async waits as long on a timer (the thread free); the program requests both from itself, after
// a few unmeasured requests. Prints one JSON line: the /sync block's epoch begin and end.
import http from 'node:http';

const BLOCK_MS = 250;
const now = () => performance.timeOrigin + performance.now();
const blocks = {};
const server = http.createServer((req, res) => {
  if (req.url === '/sync') {
    const beginAt = now();
    while (now() - beginAt < BLOCK_MS);
    blocks.sync = { beginAt, endAt: now() };
    res.end('done');
  } else if (req.url === '/async') setTimeout(() => res.end('done'), BLOCK_MS);
  else res.end('warm');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const get = (path) =>
  new Promise((resolve, reject) => {
    http
      .get(`${base}${path}`, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
for (let i = 0; i < 3; i++) await get(`/warm-${i}`);
await get('/sync');
await get('/async');
server.close();
console.log(JSON.stringify(blocks));
