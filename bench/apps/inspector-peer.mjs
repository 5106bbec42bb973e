// Issue 17's second peer: what VS Code js-debug's Network view does to a Node program, without
// VS Code. The client runs under `node --inspect=0 --experimental-network-inspection` (Node 22.6+;
// http/https since 22.6, fetch through undici's diagnostics channels on 24) and waits
// (bench/apps/client.mjs --wait-inspector); this process connects to its inspector WebSocket,
// sends Runtime.enable and Network.enable as a debugger does, then Runtime.evaluate
// `globalThis.__benchRelease()` to start the requests, and consumes every event (JSON.parse of
// each message, as a debugger would). When the program's context goes away
// (Runtime.executionContextDestroyed: Node then waits for the debugger to disconnect) it
// disconnects and prints {"peer": {events by method}} on stdout.
//   node inspector-peer.mjs <ws://…>
import WebSocket from 'ws';

const url = process.argv[2];
if (!url?.startsWith('ws://')) {
  console.error('usage: inspector-peer.mjs <ws://host:port/id>');
  process.exit(2);
}
const counts = {};
let id = 0;
let failed;
const ws = new WebSocket(url, { perMessageDeflate: false });
const send = (method, params) => ws.send(JSON.stringify({ id: ++id, method, ...(params ? { params } : {}) }));
ws.on('open', () => {
  send('Runtime.enable');
  send('Network.enable');
  send('Runtime.evaluate', { expression: 'globalThis.__benchRelease()' });
});
ws.on('message', (data) => {
  const msg = JSON.parse(data.toString('utf8'));
  if (msg.error) failed ??= `${msg.id}: ${msg.error.message}`;
  if (!msg.method) return;
  counts[msg.method] = (counts[msg.method] ?? 0) + 1;
  if (msg.method === 'Runtime.executionContextDestroyed') ws.close();
});
ws.on('error', (err) => (failed ??= err.message));
ws.on('close', () => {
  process.stdout.write(JSON.stringify({ peer: counts, failed }) + '\n');
  process.exit(failed ? 1 : 0);
});
