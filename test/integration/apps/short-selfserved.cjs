// A short program: serves itself N requests over loopback (keep-alive off, one after another),
// prints "done <n>" and exits at once. Its whole trace is written while it runs; it never waits
// for its collector. Used by collector-eof.test.mjs with a collector that reads only after it exited.
const http = require('node:http');

const count = Number(process.argv[2] || 10);
const server = http.createServer((req, res) => res.end(`body of ${req.url} `.repeat(20)));
server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  let done = 0;
  for (let i = 0; i < count; i++) {
    await new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: `/short/${i}`, agent: false }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    done++;
  }
  console.log(`done ${done}`);
  server.close();
});
