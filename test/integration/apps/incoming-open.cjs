// A server whose handler never answers one request: the program exits while that request is
// open (servers.test.mjs: it must be recorded incomplete, with no status made up).
const http = require('node:http');

const server = http.createServer((req, res) => {
  if (req.url === '/done') {
    res.end('ok');
    return;
  }
  // /hang: no answer; the program exits with the request open.
  setTimeout(() => process.exit(0), 100);
});
server.listen(0, '127.0.0.1', async () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  await fetch(`${base}/done`).then((r) => r.text());
  http.get(`${base}/hang`).on('error', () => {});
});
