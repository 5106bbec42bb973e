/**
 * Socket operations JavaScript never sees, recovered from a socket's byte counters. Workaround:
 * two of Node's layers take a socket's native handle over and read and write it in C++, so the
 * socket's JavaScript `push`/`_writeGeneric`, where socketHooks sees operations, never run again:
 * an Http2Session (`handle.consume(socket._handle)` in lib/internal/http2/core.js) and a TLS
 * session over an existing socket (`tls.connect({ socket })` wraps its handle: lib/_tls_wrap.js),
 * as after a proxy's CONNECT. What JavaScript can still read are the socket's byte counters: they
 * are sampled whenever the layer above runs JavaScript and at the socket's close; bytes moved since
 * the previous sample become one op spanning the two moments, and the trace says `coalesced`.
 */

import type { SocketOp } from '../../trace/contract/types';
import type { ConnState, Tracer } from '../tracer';
import { now } from '../clock/epoch';
import { gatedConns } from './opsGate';

/** Samples a socket's byte counters into its connection's op list (see the file's comment). */
export class OpSampler {
  private read: number;
  private written: number;
  private at = now();
  /** Entries of the connection's op list accounted for; later ones were recorded by the socket's own wrappers. */
  private seen: number;

  /**
   * `fromOps`: bytes the socket moved before and not yet in the list count in the first sample
   * (the list's own ops so far are what is accounted for), for a layer that may have moved bytes
   * in C++ before the sampler exists (a TLS session's first handshake record); otherwise the
   * counters as they stand now.
   */
  constructor(
    private readonly t: Tracer,
    private readonly conn: ConnState,
    private readonly socket: { bytesRead: number; bytesWritten: number },
    fromOps = false,
  ) {
    const ops = conn.socketTrace?.socketOps ?? [];
    if (fromOps) {
      this.read = opsBytes(ops, 0, 'read');
      this.written = opsBytes(ops, 0, 'write');
    } else {
      this.read = socket.bytesRead;
      this.written = socket.bytesWritten;
    }
    this.seen = ops.length;
  }

  sample(): void {
    const r = this.socket.bytesRead;
    const w = this.socket.bytesWritten;
    const ops = this.conn.socketTrace?.socketOps;
    if (r === this.read && w === this.written) {
      this.seen = ops?.length ?? 0;
      return;
    }
    // Once the layer lets go of the socket (an HTTP/2 session closing), its last reads run
    // through the socket's JavaScript `push` again, where socketHooks records them as operations
    // of their own: the counters moved by those bytes too, which must not be counted twice. Ops
    // of another layer in the same list (`layer`: a TLS session's plaintext) move no counter here.
    const ownRead = ops ? opsBytes(ops, this.seen, 'read') : 0;
    const ownWritten = ops ? opsBytes(ops, this.seen, 'write') : 0;
    const at = now();
    const wrote = w - this.written - ownWritten;
    const read = r - this.read - ownRead;
    if (wrote > 0) addSocketOp(this.t, this.conn, { type: 'write', callAt: this.at, returnAt: at, dataLen: wrote, returnErr: null });
    if (read > 0) addSocketOp(this.t, this.conn, { type: 'read', callAt: this.at, returnAt: at, dataLen: read, returnErr: null });
    this.read = r;
    this.written = w;
    this.at = at;
    this.seen = ops?.length ?? 0;
  }
}

/** Adds one operation to a connection's socket-op trace within its cap; false when dropped. */
function addSocketOp(t: Tracer, conn: ConnState, op: SocketOp): boolean {
  return conn.socketTrace && !gatedConns.has(conn) ? addOp(t, conn.socketTrace, op) : false;
}

/** Adds one operation to a socket-op list within the cap (`sockTraceMaxOps`); false when dropped (counted). */
export function addOp(t: Tracer, trace: NonNullable<ConnState['socketTrace']>, op: SocketOp): boolean {
  if (trace.socketOps.length < t.config.sockTraceMaxOps) {
    trace.socketOps.push(op);
    return true;
  }
  trace.droppedOps++;
  return false;
}

/** Bytes of the list's own layer (ops without a `layer` of their own) of one type, from index `from`. */
function opsBytes(ops: SocketOp[], from: number, type: SocketOp['type']): number {
  let n = 0;
  for (let i = from; i < ops.length; i++) if (ops[i]!.type === type && ops[i]!.layer === undefined) n += ops[i]!.dataLen;
  return n;
}

/** The sampler of each connection a TLS session took over after a CONNECT, sampled at its close too. */
const tunnels = new WeakMap<ConnState, OpSampler>();

/**
 * Samples the socket a TLS session takes over after a proxy's CONNECT (`raw`, traced as `base`,
 * whose op list is on): the list's own ops keep adding up to the connection's bytes, now
 * `coalesced`. Undefined when there is no such socket.
 */
export function tunnelSampler(t: Tracer, base: ConnState, raw: object | undefined): OpSampler | undefined {
  if (!raw || !base.socketTrace) return undefined;
  const sampler = new OpSampler(t, base, raw as { bytesRead: number; bytesWritten: number }, true);
  base.socketTrace.coalesced = true;
  tunnels.set(base, sampler);
  return sampler;
}

/** At a connection's close: what a TLS session over it moved since the last sample (see tunnelSampler). */
export function sampleTunnel(conn: ConnState): void {
  tunnels.get(conn)?.sample();
}
