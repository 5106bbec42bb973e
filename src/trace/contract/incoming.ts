/**
 * The incoming request record (`incomingRequests[]`, docs/trace-format.md): one HTTP exchange a
 * traced program served, and what the preload knows of it, with the two values it shares with
 * the outgoing requests of types.ts (which re-exports them): IncompleteReason and StackFrame. Part
 * of the trace contract: imports only types (WebSocketSession, from webSocket.ts), so the preload and
 * the webview can use it.
 */

import type { WebSocketSession } from './webSocket';

/** One stack frame of an initiator (`initiator.frames[]`), or the position of an incoming request's handler. */
export interface StackFrame {
  function?: string;
  file: string;
  line: number;
  column: number;
  /** Set when the frame is inside node_modules (library code, shown after user frames). */
  library?: boolean;
  /** The generated position when `file/line/column` were mapped through a source map. */
  generated?: { file: string; line: number; column: number };
}

/**
 * Why a request never finished (`incomplete` of an outgoing or an incoming request): its process was killed (ended without its
 * exit message: a signal, a crash), its worker thread was terminated, its process or thread exited (process.exit() with the
 * request open), or the trace stopped first.
 */
export type IncompleteReason = 'process killed' | 'thread terminated' | 'process exited' | 'thread exited' | 'trace stopped';

/** Which server API received an incoming request. */
export type ServerKind = 'http' | 'https' | 'http2';

/** Why an incoming request failed on the server's side (an error on its request or response, its socket). */
export interface IncomingError {
  message: string;
  name?: string;
  code?: string;
}

/**
 * Derived: how long a served request's thread had its event loop blocked while the exchange was
 * open (`reqRecvAt` → its end), and by which stretches (`processes[].loopBlocks`' shape).
 */
export interface IncomingLoopBlocked {
  total: number;
  /** Of `total`, the ms the thread may have waited for a CPU (a busy machine), as LoopBlocked.machine. */
  machine?: number;
  stretches: Array<{ beginAt: number; endAt: number }>;
  moreStretches?: number;
}

/** One HTTP exchange the traced program served (HTTP/1.x request or HTTP/2 stream). */
export interface IncomingRequest {
  /** `in-N`. */
  traceID: string;
  pid: number;
  threadId?: number;
  server: ServerKind;
  reqMethod: string;
  /** The URL as the client asked for it: scheme, the Host (or `:authority`) header, path and query (secrets redacted). */
  reqURL: string;
  /** The route template the framework matched (`/users/:id`), only when the framework exposes one; never guessed. */
  route?: string;
  protoMajor?: number;
  protoMinor?: number;
  /**
   * Where the program defined the function that handled it: the route's handler (Express, Fastify)
   * or the server's request listener; the program's own files only, never guessed.
   */
  handler?: StackFrame;
  /** The W3C `traceparent` header the request carried, when the client sent one (read, never added). */
  traceparent?: string;
  /** The connection from the client's end (`srcIP`/`srcPort`, the client) to the server's (`dstIP`/`dstPort`). */
  addrTuple?: { srcIP: string; srcPort: number; dstIP: string; dstPort: number };
  /** Request body bytes the server read. */
  reqContentLen?: number;
  /** When the request's head (headers) had been received. */
  reqRecvAt?: number;
  /** When the request's body had been read to its end. */
  reqBodyDoneAt?: number;
  /** When the response's head (status and headers) was written. */
  respHeadAt?: number;
  /** When the response's last byte was handed to the connection. */
  respDoneAt?: number;
  respStatusCode?: number;
  /** Response body bytes written (before any transfer encoding). */
  respContentLen?: number;
  /** When the exchange ended: the response finished, or the client went away, or it failed. */
  reqEndAt?: number;
  /** The client closed the connection (or reset the stream) before the response finished. */
  aborted?: boolean;
  /** An upgrade the server answered with 101 to a WebSocket: the session after it, from the server's side (`sent`: what the server sent). */
  webSocket?: WebSocketSession;
  /** An error on the request, the response or the connection while the exchange was open. */
  error?: IncomingError;
  /** It was still open when its process or thread ended, or the trace stopped (IncompleteReason); never set with `reqEndAt`. */
  incomplete?: IncompleteReason;
  /** Derived: how long its thread's event loop was blocked while it was open (loopBlocked.ts incomingLoopBlockedOf). */
  loopBlocked?: IncomingLoopBlocked;
  /** Derived: how long (ms) the program was stopped in the debugger while it was open (not part of `loopBlocked`). */
  debuggerPaused?: number;
}
