/**
 * An in-process stub resolver, used for traced connections when the DNS message trace
 * (`dnsTrace`) is on. Node's `dns.lookup` calls getaddrinfo in libuv's thread pool, which hides the
 * DNS messages (docs/platform.md), so this resolver speaks DNS itself (dns-packet over UDP and TCP) and
 * reports every socket and message it uses through `ResolverEvents`.
 *
 * What it does, and how that differs from `dns.lookup` (glibc getaddrinfo):
 * - `/etc/hosts` first, then DNS: a fixed "files dns" order. **No nsswitch.conf** (no `myhostname`,
 *   `resolve`/systemd-resolved, LDAP, `mdns4_minimal`, ...), **no mDNS** (`.local` names go to the
 *   unicast nameservers like any other) and no nscd cache. A name in /etc/hosts with no address of
 *   the asked family falls through to DNS, as with "files dns".
 * - resolv.conf semantics (see resolvConf.ts): up to 3 nameservers, search list and ndots,
 *   `timeout`, `attempts`, `rotate`, `edns0`, `use-vc`; LOCALDOMAIN / RES_OPTIONS honoured. The
 *   files are read lazily on the first lookup, asynchronously, and re-read when their mtime/size
 *   changes — checked (with an async stat) at most every FILE_CHECK_MS; a lookup never waits for a
 *   re-check, only the very first lookup waits for the first read.
 * - For family 0 the A and AAAA queries go out in parallel (one of them for family 4 or 6). Each
 *   question is tried on each nameserver in turn, `attempts` rounds, every try waiting `timeout`
 *   (glibc shortens later rounds; this resolver does not). A nameserver that answers SERVFAIL,
 *   REFUSED, NOTIMP, FORMERR, a malformed reply, or refuses the port (ICMP) is not asked again for
 *   that question; the next one is. A truncated (TC) UDP reply is retried over TCP with the same
 *   server. NXDOMAIN and NODATA are final for that name; the search list then moves on (as
 *   `res_nsearch`: also past SERVFAIL, but not past "no nameserver answered").
 * - CNAME chains inside a reply are followed (up to 16 links); no separate queries for the target.
 * - Results: for family 0, the A addresses then the AAAA addresses, each in the order received,
 *   duplicates dropped (`ipv6first` puts AAAA first). There is no RFC 6724 sorting, which glibc
 *   applies: on a host with global IPv6 getaddrinfo usually lists IPv6 first.
 * - No answer cache (getaddrinfo has none either, nscd aside).
 * - Errors look like `dns.lookup`'s: `code` ENOTFOUND (errno -3008) for NXDOMAIN and NODATA,
 *   EAI_AGAIN (errno -3001) when no nameserver gave a usable answer (timeout, SERVFAIL, REFUSED,
 *   malformed reply, port unreachable — glibc reports all of these as EAI_AGAIN), with
 *   `syscall: 'getaddrinfo'` and `hostname`. A non-enumerable `dnsCode` says which, with c-ares'
 *   names: ENOTFOUND, ENODATA, ETIMEOUT, ESERVFAIL, EREFUSED, ENOTIMP, EFORMERR, EBADRESP, ECONNREFUSED
 *   (or another socket error code).
 * - Input this resolver does not handle (an IP literal, an empty or non-ASCII or over-long name,
 *   options it does not recognise) is passed to the original `dns.lookup`, untraced, so behaviour
 *   (including its validation errors) stays Node's. So is a lookup hit by an internal failure.
 *
 * Sockets: one connected UDP socket per nameserver, shared by concurrent lookups (replies matched
 * by random 16-bit id and question), replaced after MAX_QUERIES_PER_SOCKET queries so the source
 * port keeps changing, and closed after IDLE_CLOSE_MS without queries. Each such socket is one
 * `udpConns` record (fromDial = the dial whose lookup opened it); every lookup's messages on it are
 * one `dnsQueries` record pointing at it. A TCP retry opens one connection per exchange (one
 * `tcpConns` record, fromResolver) and closes it after the reply. Sockets are referenced (keep the
 * process alive) only while a query is pending on them, like a pending `dns.lookup`; idle ones are
 * unreferenced. Every socket has its own 'error' listener. A reply that arrives after its query
 * timed out (the lookup has moved on) counts in the socket's bytes but is not recorded as a message.
 * The connect hook must skip the resolver's own sockets: see `isResolverSocket`.
 */

import dgram = require('node:dgram');
import dns = require('node:dns');
import fs = require('node:fs');
import net = require('node:net');
import crypto = require('node:crypto');
import packet = require('dns-packet');
import type {
  AddrTuple,
  DnsAnswer as DnsAnswerRecord,
  DnsQuery,
  DnsQueryMsg,
  DnsQuestion as DnsQuestionRecord,
  DnsReplyMsg,
  TcpConn,
  UdpConn,
} from '../trace/types';
import {
  defaultResolvConf,
  hostsKey,
  parseHosts,
  parseNameserver,
  parseResolvConf,
  searchCandidates,
  type HostsEntry,
  type HostsTable,
  type NameserverAddress,
  type ResolvConf,
} from './resolvConf';

/** Resolver configuration (all optional; resolv.conf and /etc/hosts supply the rest). */
export interface ResolverConfig {
  /** Nameservers ("ip", "ip:port", "[ipv6]:port"), replacing resolv.conf's; at most 3 are used. */
  nameservers?: string[];
  /** Default /etc/resolv.conf. */
  resolvConfPath?: string;
  /** Default /etc/hosts. */
  hostsPath?: string;
  /** Per-try timeout in ms, replacing resolv.conf's `options timeout:N`. */
  timeoutMs?: number;
  /** Rounds over the nameservers, replacing resolv.conf's `options attempts:N`. */
  attempts?: number;
  /** Search domains, replacing resolv.conf's. */
  search?: string[];
  /** Replaces resolv.conf's `options ndots:N`. */
  ndots?: number;
  /** Replaces resolv.conf's `options rotate`. */
  rotate?: boolean;
}

/** Source and destination of a socket (the trace model's type). */
export type { AddrTuple };

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

/**
 * Fields of a `dnsQueries` record: the messages of one lookup over one connection (`connection`
 * for UDP, `tcpConn` for a TCP retry after truncation, or use-vc); the resolver always knows the
 * nameserver, the protocol, the name asked for and the per-try timeout.
 */
export type DnsQueryFields = Pick<DnsQuery, 'fromDial' | 'connection' | 'tcpConn' | 'dnsQueryMsgs' | 'dnsReplyMsgs'> &
  Required<Pick<DnsQuery, 'server' | 'proto' | 'host' | 'timeoutMs'>>;

/**
 * Callbacks the preload turns into trace records (upserts: a later call for the same id carries
 * fields to merge). Times are epoch ms (`performance.timeOrigin + performance.now()`). A callback
 * that throws is ignored.
 */
export interface ResolverEvents {
  udpConn(id: string, fields: UdpConnFields): void;
  tcpConn(id: string, fields: TcpConnFields): void;
  dnsQuery(id: string, fields: DnsQueryFields): void;
  /** Something went wrong inside the resolver (the lookup was handed to dns.lookup). */
  warning?(message: string): void;
}

/** `dns.lookup`-compatible function (the `lookup` option of net.connect and friends). */
export type LookupFunction = (hostname: string, options: dns.LookupOptions | number | LookupCallback, callback?: LookupCallback) => void;

type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | dns.LookupAddress[], family?: number) => void;

/** The resolver: a lookup function per dial, plus shutdown. */
export interface Resolver {
  /** A `dns.lookup`-compatible function whose queries are linked to `dialId`. */
  lookup(dialId: string | undefined): LookupFunction;
  /** Re-sends the records of open sockets and in-flight lookups as they stand (e.g. at exit). */
  flush(): void;
  /** Closes every socket; pending lookups are handed to the original dns.lookup. */
  close(): void;
}

/** How often, at most, resolv.conf and /etc/hosts are stat'ed for changes. */
export const FILE_CHECK_MS = 2000;
/** A nameserver's UDP socket closes after this long without queries. */
export const IDLE_CLOSE_MS = 5000;
/** A UDP socket carries at most this many queries, then a new one (new source port) takes over. */
export const MAX_QUERIES_PER_SOCKET = 256;
/** Queries in flight on one UDP socket at most (of 65536 ids); past it a new socket takes over. */
export const MAX_PENDING_PER_SOCKET = 4096;
/** Files larger than this are read only up to it (a huge hosts block list must not eat memory). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** CNAME links followed inside one reply. */
const MAX_CNAME_CHAIN = 16;
/** Answers kept per recorded reply. */
const MAX_RECORDED_ANSWERS = 64;
/** UDP payload size advertised with `options edns0`. */
const EDNS_UDP_SIZE = 1232;

const ERRNO = { ENOTFOUND: -3008, EAI_AGAIN: -3001 } as const;

const QTYPE_CODE = { A: 1, AAAA: 28 } as const;
type QType = keyof typeof QTYPE_CODE;

/** Epoch milliseconds with sub-millisecond resolution. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Sockets this resolver created. The connect hook must not trace these as the program's own. */
const ownSockets = new WeakSet<object>();

/** True for a socket the resolver created (its TCP connections to nameservers, its UDP sockets). */
export function isResolverSocket(socket: object): boolean {
  return ownSockets.has(socket);
}

const originalLookup = dns.lookup;

/** Outcome kinds of one question after trying the nameservers. */
const ANSWER = 0;
const NXDOMAIN = 1;
const NODATA = 2;
/** A nameserver answered, but uselessly (SERVFAIL, REFUSED, malformed, ...): search goes on. */
const SERVER_FAIL = 3;
/** No nameserver answered at all (timeouts, port unreachable): search stops. */
const NO_ANSWER = 4;

/** One nameserver. */
interface Server extends NameserverAddress {
  key: string;
  label: string;
}

function toServer(ns: NameserverAddress): Server {
  const label = ns.family === 6 ? `[${ns.address}]:${ns.port}` : `${ns.address}:${ns.port}`;
  return { ...ns, key: label, label };
}

// ---------------------------------------------------------------------------------------------
// Message encoding and decoding

/** Random query ids, drawn from a pooled buffer (crypto-quality, cheap per query). */
const idPool = Buffer.alloc(512);
let idPos = idPool.length;
function randomId(): number {
  if (idPos >= idPool.length) {
    crypto.randomFillSync(idPool);
    idPos = 0;
  }
  const id = idPool.readUInt16BE(idPos);
  idPos += 2;
  return id;
}

/** Encodes a standard recursive query for one question (name without trailing dot, ASCII). */
function encodeQuery(id: number, name: string, qtype: number, edns: boolean): Buffer {
  const nameLen = name.length === 0 ? 1 : name.length + 2;
  const size = 12 + nameLen + 4 + (edns ? 11 : 0);
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(0x0100, 2); // RD
  buf.writeUInt16BE(1, 4);
  buf.writeUInt32BE(0, 6);
  buf.writeUInt16BE(edns ? 1 : 0, 10);
  let o = 12;
  if (name.length > 0) {
    let start = 0;
    for (;;) {
      let end = name.indexOf('.', start);
      if (end < 0) end = name.length;
      buf[o++] = end - start;
      for (let i = start; i < end; i++) buf[o++] = name.charCodeAt(i);
      if (end >= name.length) break;
      start = end + 1;
    }
  }
  buf[o++] = 0;
  buf.writeUInt16BE(qtype, o);
  buf.writeUInt16BE(1, o + 2);
  o += 4;
  if (edns) {
    buf[o++] = 0; // root
    buf.writeUInt16BE(41, o); // OPT
    buf.writeUInt16BE(EDNS_UDP_SIZE, o + 2);
    buf.writeUInt32BE(0, o + 4); // extended rcode, version, flags
    buf.writeUInt16BE(0, o + 8); // rdlen
  }
  return buf;
}

/** True for a name this resolver sends as-is: ASCII, labels 1..63 bytes, at most 253 in all. */
function isQueryableName(name: string): boolean {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n.length === 0 || n.length > 253) return false;
  let label = 0;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c === 46) {
      if (label === 0) return false;
      label = 0;
    } else if (c <= 32 || c >= 127) {
      return false;
    } else if (++label > 63) {
      return false;
    }
  }
  return label > 0;
}

const RCODE_NAMES = [
  'no-error',
  'form-err',
  'serv-fail',
  'nx-domain',
  'not-imp',
  'refused',
  'yx-domain',
  'yx-rrset',
  'nx-rrset',
  'not-auth',
  'not-zone',
];

function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `rcode-${rcode}`;
}

const CLASS_CODES: Record<string, number> = { IN: 1, CS: 2, CH: 3, HS: 4, ANY: 255 };

function classCode(klass: unknown): number {
  if (typeof klass === 'number') return klass;
  if (typeof klass !== 'string') return 1;
  const known = CLASS_CODES[klass];
  if (known !== undefined) return known;
  const m = /^UNKNOWN_(\d+)$/.exec(klass);
  return m ? Number(m[1]) : 0;
}

function fqdn(name: string): string {
  return name === '' || name === '.' ? '.' : name.endsWith('.') ? name : `${name}.`;
}

/** The shape of what dns-packet decodes (only the parts used here). */
interface DecodedRR {
  name: string;
  type: string;
  class?: string;
  ttl?: number;
  data?: unknown;
}
interface DecodedMsg {
  id: number;
  flags: number;
  flag_qr: boolean;
  flag_aa: boolean;
  flag_tc: boolean;
  flag_rd: boolean;
  flag_ra: boolean;
  questions: { name: string; type: string; class?: string }[];
  answers: DecodedRR[];
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

/** An RR's data as text. */
function resolvedVal(rr: DecodedRR): string {
  const d = rr.data as Record<string, unknown> | string | Buffer | unknown[] | undefined;
  try {
    switch (rr.type) {
      case 'A':
      case 'AAAA':
        return String(d);
      case 'CNAME':
      case 'DNAME':
      case 'NS':
      case 'PTR':
        return fqdn(String(d));
      case 'MX': {
        const mx = d as { preference?: number; exchange: string };
        return `${mx.preference ?? 0} ${fqdn(mx.exchange)}`;
      }
      case 'SRV': {
        const srv = d as { priority?: number; weight?: number; port: number; target: string };
        return `${srv.priority ?? 0} ${srv.weight ?? 0} ${srv.port} ${fqdn(srv.target)}`;
      }
      case 'SOA': {
        const s = d as {
          mname: string;
          rname: string;
          serial?: number;
          refresh?: number;
          retry?: number;
          expire?: number;
          minimum?: number;
        };
        return `${fqdn(s.mname)} ${fqdn(s.rname)} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
      }
      case 'TXT':
        return (Array.isArray(d) ? d : [d]).map(textOf).join('');
      default:
        if (Buffer.isBuffer(d)) return d.subarray(0, 128).toString('hex');
        if (typeof d === 'string') return d.slice(0, 256);
        return (
          JSON.stringify(d, (_k, v: unknown) =>
            v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? undefined : v,
          )?.slice(0, 256) ?? ''
        );
    }
  } catch {
    return '';
  }
}

function recordQuestions(qs: DecodedMsg['questions'] | undefined): DnsQuestionRecord[] {
  const out: DnsQuestionRecord[] = [];
  if (!qs) return out;
  for (const q of qs) out.push({ name: fqdn(q.name), type: q.type, class: classCode(q.class) });
  return out;
}

function recordAnswers(rrs: DecodedRR[] | undefined): DnsAnswerRecord[] {
  const out: DnsAnswerRecord[] = [];
  if (!rrs) return out;
  for (const rr of rrs) {
    if (out.length >= MAX_RECORDED_ANSWERS) break;
    out.push({ name: fqdn(rr.name), type: rr.type, class: classCode(rr.class), ttl: rr.ttl ?? 0, resolvedVal: resolvedVal(rr) });
  }
  return out;
}

function sameName(a: string, b: string): boolean {
  const x = a.endsWith('.') ? a.slice(0, -1) : a;
  const y = b.endsWith('.') ? b.slice(0, -1) : b;
  return x.length === y.length && x.toLowerCase() === y.toLowerCase();
}

/** Addresses of type `qtype` for `qname`, following CNAMEs inside the answer section. */
function addressesOf(msg: DecodedMsg, qname: string, qtype: QType): string[] {
  const out: string[] = [];
  const answers = msg.answers ?? [];
  let name = qname;
  const chain = [qname];
  for (let hops = 0; hops < MAX_CNAME_CHAIN; hops++) {
    let next: string | undefined;
    for (const rr of answers) {
      if (rr.type === 'CNAME' && sameName(rr.name, name) && typeof rr.data === 'string') {
        next = rr.data;
        break;
      }
    }
    if (next === undefined || chain.some((n) => sameName(n, next!))) break;
    chain.push(next);
    name = next;
  }
  for (const rr of answers) {
    if (rr.type !== qtype || typeof rr.data !== 'string') continue;
    if (!chain.some((n) => sameName(n, rr.name))) continue;
    if (!out.includes(rr.data)) out.push(rr.data);
  }
  return out;
}

function errnoException(code: 'ENOTFOUND' | 'EAI_AGAIN', hostname: string, dnsCode: string): NodeJS.ErrnoException {
  const err = new Error(`getaddrinfo ${code} ${hostname}`) as NodeJS.ErrnoException & { hostname?: string };
  err.errno = ERRNO[code];
  err.code = code;
  err.syscall = 'getaddrinfo';
  err.hostname = hostname;
  Object.defineProperty(err, 'dnsCode', { value: dnsCode, enumerable: false, configurable: true, writable: true });
  return err;
}

// ---------------------------------------------------------------------------------------------
// Records

/** The `dnsQueries` record of one lookup over one connection. */
class QueryGroup {
  readonly queryMsgs: DnsQueryMsg[] = [];
  readonly replyMsgs: DnsReplyMsg[] = [];
  constructor(
    readonly id: string,
    readonly connId: string,
    readonly proto: 'udp' | 'tcp',
    readonly server: Server,
  ) {}

  fields(lookup: Lookup): DnsQueryFields {
    const f: DnsQueryFields = {
      fromDial: lookup.dialId,
      server: this.server.label,
      proto: this.proto,
      host: lookup.hostname,
      timeoutMs: lookup.timeoutMs,
      dnsQueryMsgs: this.queryMsgs,
      dnsReplyMsgs: this.replyMsgs,
    };
    if (this.proto === 'udp') f.connection = this.connId;
    else f.tcpConn = this.connId;
    return f;
  }
}

// ---------------------------------------------------------------------------------------------
// Transports

/** Something waiting for a reply to one query message. */
interface Exchange {
  id: number;
  qname: string;
  qtype: QType;
  onReply(msg: DecodedMsg, size: number, at: number): void;
  onMalformed(id: number, size: number, at: number, why: string): void;
  onError(code: string): void;
}

/** One connected UDP socket to one nameserver, shared by the lookups that use that server. */
class UdpChannel {
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
    private readonly resolver: ResolverImpl,
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
        msg = packet.decode(buf) as unknown as DecodedMsg;
        if (!msg.flag_qr) throw new Error('not a response (QR bit clear)');
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
class TcpExchange {
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
    private readonly resolver: ResolverImpl,
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
      msg = packet.decode(msgBuf) as unknown as DecodedMsg;
      if (!msg.flag_qr) throw new Error('not a response (QR bit clear)');
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

// ---------------------------------------------------------------------------------------------
// Lookups

/** One question (name + type) asked of the nameservers in turn. */
class QuestionRun implements Exchange {
  id = 0;
  private attempt = 0;
  private next = 0;
  /** Servers (by index) that gave a definitive useless answer; not asked again. */
  private readonly bad: boolean[] = [];
  private failCode: string | undefined;
  private noAnswerCode: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private channel: UdpChannel | undefined;
  private tcp: TcpExchange | undefined;
  private msg: DnsQueryMsg | undefined;
  private group: QueryGroup | undefined;
  private server: Server | undefined;
  private serverIndex = 0;
  private query: Buffer | undefined;
  done = false;
  outcome = NO_ANSWER;
  addresses: string[] = [];
  code = 'ETIMEOUT';

  constructor(
    private readonly lookup: Lookup,
    readonly qname: string,
    readonly qtype: QType,
  ) {}

  /** Tries the next nameserver, or finishes when every round is spent. */
  advance(): void {
    const servers = this.lookup.servers;
    const n = servers.length;
    while (this.attempt < this.lookup.attempts) {
      if (this.next >= n) {
        this.next = 0;
        this.attempt++;
        continue;
      }
      const i = this.next++;
      if (this.bad[i]) continue;
      this.serverIndex = i;
      this.server = servers[i];
      if (this.lookup.resolver.useVc) this.sendTcp();
      else this.sendUdp();
      return;
    }
    if (this.failCode !== undefined) this.finish(SERVER_FAIL, this.failCode);
    else this.finish(NO_ANSWER, this.noAnswerCode ?? 'ETIMEOUT');
  }

  private sendUdp(): void {
    const server = this.server!;
    const channel = this.lookup.resolver.channelFor(server, this.lookup.dialId);
    this.channel = channel;
    this.id = channel.freeId();
    const buf = encodeQuery(this.id, this.qname, QTYPE_CODE[this.qtype], this.lookup.resolver.edns0);
    this.group = this.lookup.groupFor(channel.id, 'udp', server);
    this.msg = this.queryMsg(buf.length);
    this.group.queryMsgs.push(this.msg);
    this.startTimer();
    channel.send(this, buf);
  }

  private sendTcp(): void {
    const server = this.server!;
    this.id = randomId();
    const buf = encodeQuery(this.id, this.qname, QTYPE_CODE[this.qtype], false);
    this.query = buf;
    this.startTimer();
    this.channel = undefined;
    this.tcp = new TcpExchange(this.lookup.resolver, server, this.lookup.dialId, buf, this);
    this.group = this.lookup.groupFor(this.tcp.connId, 'tcp', server);
    this.msg = this.queryMsg(buf.length);
    this.group.queryMsgs.push(this.msg);
  }

  private queryMsg(size: number): DnsQueryMsg {
    return {
      sentAt: now(),
      id: this.id,
      recursionDesired: true,
      truncated: false,
      size,
      questions: [{ name: fqdn(this.qname), type: this.qtype, class: 1 }],
    };
  }

  private startTimer(): void {
    this.timer = setTimeout(() => this.onTimeout(), this.lookup.timeoutMs);
  }

  private stop(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.channel) {
      this.channel.forget(this);
      this.channel = undefined;
    }
    if (this.tcp) {
      this.tcp.abort('ECANCELLED');
      this.tcp = undefined;
    }
  }

  private onTimeout(): void {
    this.timer = undefined;
    this.guarded(() => {
      if (this.done) return;
      if (this.msg) this.msg.error = 'ETIMEOUT';
      this.tcp?.abort('ETIMEOUT');
      this.stop();
      this.noAnswerCode ??= 'ETIMEOUT';
      this.advance();
    });
  }

  onError(code: string): void {
    this.guarded(() => {
      if (this.done) return;
      this.stop();
      if (this.msg) this.msg.error = code;
      if (code === 'ECANCELLED') {
        // Our socket went away under us (resolver closing): nothing more to try.
        this.finish(NO_ANSWER, code);
        return;
      }
      // Port unreachable and the like: this server is out for this question.
      this.bad[this.serverIndex] = true;
      if (this.noAnswerCode === undefined || this.noAnswerCode === 'ETIMEOUT') this.noAnswerCode = code;
      this.advance();
    });
  }

  onMalformed(id: number, size: number, at: number, why: string): void {
    this.guarded(() => {
      if (this.done) return;
      this.stop();
      this.group?.replyMsgs.push({
        recvAt: at,
        id,
        authoritative: false,
        recursionAvailable: false,
        truncated: false,
        size,
        rCode: 'malformed',
        questions: [],
        answers: [],
        malformed: why,
      });
      this.bad[this.serverIndex] = true;
      this.failCode = 'EBADRESP';
      this.advance();
    });
  }

  onReply(msg: DecodedMsg, size: number, at: number): void {
    this.guarded(() => {
      if (this.done) return;
      const rcode = msg.flags & 0xf;
      this.group?.replyMsgs.push({
        recvAt: at,
        id: msg.id,
        authoritative: msg.flag_aa,
        recursionAvailable: msg.flag_ra,
        truncated: msg.flag_tc,
        size,
        rCode: rcodeName(rcode),
        questions: recordQuestions(msg.questions),
        answers: recordAnswers(msg.answers),
      });
      const viaTcp = this.tcp !== undefined;
      this.stop();
      if (msg.flag_tc && !viaTcp) {
        this.sendTcp();
        return;
      }
      switch (rcode) {
        case 0: {
          const addrs = addressesOf(msg, this.qname, this.qtype);
          if (addrs.length > 0) {
            this.addresses = addrs;
            this.finish(ANSWER, 'NOERROR');
          } else this.finish(NODATA, 'ENODATA');
          return;
        }
        case 3:
          this.finish(NXDOMAIN, 'ENOTFOUND');
          return;
        default:
          // SERVFAIL, REFUSED, NOTIMP, FORMERR, ...: the next nameserver may do better.
          this.bad[this.serverIndex] = true;
          this.failCode =
            rcode === 5 ? 'EREFUSED' : rcode === 2 ? 'ESERVFAIL' : rcode === 4 ? 'ENOTIMP' : rcode === 1 ? 'EFORMERR' : 'ESERVFAIL';
          this.advance();
      }
    });
  }

  private finish(outcome: number, code: string): void {
    if (this.done) return;
    this.done = true;
    this.outcome = outcome;
    this.code = code;
    this.stop();
    this.lookup.questionDone();
  }

  /** Stops without a result (the lookup was cancelled). */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    if (this.msg && !this.msg.error && this.timer) this.msg.error = 'ECANCELLED';
    this.stop();
  }

  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.lookup.resolver.internalError(err);
      this.lookup.fallBack();
    }
  }
}

/** Parsed `dns.lookup` options. */
interface LookupOptions {
  family: 0 | 4 | 6;
  all: boolean;
  ipv6First: boolean;
}

function parseOptions(options: unknown): LookupOptions | undefined {
  let family: unknown = 0;
  let all = false;
  let order: unknown;
  if (options === undefined || options === null) {
    // defaults
  } else if (typeof options === 'number') {
    family = options;
  } else if (typeof options === 'object') {
    const o = options as { family?: unknown; all?: unknown; verbatim?: unknown; order?: unknown };
    family = o.family ?? 0;
    if (o.all !== undefined && typeof o.all !== 'boolean') return undefined;
    all = o.all === true;
    if (o.order !== undefined) order = o.order;
    else if (o.verbatim === false) order = 'ipv4first';
    else if (o.verbatim !== undefined && o.verbatim !== true) return undefined;
  } else {
    return undefined;
  }
  if (family === 'IPv4') family = 4;
  else if (family === 'IPv6') family = 6;
  if (family !== 0 && family !== 4 && family !== 6) return undefined;
  if (order === undefined) {
    const get = (dns as { getDefaultResultOrder?: () => string }).getDefaultResultOrder;
    order = typeof get === 'function' ? get() : 'verbatim';
  }
  if (order !== 'verbatim' && order !== 'ipv4first' && order !== 'ipv6first') return undefined;
  return { family, all, ipv6First: order === 'ipv6first' };
}

/** One `lookup()` call. */
class Lookup {
  /** Nameservers, timeout and attempts in force, fixed when the lookup starts. */
  servers: Server[] = [];
  timeoutMs = 5000;
  attempts = 2;
  private readonly groups = new Map<string, QueryGroup>();
  private candidates: string[] = [];
  private candidate = -1;
  private runs: QuestionRun[] = [];
  private running = 0;
  private sawServerFail: string | undefined;
  private lastNotFound = 'ENOTFOUND';
  delivered = false;

  constructor(
    readonly resolver: ResolverImpl,
    readonly dialId: string | undefined,
    readonly hostname: string,
    private readonly opts: LookupOptions,
    private readonly callback: LookupCallback,
    /** The caller's options argument as given, for a hand-over to dns.lookup. */
    private readonly rawOptions: unknown,
  ) {}

  /** Runs the lookup (once the configuration files have been read). */
  start(): void {
    if (this.delivered) return;
    const hosts = this.resolver.hostsFor(this.hostname, this.opts.family);
    if (hosts) {
      this.deliver(
        null,
        hosts.map((e) => e.address),
        hosts.map((e) => e.family),
      );
      return;
    }
    this.servers = this.resolver.serverOrder();
    this.timeoutMs = this.resolver.timeoutMs;
    this.attempts = this.resolver.attempts;
    this.candidates = this.resolver.candidatesFor(this.hostname);
    this.resolver.active.add(this);
    this.nextCandidate();
  }

  private nextCandidate(): void {
    this.candidate++;
    if (this.candidate >= this.candidates.length) {
      if (this.sawServerFail) this.fail('EAI_AGAIN', this.sawServerFail);
      else this.fail('ENOTFOUND', this.lastNotFound);
      return;
    }
    const name = this.candidates[this.candidate];
    const f = this.opts.family;
    this.runs = [];
    if (f === 0 || f === 4) this.runs.push(new QuestionRun(this, name, 'A'));
    if (f === 0 || f === 6) this.runs.push(new QuestionRun(this, name, 'AAAA'));
    this.running = this.runs.length;
    for (const run of this.runs) {
      if (this.delivered) return;
      run.advance();
    }
  }

  /** Called by each QuestionRun when it has its outcome. */
  questionDone(): void {
    if (--this.running > 0 || this.delivered) return;
    const addrs: string[] = [];
    const families: number[] = [];
    let noAnswer: string | undefined;
    let serverFail: string | undefined;
    let notFound: string | undefined;
    const ordered = this.opts.ipv6First ? [...this.runs].reverse() : this.runs;
    for (const run of ordered) {
      if (run.outcome === ANSWER) {
        for (const a of run.addresses) {
          if (addrs.includes(a)) continue;
          addrs.push(a);
          families.push(run.qtype === 'A' ? 4 : 6);
        }
      } else if (run.outcome === NO_ANSWER) noAnswer ??= run.code;
      else if (run.outcome === SERVER_FAIL) serverFail ??= run.code;
      else notFound = run.outcome === NXDOMAIN ? 'ENOTFOUND' : (notFound ?? 'ENODATA');
    }
    if (addrs.length > 0) {
      this.deliver(null, addrs, families);
      return;
    }
    if (noAnswer !== undefined) {
      this.fail('EAI_AGAIN', noAnswer);
      return;
    }
    if (serverFail !== undefined) this.sawServerFail ??= serverFail;
    if (notFound !== undefined) this.lastNotFound = notFound;
    this.nextCandidate();
  }

  /** The dnsQueries record for this lookup's messages on one connection. */
  groupFor(connId: string, proto: 'udp' | 'tcp', server: Server): QueryGroup {
    let g = this.groups.get(connId);
    if (!g) {
      g = new QueryGroup(this.resolver.newId('q'), connId, proto, server);
      this.groups.set(connId, g);
    }
    return g;
  }

  /** Sends this lookup's dnsQueries records as they stand. */
  emitGroups(): void {
    for (const g of this.groups.values()) this.resolver.emitQuery(g.id, g.fields(this));
  }

  private fail(code: 'ENOTFOUND' | 'EAI_AGAIN', dnsCode: string): void {
    if (this.delivered) return;
    this.finishUp();
    const err = errnoException(code, this.hostname, dnsCode);
    const cb = this.callback;
    process.nextTick(() => cb(err));
  }

  private deliver(err: null, addrs: string[], families: number[]): void {
    if (this.delivered) return;
    this.finishUp();
    const cb = this.callback;
    if (this.opts.all) {
      const list: dns.LookupAddress[] = addrs.map((address, i) => ({ address, family: families[i] }));
      process.nextTick(() => cb(err, list));
    } else {
      process.nextTick(() => cb(err, addrs[0], families[0]));
    }
  }

  private finishUp(): void {
    this.delivered = true;
    this.resolver.active.delete(this);
    for (const run of this.runs) run.cancel();
    this.emitGroups();
  }

  /** Hands the lookup to the original dns.lookup (internal failure, or the resolver closing). */
  fallBack(): void {
    if (this.delivered) return;
    try {
      this.finishUp();
    } catch {
      /* already reported */
    }
    if (this.rawOptions === undefined) originalLookup(this.hostname, this.callback as never);
    else originalLookup(this.hostname, this.rawOptions as never, this.callback as never);
  }
}

// ---------------------------------------------------------------------------------------------
// The resolver

/** A watched configuration file. */
interface WatchedFile {
  path: string;
  mtimeMs: number;
  size: number;
  ino: number;
}

class ResolverImpl implements Resolver {
  readonly active = new Set<Lookup>();
  private readonly channels = new Map<string, UdpChannel>();
  private readonly allChannels = new Set<UdpChannel>();
  private conf: ResolvConf = defaultResolvConf();
  private hosts: HostsTable = new Map();
  private servers: Server[] = [];
  private loaded = false;
  private loading = false;
  private waiting: Lookup[] = [];
  private checking = false;
  private lastCheck = 0;
  private readonly resolvFile: WatchedFile;
  private readonly hostsFile: WatchedFile;
  private rotation = 0;
  private closed = false;
  private warned = 0;
  timeoutMs = 5000;
  attempts = 2;
  edns0 = false;
  useVc = false;

  constructor(
    private readonly config: ResolverConfig,
    private readonly events: ResolverEvents,
    readonly newId: (prefix: string) => string,
  ) {
    this.resolvFile = { path: config.resolvConfPath ?? '/etc/resolv.conf', mtimeMs: -1, size: -1, ino: -1 };
    this.hostsFile = { path: config.hostsPath ?? '/etc/hosts', mtimeMs: -1, size: -1, ino: -1 };
  }

  lookup(dialId: string | undefined): LookupFunction {
    return (hostname: string, options: dns.LookupOptions | number | LookupCallback, callback?: LookupCallback) => {
      let cb = callback;
      let opts: unknown = options;
      if (typeof options === 'function') {
        cb = options;
        opts = undefined;
      }
      if (typeof cb !== 'function' || this.closed) return originalLookup(hostname, options as never, callback as never);
      let lk: Lookup | undefined;
      try {
        const parsed = parseOptions(opts);
        if (parsed && typeof hostname === 'string' && net.isIP(hostname) === 0 && isQueryableName(hostname)) {
          lk = new Lookup(this, dialId, hostname, parsed, cb, opts);
        }
      } catch (err) {
        this.internalError(err);
        lk = undefined;
      }
      if (!lk) return originalLookup(hostname, options as never, callback as never);
      try {
        if (!this.loaded) {
          this.waiting.push(lk);
          this.load();
          return;
        }
        this.maybeCheckFiles();
        lk.start();
      } catch (err) {
        this.internalError(err);
        lk.fallBack();
      }
    };
  }

  flush(): void {
    try {
      for (const ch of this.allChannels) if (!ch.closed) ch.emitTotals();
      for (const lk of this.active) lk.emitGroups();
    } catch (err) {
      this.internalError(err);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const pending = [...this.active, ...this.waiting];
    this.waiting = [];
    // Hand pending lookups over first (that takes their queries off the sockets), then close.
    for (const lk of pending) lk.fallBack();
    for (const ch of [...this.allChannels]) {
      try {
        ch.close();
      } catch (err) {
        this.internalError(err);
      }
    }
  }

  // -- configuration --------------------------------------------------------------------------

  /** Nameservers for one lookup, rotated when `options rotate` is on. */
  serverOrder(): Server[] {
    const s = this.servers;
    if (!(this.config.rotate ?? this.conf.rotate) || s.length < 2) return s;
    const start = this.rotation++ % s.length;
    return start === 0 ? s : [...s.slice(start), ...s.slice(0, start)];
  }

  candidatesFor(name: string): string[] {
    return searchCandidates(name, this.config.search ?? this.conf.search, this.config.ndots ?? this.conf.ndots);
  }

  /** /etc/hosts addresses for a name and family, or undefined to ask DNS. */
  hostsFor(name: string, family: 0 | 4 | 6): HostsEntry[] | undefined {
    if (this.hosts.size === 0) return undefined;
    const list = this.hosts.get(hostsKey(name));
    if (!list) return undefined;
    const out = family === 0 ? list : list.filter((e) => e.family === family);
    return out.length > 0 ? out : undefined;
  }

  private apply(): void {
    const c = this.conf;
    const specs =
      this.config.nameservers && this.config.nameservers.length > 0
        ? this.config.nameservers
        : c.nameservers.length > 0
          ? c.nameservers
          : ['127.0.0.1'];
    const servers: Server[] = [];
    for (const spec of specs) {
      const ns = parseNameserver(spec);
      if (ns && !servers.some((s) => s.key === toServer(ns).key)) servers.push(toServer(ns));
      if (servers.length >= 3) break;
    }
    if (servers.length === 0) servers.push(toServer({ address: '127.0.0.1', port: 53, family: 4 }));
    this.servers = servers;
    const t = this.config.timeoutMs;
    this.timeoutMs = typeof t === 'number' && t > 0 ? t : c.timeoutMs;
    const a = this.config.attempts;
    this.attempts = typeof a === 'number' && a >= 1 ? Math.floor(a) : c.attempts;
    this.edns0 = c.edns0;
    this.useVc = c.useVc;
  }

  /** First read of both files; lookups wait for it. */
  private load(): void {
    if (this.loading) return;
    this.loading = true;
    let left = 2;
    const done = () => {
      if (--left > 0) return;
      try {
        this.apply();
      } catch (err) {
        this.internalError(err);
      }
      this.loaded = true;
      this.loading = false;
      this.lastCheck = Date.now();
      const waiting = this.waiting;
      this.waiting = [];
      for (const lk of waiting) {
        try {
          lk.start();
        } catch (err) {
          this.internalError(err);
          lk.fallBack();
        }
      }
    };
    this.readFile(this.resolvFile, (text) => this.setResolvConf(text), done);
    this.readFile(this.hostsFile, (text) => (this.hosts = parseHosts(text)), done);
  }

  private setResolvConf(text: string): void {
    this.conf = parseResolvConf(text, { LOCALDOMAIN: process.env.LOCALDOMAIN, RES_OPTIONS: process.env.RES_OPTIONS });
  }

  /** Re-reads a file whose stat changed; at most once per FILE_CHECK_MS, never waited for. */
  private maybeCheckFiles(): void {
    if (this.checking) return;
    const t = Date.now();
    if (t - this.lastCheck < FILE_CHECK_MS) return;
    this.lastCheck = t;
    this.checking = true;
    let left = 2;
    let changed = false;
    const done = () => {
      if (--left > 0) return;
      this.checking = false;
      if (changed) {
        try {
          this.apply();
        } catch (err) {
          this.internalError(err);
        }
      }
    };
    for (const [file, set] of [
      [this.resolvFile, (text: string) => this.setResolvConf(text)],
      [this.hostsFile, (text: string) => (this.hosts = parseHosts(text))],
    ] as const) {
      const statted = (err: NodeJS.ErrnoException | null, st: fs.Stats) => {
        const same = err
          ? file.size === -1 && file.mtimeMs === -1
          : st.mtimeMs === file.mtimeMs && st.size === file.size && st.ino === file.ino;
        if (same) {
          done();
          return;
        }
        changed = true;
        this.readFile(file, set, done);
      };
      try {
        fs.stat(file.path, statted);
      } catch (err) {
        process.nextTick(statted, err as NodeJS.ErrnoException, undefined as unknown as fs.Stats);
      }
    }
  }

  /** Reads up to MAX_FILE_BYTES of a file asynchronously; a missing file reads as empty. */
  private readFile(file: WatchedFile, set: (text: string) => void, done: () => void): void {
    const finish = (text: string, st?: fs.Stats) => {
      file.mtimeMs = st ? st.mtimeMs : -1;
      file.size = st ? st.size : -1;
      file.ino = st ? st.ino : -1;
      try {
        set(text);
      } catch (err) {
        this.internalError(err);
      }
      done();
    };
    const opened = (err: NodeJS.ErrnoException | null, fd: number) => {
      if (err) {
        finish('');
        return;
      }
      fs.fstat(fd, (err2, st) => {
        if (err2) {
          fs.close(fd, () => finish(''));
          return;
        }
        const size = Math.min(st.size || 65536, MAX_FILE_BYTES);
        const buf = Buffer.allocUnsafe(size);
        const readMore = (off: number) => {
          fs.read(fd, buf, off, size - off, off, (err3, n) => {
            if (!err3 && n > 0 && off + n < size) {
              readMore(off + n);
              return;
            }
            fs.close(fd, () => finish(buf.subarray(0, err3 ? off : off + n).toString('utf8'), st));
          });
        };
        readMore(0);
      });
    };
    try {
      fs.open(file.path, 'r', opened);
    } catch (err) {
      // E.g. ERR_ACCESS_DENIED under the permission model, thrown synchronously.
      process.nextTick(opened, err as NodeJS.ErrnoException, -1);
    }
  }

  // -- sockets ----------------------------------------------------------------------------------

  /** The UDP socket to use for `server` (a new one when there is none or it is retiring). */
  channelFor(server: Server, dialId: string | undefined): UdpChannel {
    let ch = this.channels.get(server.key);
    if (!ch || ch.retiring || ch.closed) {
      ch = new UdpChannel(this, server, dialId);
      this.channels.set(server.key, ch);
      this.allChannels.add(ch);
    }
    return ch;
  }

  /** A channel takes no more queries (retiring or closed). */
  dropChannel(ch: UdpChannel): void {
    if (this.channels.get(ch.server.key) === ch) this.channels.delete(ch.server.key);
    if (ch.closed) this.allChannels.delete(ch);
  }

  // -- events -----------------------------------------------------------------------------------

  emitUdp(id: string, f: UdpConnFields): void {
    try {
      this.events.udpConn(id, f);
    } catch {
      /* the preload's problem; never ours to throw */
    }
  }

  emitTcp(id: string, f: TcpConnFields): void {
    try {
      this.events.tcpConn(id, f);
    } catch {
      /* ignored */
    }
  }

  emitQuery(id: string, f: DnsQueryFields): void {
    try {
      this.events.dnsQuery(id, f);
    } catch {
      /* ignored */
    }
  }

  internalError(err: unknown): void {
    if (this.warned >= 10) return;
    this.warned++;
    const where = err instanceof Error ? (err.stack ?? err.message).split('\n').slice(0, 3).join(' | ') : String(err);
    try {
      this.events.warning?.(`nettrace: DNS resolver internal error (lookup handed to dns.lookup): ${where}`);
    } catch {
      /* ignored */
    }
  }
}

/**
 * Creates a resolver. `events` receives the records; `newId(prefix)` returns a fresh
 * connection-local id ("u" for udpConns, "c" for tcpConns, "q" for dnsQueries).
 */
export function createResolver(config: ResolverConfig, events: ResolverEvents, newId: (prefix: string) => string): Resolver {
  const r = new ResolverImpl(config ?? {}, events, newId);
  return { lookup: (dialId) => r.lookup(dialId), flush: () => r.flush(), close: () => r.close() };
}
