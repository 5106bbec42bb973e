/**
 * A replayed WebSocket (docs/replay.md): an http/https upgrade request (`ws`, and any client over
 * node:http) the recording answered with a `101`. On the held socket (replaySocket.ts) the
 * recorded head is given, its `Sec-WebSocket-Accept` made from the program's own
 * `Sec-WebSocket-Key` (as the server computed it: RFC 6455 §4.2.2), then the server's recorded
 * messages as frames (unmasked, each message whole), in the recorded order with the program's:
 * each server message waits until the program sent the messages it sent before that one in the
 * recording (its frames are read off what it writes), so an answer never comes before its question;
 * with `--replay-timing recorded` also no earlier than its recorded time after the `101`. Once the
 * program sent every message it sent in the recording, the server's side ends as it did (the
 * connection closed, or reset). Never throws into the program.
 */

import type { RecordedMessage } from '../../trace/contract/recording';
import type { ReplayAnswer } from './replayLink';
import type { Hold, Sock } from './replaySocket';
import { headBytes } from './replayBytes';
import { resetError } from '../rules/whatIfSocket';
import { orig } from '../transport/collectorNet';

/** RFC 6455's GUID, appended to the key to make the accept value. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The `Sec-WebSocket-Accept` a server answers `key` with. */
export function acceptOf(key: string): string {
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
}

/** A server's frame of one whole message: FIN, the opcode, the length, the payload (unmasked). */
export function frameOf(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | (opcode & 0x0f);
  if (n < 126) head[1] = n;
  else if (n < 65536) {
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

/**
 * Counts the messages a client writes (its frames, masked: RFC 6455 §5.2): a control frame is one,
 * a data message one at its final frame. `onMessage` after each.
 */
export class ClientFrameCounter {
  private buf = Buffer.alloc(0);
  constructor(private readonly onMessage: () => void) {}

  write(chunk: unknown): void {
    if (!(chunk instanceof Uint8Array) && typeof chunk !== 'string') return;
    this.buf = Buffer.concat([this.buf, typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk)]);
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (masked) at += 4;
      if (b.length < at + len) return;
      this.buf = b.subarray(at + len);
      if (opcode >= 8 || fin) this.onMessage();
    }
  }
}

/** The recorded head with the accept value made from the program's key (kept as recorded without one). */
function headWithAccept(a: ReplayAnswer, key: string | undefined): Buffer {
  const head = a.response!;
  const headers = head.headers.map(([n, v]): [string, string] =>
    key !== undefined && n.toLowerCase() === 'sec-websocket-accept' ? [n, acceptOf(key)] : [n, v],
  );
  return headBytes({ ...head, headers }, a.httpVersion);
}

/**
 * Gives a recorded `101` and its messages on the held socket (`push`: into its readable side),
 * reading the program's messages off its writes. `key`: the program's `Sec-WebSocket-Key`;
 * `startedAt`: when the request started (perfNow), from which the recorded first byte is timed.
 */
export function deliverUpgrade(
  push: (c: Buffer | null) => void,
  a: ReplayAnswer,
  key: string | undefined,
  hold: Hold,
  startedAt: number,
): void {
  const s = hold.socket as Sock & { _writeGeneric?: (w: boolean, d: unknown, e: string, cb: (err?: Error | null) => void) => void };
  const messages: RecordedMessage[] = a.messages ?? [];
  const paced = a.timing !== undefined;
  // How many messages the program had sent before each recorded one, and in all.
  const before: number[] = [];
  let outs = 0;
  for (const m of messages) {
    before.push(outs);
    if (m.dir === 'out') outs++;
  }
  let sent = 0;
  let next = 0;
  let openedAt = 0;
  let pumping = false;
  let again = false;
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  const pump = (): void => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        step();
      } while (again);
    } finally {
      pumping = false;
    }
  };
  const step = (): void => {
    while (next < messages.length && !s.destroyed) {
      const m = messages[next];
      if (m.dir === 'out') {
        next++;
        continue;
      }
      if (sent < before[next]) return;
      if (paced) {
        const due = openedAt + m.atMs - orig.perfNow();
        if (due > 1) {
          if (timer === undefined)
            timer = orig.setTimeout(() => {
              timer = undefined;
              pump();
            }, due);
          return;
        }
      }
      next++;
      push(frameOf(m.opcode, Buffer.from(m.data.base64, 'base64')));
    }
    if (next < messages.length || sent < outs || ended || s.destroyed) return;
    ended = true;
    if (a.end?.kind === 'reset') {
      orig.setImmediate(() => {
        if (!s.destroyed) s.destroy(resetError());
      });
    } else push(null);
  };
  const counter = new ClientFrameCounter(() => {
    sent++;
    pump();
  });
  // What the program writes once upgraded: read for its messages, then dropped as before (through
  // the socket's `_writeGeneric`, where the trace's WebSocket observer reads it too).
  const drop = (cb: (err?: Error | null) => void): void => void process.nextTick(cb);
  s._write = function (this: typeof s, data, enc, cb) {
    counter.write(data);
    if (typeof this._writeGeneric === 'function') this._writeGeneric(false, data, enc, cb);
    else drop(cb);
  };
  s._writev = function (this: typeof s, chunks, cb) {
    for (const c of chunks) counter.write(c.chunk);
    if (typeof this._writeGeneric === 'function') this._writeGeneric(true, chunks, '', cb);
    else drop(cb);
  };
  const deliver = (): void => {
    if (s.destroyed) return;
    openedAt = orig.perfNow();
    push(headWithAccept(a, key));
    pump();
  };
  const wait = a.timing !== undefined ? startedAt + a.timing.firstByteMs - orig.perfNow() : 0;
  if (wait > 1) orig.setTimeout(deliver, wait);
  else deliver();
}
