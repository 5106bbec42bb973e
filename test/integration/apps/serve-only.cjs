// A program that only serves: an HTTP server on a free port (printed as JSON on stdout) that
// answers NT_SERVE requests (default 3) from a client outside the trace, then closes. It makes no
// request of its own.
const http = require('node:http');
const want = Number(process.env.NT_SERVE ?? 3);
let served = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
    res.end(`served ${req.url}`);
    if (++served === want) server.close();
  });
});
server.keepAliveTimeout = 100;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
