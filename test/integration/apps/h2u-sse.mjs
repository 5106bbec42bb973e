// Server-sent events over fetch: the `eventsource` package (which uses the global fetch) and a
// plain fetch reading a long chunked response. The server sends three events, then waits; the
// program prints a "mid" line with the bytes sent so far and waits for a line on stdin before
// the server sends two more. Then the program closes the EventSource; the chunked response ends
// normally. The server reports what it sent.
import http from 'node:http';
import http2 from 'node:http2';
import { createInterface } from 'node:readline';
import { EventSource } from 'eventsource';

const seen = {};
const closed = {};
let release;
const released = new Promise((r) => (release = r));
const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  const s = (seen[path] = { bytesSent: 0, closedByClient: false });
  res.writeHead(200, { 'content-type': path === '/events' ? 'text/event-stream' : 'text/plain', 'cache-control': 'no-cache' });
  let onClosed;
  closed[path] = new Promise((r) => (onClosed = r));
  res.on('close', () => {
    s.closedByClient = !res.writableFinished;
    onClosed();
  });
  const send = (text) => {
    res.write(text);
    s.bytesSent += Buffer.byteLength(text);
  };
  for (let i = 1; i <= 3; i++) send(path === '/events' ? `id: ${i}\ndata: event number ${i}\n\n` : `line ${i}\n`);
  await released;
  for (let i = 4; i <= 5; i++) send(path === '/events' ? `id: ${i}\ndata: event number ${i}\n\n` : `line ${i}\n`);
  if (path !== '/events') res.end();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const es = new EventSource(`${base}/events`);
let got = 0;
const esDone = new Promise((resolve) => {
  es.onmessage = () => {
    got++;
    if (got === 3) midReady.events = true;
    if (got === 5) {
      es.close();
      resolve();
    }
  };
});
const midReady = { events: false, stream: false };
const res = await fetch(`${base}/stream`);
const reader = res.body.getReader();
// An HTTP/2 stream that takes its time (as a gRPC server stream does). Opened after the fetch:
// on the first connection after an ESM import of node:http2 the hook is not installed yet.
const h2server = http2.createServer();
h2server.on('stream', async (stream) => {
  const s = (seen['/h2-stream'] = { bytesSent: 0 });
  stream.respond({ ':status': 200, 'content-type': 'text/plain' });
  const send = (text) => {
    stream.write(text);
    s.bytesSent += Buffer.byteLength(text);
  };
  for (let i = 1; i <= 3; i++) send(`h2 line ${i}\n`);
  await released;
  for (let i = 4; i <= 5; i++) send(`h2 line ${i}\n`);
  stream.end();
});
await new Promise((r) => h2server.listen(0, '127.0.0.1', r));
const h2session = http2.connect(`http://127.0.0.1:${h2server.address().port}`);
const h2req = h2session.request({ ':path': '/h2-stream' });
let h2Bytes = 0;
h2req.on('data', (d) => (h2Bytes += d.length));
const h2Done = new Promise((r) => h2req.on('end', r));
h2req.end();
let streamBytes = 0;
const streamDone = (async () => {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    streamBytes += value.length;
    if (streamBytes === seen['/stream'].bytesSent && seen['/stream'].bytesSent > 0) midReady.stream = true;
  }
})();
const h2Mid = () => seen['/h2-stream'] && seen['/h2-stream'].bytesSent > 0 && h2Bytes === seen['/h2-stream'].bytesSent;
while (!(midReady.events && midReady.stream && seen['/stream'].bytesSent === streamBytes && h2Mid()))
  await new Promise((r) => setTimeout(r, 10));
console.log(
  JSON.stringify({
    mid: { '/events': seen['/events'].bytesSent, '/stream': seen['/stream'].bytesSent, '/h2-stream': seen['/h2-stream'].bytesSent },
  }),
);
const rl = createInterface({ input: process.stdin });
await new Promise((r) => rl.once('line', r));
rl.close();
release();
await esDone;
await streamDone;
await h2Done;
h2session.close();
h2server.close();
// The server has seen both ends.
await closed['/events'];
await closed['/stream'];
server.closeAllConnections?.();
server.close();
console.log(JSON.stringify({ seen, got, streamBytes }));
