/**
 * Evaluates one expression in a Node process through its inspector (the Chrome DevTools protocol
 * over a WebSocket), without VS Code's debugger: once an attach session ended, the debugger is gone
 * but the process's inspector still listens (Node takes several clients at once), and the
 * extension detaches the preload through it (nodeSessions.ts preloadDetachExpression). Pure (no
 * `vscode`): test/integration/attach.test.mjs runs it against real inspectors.
 *
 * A minimal WebSocket client (RFC 6455: masked text frames out, unfragmented frames in, as Node's
 * inspector sends them), since the extension host's Node may have no global WebSocket.
 */

import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';

/** One masked client frame (`opcode` 1: text, 8: close). */
function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (n < 126) head[1] = 0x80 | n;
  else if (n < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.alloc(n);
  for (let i = 0; i < n; i++) body[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, mask, body]);
}

/** The first whole server frame in `buf`: its opcode, payload and size; undefined while incomplete. */
function parseFrame(buf: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const opcode = buf[0]! & 0x0f;
  let len = buf[1]! & 0x7f;
  let at = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    if (buf.length < 10) return undefined;
    len = Number(buf.readBigUInt64BE(2));
    at = 10;
  }
  const masked = (buf[1]! & 0x80) !== 0;
  const start = at + (masked ? 4 : 0);
  if (buf.length < start + len) return undefined;
  let payload = buf.subarray(start, start + len);
  if (masked) {
    const mask = buf.subarray(at, at + 4);
    payload = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!));
  }
  return { opcode, payload, size: start + len };
}

/**
 * Evaluates `expression` in the process whose inspector WebSocket is `wsUrl` (`ws://host:port/id`,
 * as `inspector.url()` gives it); resolves with its value (returned by value), rejects when the
 * inspector cannot be reached, the expression threw, or nothing came back within `timeoutMs`.
 */
export function evaluateOverInspector(wsUrl: string, expression: string, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(wsUrl);
      if (url.protocol !== 'ws:') throw new Error(`not a ws: URL: ${wsUrl}`);
    } catch (err) {
      reject(err as Error);
      return;
    }
    let socket: Duplex | undefined;
    let settled = false;
    const finish = (err: Error | undefined, value?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (socket) {
        try {
          socket.end(frame(8, Buffer.alloc(0)));
        } catch {
          socket.destroy();
        }
      } else req.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(`the inspector at ${wsUrl} did not answer within ${timeoutMs} ms`)), timeoutMs);
    const req = http.request({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port,
      path: url.pathname + url.search,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      },
    });
    req.on('error', (err) => finish(err));
    req.on('response', (res) => {
      res.resume();
      finish(new Error(`the inspector at ${wsUrl} answered HTTP ${res.statusCode}`));
    });
    req.on('upgrade', (_res, s: Duplex, head: Buffer) => {
      socket = s;
      let buf = head;
      s.on('error', (err) => finish(err));
      s.on('close', () => finish(new Error(`the inspector at ${wsUrl} closed the connection`)));
      const onFrames = (): void => {
        for (let f = parseFrame(buf); f; f = parseFrame(buf)) {
          buf = buf.subarray(f.size);
          if (f.opcode === 8) return finish(new Error(`the inspector at ${wsUrl} closed the connection`));
          if (f.opcode !== 1) continue;
          const msg = JSON.parse(f.payload.toString('utf8')) as {
            id?: number;
            error?: { message?: string };
            result?: { result?: { value?: unknown }; exceptionDetails?: { text?: string } };
          };
          if (msg.id !== 1) continue;
          if (msg.error) return finish(new Error(msg.error.message ?? 'inspector error'));
          if (msg.result?.exceptionDetails) return finish(new Error(msg.result.exceptionDetails.text ?? 'the expression threw'));
          return finish(undefined, msg.result?.result?.value);
        }
      };
      s.on('data', (chunk: Buffer) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        try {
          onFrames();
        } catch (err) {
          finish(err as Error);
        }
      });
      const request = { id: 1, method: 'Runtime.evaluate', params: { expression, returnByValue: true } };
      s.write(frame(1, Buffer.from(JSON.stringify(request), 'utf8')));
    });
    req.end();
  });
}
