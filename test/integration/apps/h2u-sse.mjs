// Server-sent events over fetch: the `eventsource` package (which uses the global fetch) and a
// plain fetch reading a long chunked response. The server sends three events, then waits; the
// program prints a "mid" line with the bytes sent so far and waits for a line on stdin before
// the server sends two more. Then the program closes the EventSource; the chunked response ends
// normally. The server reports what it sent.
import http from 'node:http';
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
let streamBytes = 0;
const streamDone = (async () => {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    streamBytes += value.length;
    if (streamBytes === seen['/stream'].bytesSent && seen['/stream'].bytesSent > 0) midReady.stream = true;
  }
})();
while (!(midReady.events && midReady.stream && seen['/stream'].bytesSent === streamBytes)) await new Promise((r) => setTimeout(r, 10));
console.log(JSON.stringify({ mid: { '/events': seen['/events'].bytesSent, '/stream': seen['/stream'].bytesSent } }));
const rl = createInterface({ input: process.stdin });
await new Promise((r) => rl.once('line', r));
rl.close();
release();
await esDone;
await streamDone;
// The server has seen both ends.
await closed['/events'];
await closed['/stream'];
server.closeAllConnections?.();
server.close();
console.log(JSON.stringify({ seen, got, streamBytes }));
