// Userland undici's fetch() and WebSocket to ports the Fetch standard blocks: undici refuses them
// before any network use, as Node's own. Prints what the program saw as JSON lines, to compare
// with the trace.
'use strict';
const undici = require('undici');

async function main() {
  const seen = [];
  const fetched = undici.fetch('http://127.0.0.1:6000/u?token=s3cret'); // the userland fetch
  await fetched.then(
    () => console.log('unexpected: fetched'),
    (err) => seen.push({ label: 'fetch', message: err.message, cause: err.cause?.message }),
  );
  const ws = new undici.WebSocket('ws://127.0.0.1:6666/w'); // the userland socket
  await new Promise((resolve) => {
    ws.onerror = () => setTimeout(resolve, 200);
    ws.onclose = resolve;
  });
  seen.push({ label: 'ws', instance: ws instanceof undici.WebSocket, OPEN: undici.WebSocket.OPEN });
  for (const s of seen) console.log(JSON.stringify(s));
  console.log('done');
}
main().catch((err) => {
  console.log(`failed: ${err.stack}`);
  process.exitCode = 1;
});
