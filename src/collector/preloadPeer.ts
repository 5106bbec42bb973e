/**
 * The collector's writing side of a preload connection (rule sets, Send Again), made so that a
 * write can never cost the collector what the preload wrote.
 *
 * Workaround for how Node's net.Socket handles a failed write: a write error (EPIPE, ECONNRESET)
 * goes to the Writable's callback, which destroys the whole socket (autoDestroy), closing the fd
 * with the preload's unread bytes still in the kernel's receive queue. A short program does exactly
 * that to a collector that reads late (a busy loop, a loaded machine): it writes its whole stream,
 * exit message included, and exits; the collector reads the first 64 KiB (libuv reads at most that
 * per call), finds the hello, answers with the rule set, the write fails with EPIPE (on Linux a
 * unix socket whose peer closed refuses writes at once, while the bytes the peer sent before
 * closing stay readable, then EOF), and the rest of the stream was lost: "closed its connection
 * without an exit message". So a write error here only ends the writing: it is swallowed, nothing
 * more is written, and the socket reads on to its end, which closes it as usual.
 */

import type { Socket } from 'node:net';
import type { RulesPeer } from './rules';

type WriteCallback = (error?: Error | null) => void;

/**
 * Wraps `socket` (a preload connection the server accepted) as the RulesPeer the rules and Send
 * Again write to: its writes stop, without error and without closing the socket, once one failed
 * or the socket's writing side ended.
 */
export function preloadPeer(socket: Socket): RulesPeer {
  let failed = false;
  /** Calls the write callback with success when the write failed: the Writable then never destroys the socket. */
  const keepReading =
    (callback: WriteCallback): WriteCallback =>
    (error) => {
      if (error) failed = true;
      callback();
    };
  // Node's Writable calls the stream's own _write/_writev (the documented implementer hooks): the
  // socket's are wrapped so that only their callback changes.
  const s = socket as unknown as {
    _write: (chunk: unknown, encoding: BufferEncoding, callback: WriteCallback) => void;
    _writev?: ((chunks: unknown[], callback: WriteCallback) => void) | null;
  };
  const write = s._write;
  s._write = (chunk, encoding, callback) => write.call(socket, chunk, encoding, keepReading(callback));
  const writev = s._writev;
  if (typeof writev === 'function') s._writev = (chunks, callback) => writev.call(socket, chunks, keepReading(callback));
  return {
    write(text: string): boolean {
      if (failed || socket.writableEnded || socket.destroyed) return true;
      return socket.write(text);
    },
    once(event: 'drain', listener: () => void): unknown {
      return socket.once(event, listener);
    },
    get destroyed(): boolean {
      return failed || socket.writableEnded || socket.destroyed;
    },
  };
}
