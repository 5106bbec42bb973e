// A program that only serves: an HTTP server on a free port (printed as JSON on stdout) that
// answers NT_SERVE requests (default 3) from a client outside the trace, then closes. It makes no
// request of its own. `/missing` is answered 404; `/slow` after 300 ms (a client may leave first).
const http = require('node:http');
const want = Number(process.env.NT_SERVE ?? 3);
let served = 0;
const server = http.createServer((req, res) => {
  req.resume();
  res.on('close', () => {
    if (++served === want) server.close();
  });
  const answer = () => {
    if (res.destroyed) return;
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
    res.end(`served ${req.url}`);
  };
  if (req.url === '/slow') setTimeout(answer, 300);
  else req.on('end', answer);
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
