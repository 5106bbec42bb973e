// Requests with credentials in their target's userinfo, to a traced server: an HTTP/1.1 request
// in absolute form (`GET http://abs:PASSWORD@127.0.0.1:port/abs?access_token=…`), one whose Host
// header carries userinfo, and an HTTP/2 stream whose :authority does. Sent from raw sockets and
// an http2 session. Prints what the servers saw as JSON.
'use strict';
const http = require('node:http');
const http2 = require('node:http2');
const net = require('node:net');

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function raw(port, head) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('end', () => resolve(text.split('\r\n')[0]));
    socket.on('error', reject);
  });
}

async function main() {
  const seen = [];
  const port = await listen(
    http.createServer((req, res) => {
      seen.push(req.url);
      res.end('ok');
    }),
  );
  const status1 = await raw(
    port,
    `GET http://abs:PASSWORD1@127.0.0.1:${port}/abs?access_token=TOKEN1&page=2 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
  );
  const status2 = await raw(port, `GET /host?page=3 HTTP/1.1\r\nHost: hu:PASSWORD2@127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    seen.push(headers[':authority']);
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  const h2port = await listen(h2);
  const session = http2.connect(`http://127.0.0.1:${h2port}`);
  const status3 = await new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/h2?api_key=KEY3', ':authority': `h2u:PASSWORD3@127.0.0.1:${h2port}` });
    req.on('response', (h) => resolve(h[':status']));
    req.on('error', reject);
    req.resume();
    req.end();
  });
  session.close();
  h2.close();
  console.log(JSON.stringify({ port, h2port, seen, statuses: [status1, status2, status3] }));
  process.exit(0);
}
main();
