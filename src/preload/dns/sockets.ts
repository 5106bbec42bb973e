/**
 * The resolver's sockets: one connected UDP socket per nameserver, shared by concurrent lookups
 * (UdpChannel), and one TCP connection per exchange after a truncated reply or with `use-vc`
 * (TcpExchange). Each reports its `udpConns`/`tcpConns` record through its owner (the resolver)
 * and hands replies to the Exchange waiting for them. See resolver.ts for the whole picture.
 */

import dgram = require('node:dgram');
import net = require('node:net');
import type { AddrTuple, TcpConn, UdpConn } from '../../trace/contract/types';
import type { NameserverAddress } from './resolvConf';
import { now } from '../clock/epoch';
import { decodeReply, randomId, sameName, type DecodedMsg, type QType } from './codec';

/** Fields of a `udpConns` record. */
export type UdpConnFields = Pick<
  UdpConn,
  'fromDial' | 'socketCreateAt' | 'connCloseAt' | 'addrTuple' | 'totalSentBytes' | 'totalRecvBytes' | 'error'
> & { fromResolver: true };

/** Fields of a `tcpConns` record for a connection to a nameserver. */
export type TcpConnFields = Pick<
  TcpConn,
  | 'fromDial'
  | 'handshakeBeginAt'
  | 'handshakeEndAt'
  | 'connected'
  | 'connCloseAt'
  | 'addrTuple'
  | 'totalSentBytes'
  | 'totalRecvBytes'
  | 'error'
> & { fromResolver: true };

/** A nameserver's UDP socket closes after this long without queries. */
export const IDLE_CLOSE_MS = 5000;
/** A UDP socket carries at most this many queries, then a new one (new source port) takes over. */
export const MAX_QUERIES_PER_SOCKET = 256;
/** Queries in flight on one UDP socket at most (of 65536 ids); past it a new socket takes over. */
export const MAX_PENDING_PER_SOCKET = 4096;

/** What the sockets need of the resolver that owns them (ResolverImpl in resolver.ts). */
export interface SocketOwner {
  /** A fresh connection-local id ("u" for udpConns, "c" for tcpConns). */
  newId(prefix: string): string;
  emitUdp(id: string, f: UdpConnFields): void;
  emitTcp(id: string, f: TcpConnFields): void;
  /** A channel takes no more queries (retiring or closed). */
  dropChannel(ch: UdpChannel): void;
  /** Reports a failure inside the resolver (at most a few warnings). */
  internalError(err: unknown): void;
}

/** Sockets this resolver created. The connect hook must not trace these as the program's own. */
const ownSockets = new WeakSet<object>();

/** True for a socket the resolver created (its TCP connections to nameservers, its UDP sockets). */
export function isResolverSocket(socket: object): boolean {
  return ownSockets.has(socket);
}

/** One nameserver. */
export interface Server extends NameserverAddress {
  key: string;
  label: string;
}

/** A nameserver with its key and "ip:port" label. */
export function toServer(ns: NameserverAddress): Server {
  const label = ns.family === 6 ? `[${ns.address}]:${ns.port}` : `${ns.address}:${ns.port}`;
  return { ...ns, key: label, label };
}

/** Something waiting for a reply to one query message. */
export interface Exchange {
  id: number;
  qname: string;
  qtype: QType;
  onReply(msg: DecodedMsg, size: number, at: number): void;
  onMalformed(id: number, size: number, at: number, why: string): void;
  onError(code: string): void;
}

/** One connected UDP socket to one nameserver, shared by the lookups that use that server. */
export class UdpChannel {
  readonly id: string;
  readonly socket: dgram.Socket;
  readonly pending = new Map<number, Exchange>();
  private queue: Buffer[] | undefined = [];
  sent = 0;
  recv = 0;
  queries = 0;
  closed = false;
  /** No new queries: it has carried its share, or failed. Closes when the last reply is in. */
  retiring = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly createdAt = now();
  private tuple: AddrTuple | undefined;

  constructor(
    private readonly resolver: SocketOwner,
    readonly server: Server,
    readonly fromDial: string | undefined,
  ) {
    this.id = resolver.newId('u');
    const socket = dgram.createSocket({ type: server.family === 6 ? 'udp6' : 'udp4', lookup: literalLookup as never });
    this.socket = socket;
    ownSockets.add(socket);
    socket.on('error', (err: NodeJS.ErrnoException) => this.onSocketError(err));
    socket.on('message', (buf: Buffer) => this.onMessage(buf));
    socket.connect(server.port, server.address, () => this.onConnect());
    socket.unref();
  }

  private onConnect(): void {
    try {
      if (this.closed) return;
      const local = this.socket.address();
      this.tuple = { srcIP: local.address, srcPort: local.port, dstIP: this.server.address, dstPort: this.server.port };
      this.resolver.emitUdp(this.id, {
        fromDial: this.fromDial,
        fromResolver: true,
        socketCreateAt: this.createdAt,
        addrTuple: this.tuple,
      });
      const queue = this.queue;
      this.queue = undefined;
      if (queue) for (const buf of queue) this.write(buf);
    } catch (err) {
      this.resolver.internalError(err);
      this.fail('EINTERNAL');
    }
  }

  /** Sends one query; the exchange hears of the reply, a socket error, or nothing (its timer). */
  send(ex: Exchange, buf: Buffer): void {
    this.pending.set(ex.id, ex);
    if (this.pending.size === 1) this.active();
    this.queries++;
    if (this.queries >= MAX_QUERIES_PER_SOCKET || this.pending.size >= MAX_PENDING_PER_SOCKET) this.retire();
    if (this.queue) this.queue.push(buf);
    else this.write(buf);
  }

  private write(buf: Buffer): void {
    this.sent += buf.length;
    try {
      this.socket.send(buf);
    } catch (err) {
      this.sent -= buf.length;
      this.fail((err as NodeJS.ErrnoException)?.code ?? 'EIO');
    }
  }

  /** A query id not pending on this socket. */
  freeId(): number {
    let id = randomId();
    while (this.pending.has(id)) id = randomId();
    return id;
  }

  /** The exchange stopped waiting (answered elsewhere, timed out, cancelled). */
  forget(ex: Exchange): void {
    if (this.pending.get(ex.id) !== ex) return;
    this.pending.delete(ex.id);
    if (this.pending.size === 0) this.idle();
  }

  private active(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    if (!this.closed) this.socket.ref();
  }

  private idle(): void {
    if (this.closed) return;
    this.socket.unref();
    if (this.retiring) {
      this.close();
      return;
    }
    this.idleTimer = setTimeout(() => this.close(), IDLE_CLOSE_MS);
    this.idleTimer.unref();
  }

  private retire(): void {
    this.retiring = true;
    this.resolver.dropChannel(this);
  }

  private onMessage(buf: Buffer): void {
    const at = now();
    this.recv += buf.length;
    try {
      if (buf.length < 2) return;
      const id = buf.readUInt16BE(0);
      const ex = this.pending.get(id);
      if (!ex) return; // late, or not ours
      let msg: DecodedMsg;
      try {
        msg = decodeReply(buf);
      } catch (err) {
        this.forget(ex);
        ex.onMalformed(id, buf.length, at, (err as Error)?.message ?? String(err));
        return;
      }
      // A reply must echo the question (RFC 5452); a mismatch is ignored as a stray/spoof.
      const q = msg.questions?.[0];
      if (q && (!sameName(q.name, ex.qname) || q.type !== ex.qtype)) return;
      this.forget(ex);
      ex.onReply(msg, buf.length, at);
    } catch (err) {
      this.resolver.internalError(err);
    }
  }

  private onSocketError(err: NodeJS.ErrnoException): void {
    // A connected UDP socket hears ICMP port/host unreachable as ECONNREFUSED/EHOSTUNREACH on
    // recvmsg; it cannot tell which query caused it, so every query on it fails over.
    this.fail(err?.code ?? 'EIO');
  }

  private fail(code: string): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.close(code);
    for (const ex of waiting) {
      try {
        ex.onError(code);
      } catch (e) {
        this.resolver.internalError(e);
      }
    }
  }

  /** Closes the socket and sends the final udpConns record. */
  close(error?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.retiring = true;
    this.resolver.dropChannel(this);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
    this.emitTotals(now(), error);
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const ex of waiting) ex.onError('ECANCELLED');
  }

  emitTotals(closeAt?: number, error?: string): void {
    const f: UdpConnFields = {
      fromDial: this.fromDial,
      fromResolver: true,
      socketCreateAt: this.createdAt,
      totalSentBytes: this.sent,
      totalRecvBytes: this.recv,
    };
    if (this.tuple) f.addrTuple = this.tuple;
    if (closeAt !== undefined) f.connCloseAt = closeAt;
    if (error) f.error = error;
    this.resolver.emitUdp(this.id, f);
  }
}

/** dgram's `lookup` option: the nameserver is always an IP literal, so no resolver is involved. */
function literalLookup(address: string, _family: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  process.nextTick(cb, null, address, net.isIP(address) || 4);
}

/** One query over its own TCP connection (after a truncated UDP reply, or with use-vc). */
export class TcpExchange {
  readonly connId: string;
  private readonly socket: net.Socket;
  private chunks: Buffer[] = [];
  private have = 0;
  private sent = 0;
  private recv = 0;
  private done = false;
  private connected = false;
  private readonly beginAt = now();
  private connectedAt: number | undefined;
  private tuple: AddrTuple | undefined;
  private error: string | undefined;

  constructor(
    private readonly resolver: SocketOwner,
    server: Server,
    fromDial: string | undefined,
    private readonly query: Buffer,
    private readonly ex: Exchange,
  ) {
    this.connId = resolver.newId('c');
    const socket = new net.Socket();
    this.socket = socket;
    ownSockets.add(socket);
    socket.on('error', (err: NodeJS.ErrnoException) => this.finishWithError(err?.code ?? 'EIO'));
    socket.on('close', () => this.onClose(fromDial));
    socket.on('data', (buf: Buffer) => this.onData(buf));
    socket.once('connect', () => this.onConnect());
    socket.setNoDelay(true);
    socket.connect({ port: server.port, host: server.address });
  }

  private onConnect(): void {
    this.connected = true;
    this.connectedAt = now();
    this.tuple = {
      srcIP: this.socket.localAddress ?? '',
      srcPort: this.socket.localPort ?? 0,
      dstIP: this.socket.remoteAddress ?? '',
      dstPort: this.socket.remotePort ?? 0,
    };
    const frame = Buffer.allocUnsafe(2 + this.query.length);
    frame.writeUInt16BE(this.query.length, 0);
    this.query.copy(frame, 2);
    this.sent += frame.length;
    this.socket.write(frame);
  }

  private onData(buf: Buffer): void {
    this.recv += buf.length;
    if (this.done) return;
    this.chunks.push(buf);
    this.have += buf.length;
    if (this.have < 2) return;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.have);
    this.chunks = [all];
    const len = all.readUInt16BE(0);
    if (this.have < 2 + len) return;
    const msgBuf = all.subarray(2, 2 + len);
    const at = now();
    this.done = true;
    this.chunks = [];
    this.socket.end();
    let msg: DecodedMsg;
    try {
      msg = decodeReply(msgBuf);
      if (msg.id !== this.ex.id) throw new Error(`reply id ${msg.id} does not match query id ${this.ex.id}`);
    } catch (err) {
      this.ex.onMalformed(msgBuf.length >= 2 ? msgBuf.readUInt16BE(0) : 0, msgBuf.length, at, (err as Error)?.message ?? String(err));
      return;
    }
    this.ex.onReply(msg, msgBuf.length, at);
  }

  private finishWithError(code: string): void {
    if (this.done) return;
    this.done = true;
    this.error = code;
    this.socket.destroy();
    this.ex.onError(code);
  }

  /** The exchange's timer fired or it was cancelled: drop the connection. */
  abort(code: string): void {
    if (this.done) return;
    this.done = true;
    this.error = code;
    this.socket.destroy();
  }

  private onClose(fromDial: string | undefined): void {
    try {
      if (!this.done) this.finishWithError(this.connected ? 'ECONNRESET' : 'ECONNREFUSED');
      const f: TcpConnFields = {
        fromDial,
        fromResolver: true,
        handshakeBeginAt: this.beginAt,
        connected: this.connected,
        connCloseAt: now(),
        totalSentBytes: this.sent,
        totalRecvBytes: this.recv,
      };
      if (this.connectedAt !== undefined) f.handshakeEndAt = this.connectedAt;
      if (this.tuple) f.addrTuple = this.tuple;
      if (this.error) f.error = this.error;
      this.resolver.emitTcp(this.connId, f);
    } catch (err) {
      this.resolver.internalError(err);
    }
  }
}
