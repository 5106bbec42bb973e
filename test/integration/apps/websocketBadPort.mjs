/* global WebSocket */
// Node's global WebSocket (22+) to ports the Fetch standard blocks: it connects through fetch,
// which refuses them before any network use, and the program's `error` event says nothing of why.
// Prints what the program saw of each socket as a JSON line, to compare with the trace;
// NT_REFUSED is a port nothing listens on (not a bad one).
const refused = Number(process.env.NT_REFUSED);

function openFeed() {
  return new WebSocket('ws://127.0.0.1:6000/feed?token=s3cret'); // the bad-port socket
}

/** The socket's error event and close code (Node 22's undici fires no close after such an error: none then). */
function outcome(ws) {
  return new Promise((resolve) => {
    let error;
    ws.onerror = (e) => {
      error = { type: e.type, name: e.error?.name, message: e.error?.message };
      setTimeout(() => resolve({ error }), 500);
    };
    ws.onclose = (e) => resolve({ error, code: e.code });
  });
}

async function main() {
  const seen = [];
  // First a socket to a port fetch allows: the preload's WebSocket Proxy waits for Node to load its
  // undici (src/preload/undici/badPort.ts), which a first request does; a subclass declared before
  // it extends Node's own class.
  seen.push({ label: 'refused', ...(await outcome(new WebSocket(`ws://127.0.0.1:${refused}/open`))) });
  const feed = openFeed();
  const same = { instance: feed instanceof WebSocket, proto: Object.getPrototypeOf(feed) === WebSocket.prototype, OPEN: WebSocket.OPEN };
  seen.push({ label: 'feed', ...(await outcome(feed)), ...same });
  class Chat extends WebSocket {}
  const chat = new Chat('wss://localhost:6697/chat'); // a subclass, wss
  seen.push({ label: 'chat', ...(await outcome(chat)), instance: chat instanceof Chat && chat instanceof WebSocket });
  try {
    new WebSocket('ftp://127.0.0.1:6000/');
    seen.push({ label: 'invalid', threw: false });
  } catch (err) {
    seen.push({ label: 'invalid', threw: err.name });
  }
  for (const s of seen) console.log(JSON.stringify(s));
  console.log('done');
}
main().catch((err) => {
  console.log(`failed: ${err.stack}`);
  process.exitCode = 1;
});
