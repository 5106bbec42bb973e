// The `ws` client (an http.request upgrade): an echo exchange, a redirect it follows
// (followRedirects), a refused connection and its handshakeTimeout. Each case's request is made
// on the line marked `@line <case>`.
import WebSocket from 'ws';
import { base, refused, runCases } from './_run.mjs';

const wsBase = base.replace(/^http/, 'ws');
const wsRefused = refused.replace(/^http/, 'ws');

/** Sends one message, waits for its echo, closes with 1000 and waits for the close. */
function exchange(ws) {
  return new Promise((resolve, reject) => {
    let echoed;
    ws.on('open', () => ws.send('hello'));
    ws.on('message', (d) => {
      echoed = String(d);
      ws.close(1000, 'done');
    });
    ws.on('close', (code) => resolve({ echoed, code }));
    ws.on('error', reject);
  });
}

await runCases({
  get: () => exchange(new WebSocket(`${wsBase}/get/ws`)), // @line get
  redirect: () => exchange(new WebSocket(`${wsBase}/redirect/redir/ws`, { followRedirects: true })), // @line redirect
  refused: () => exchange(new WebSocket(`${wsRefused}/refused/ws`)), // @line refused
  timeout: () => exchange(new WebSocket(`${wsBase}/timeout/ws-stall`, { handshakeTimeout: 300 })), // @line timeout
});
