// A server on 127.0.0.1 that keeps the raw bytes of each request (llhttp would refuse the control
// characters the copy tests send in headers) and answers 200 "ok": resolves {server, got, url}.
import { createServer } from 'node:net';

export async function rawServer() {
  const got = [];
  const server = createServer((sock) => {
    const chunks = [];
    sock.on('data', (d) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/\r\ncontent-length: *(\d+)/i.exec(all.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (all.length < end + 4 + len) return;
      got.push(all);
      sock.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, got, url: `http://127.0.0.1:${server.address().port}` };
}
