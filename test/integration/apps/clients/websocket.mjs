// A WHATWG WebSocket: undici's (`NT_WS=undici`) or Node's global one (`NT_WS=global`, Node 22+),
// both built on undici's fetch machinery. An echo exchange and a refused connection. Each case's
// request is made on the line marked `@line <case>`.
import { WebSocket as UndiciWebSocket } from 'undici';
import { base, refused, runCases } from './_run.mjs';

const WS = process.env.NT_WS === 'global' ? globalThis.WebSocket : UndiciWebSocket;
if (typeof WS !== 'function') throw new Error(`no WebSocket for NT_WS=${process.env.NT_WS}`);
const wsBase = base.replace(/^http/, 'ws');
const wsRefused = refused.replace(/^http/, 'ws');

/** Sends one message, waits for its echo, closes with 1000 and waits for the close. */
function exchange(ws) {
  return new Promise((resolve, reject) => {
    let echoed;
    ws.onopen = () => ws.send('hello');
    ws.onmessage = (e) => {
      echoed = String(e.data);
      ws.close(1000, 'done');
    };
    ws.onclose = (e) =>
      echoed === undefined ? reject(new Error(`closed before the echo (${e.code})`)) : resolve({ echoed, code: e.code });
    ws.onerror = () => reject(new Error('WebSocket error event'));
  });
}

await runCases({
  get: () => exchange(new WS(`${wsBase}/get/ws`)), // @line get
  refused: () => exchange(new WS(`${wsRefused}/refused/ws`)), // @line refused
});
