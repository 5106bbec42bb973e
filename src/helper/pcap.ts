/**
 * Packet capture of the traced connections only, run by the privileged helper (dist/helper.cjs)
 * as root. The native helper opens the capture sockets and reads them (native/src/capture.c: one
 * TPACKET_V3 ring per device, drained by a thread of its own); this file turns the packet stream
 * it writes to a pipe into the pcapng spool.
 *
 * How only verified packets are kept, and why the first SYN is not lost:
 * - The local port of an outgoing connection is chosen inside connect() after the socket enters
 *   SYN_SENT (tcp_v4_connect: tcp_set_state(SYN_SENT) then inet_hash_connect), and the SYN leaves
 *   in the same call. No filter built in user space from a learned port can be in place in time.
 * - So the filter lives in the kernel and is fed by the kernel: the helper's BPF program on the
 *   `net:net_dev_queue` tracepoint sees each packet of a traced socket (skb->sk is in the map of
 *   sockets the traced process tree opened) before the device's packet taps do, and adds its
 *   on-the-wire tuple — after any NAT on the way out — to a map, both directions. A BPF socket
 *   filter on each capture socket passes only packets whose tuple is in that map, so untraced
 *   traffic on the same interface is dropped in the kernel and the SYN is kept. The native helper
 *   attaches that filter before it binds each socket to its device: no unfiltered packet ever
 *   enters a ring.
 * - Each tuple in the kernel filter belongs to its socket (cookie): another socket sending on it
 *   takes it out at once, and after the socket is gone it passes no SYN (see docs/security.md).
 * - In user space every packet is checked again against the wire tuples the native helper
 *   reported (`wireTuple`). A packet can arrive before its `wireTuple` line, so unmatched packets
 *   wait up to `pendingMs`; those never matched are discarded and counted as `unattributed`
 *   (expected to stay 0: the kernel filter only passes tuples the kernel verified).
 *
 * A packet's time is the kernel's receive time (the ring's timestamp).
 */

import { closeSync, constants, fchmodSync, fchownSync, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { AddrTuple } from '../trace/contract/types';
import { tupleKey } from '../protocol/helper';
import { LINKTYPES, PcapngWriter } from './pcapng';

/** Gives a directory to a user by descriptor (opened O_NOFOLLOW: never a symlink's target). */
export function chownDirectory(dir: string, uid: number, gid: number): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fchownSync(fd, uid, gid);
  } finally {
    closeSync(fd);
  }
}

/** Formats IPv6 bytes as glibc's inet_ntop does (the native helper prints with it). */
export function ipv6String(b: Buffer): string {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** The TCP tuple of a captured frame, or undefined for anything else. */
export function frameTuple(linkType: string, frame: Buffer): AddrTuple | undefined {
  let off: number;
  let proto: number;
  if (linkType === 'ETHERNET') {
    if (frame.length < 14) return undefined;
    off = 14;
    proto = frame.readUInt16BE(12);
    if (proto === 0x8100 && frame.length >= 18) {
      proto = frame.readUInt16BE(16);
      off = 18;
    }
  } else if (linkType === 'LINKTYPE_LINUX_SLL') {
    if (frame.length < 16) return undefined;
    off = 16;
    proto = frame.readUInt16BE(14);
  } else if (linkType === 'RAW') {
    off = 0;
    proto = frame.length > 0 && frame[0] >> 4 === 6 ? 0x86dd : 0x0800;
  } else {
    return undefined;
  }
  if (proto === 0x0800) {
    if (frame.length < off + 20 || frame[off + 9] !== 6) return undefined;
    const th = off + (frame[off] & 0xf) * 4;
    if (frame.length < th + 4) return undefined;
    const ip = (o: number) => `${frame[o]}.${frame[o + 1]}.${frame[o + 2]}.${frame[o + 3]}`;
    return { srcIP: ip(off + 12), dstIP: ip(off + 16), srcPort: frame.readUInt16BE(th), dstPort: frame.readUInt16BE(th + 2) };
  }
  if (proto === 0x86dd) {
    if (frame.length < off + 44 || frame[off + 6] !== 6) return undefined;
    return {
      srcIP: ipv6String(frame.subarray(off + 8, off + 24)),
      dstIP: ipv6String(frame.subarray(off + 24, off + 40)),
      srcPort: frame.readUInt16BE(off + 40),
      dstPort: frame.readUInt16BE(off + 42),
    };
  }
  return undefined;
}

/**
 * Network-layer offset and ethertype of the frame at `b` in `f` that ends at `n`, or undefined
 * for link types we do not parse. Offsets are absolute (into `f`).
 */
function networkOffset(linkType: string, f: Buffer, b: number, n: number): [number, number] | undefined {
  if (linkType === 'ETHERNET') {
    if (n - b < 14) return undefined;
    const proto = f.readUInt16BE(b + 12);
    return proto === 0x8100 && n - b >= 18 ? [b + 18, f.readUInt16BE(b + 16)] : [b + 14, proto];
  }
  if (linkType === 'LINKTYPE_LINUX_SLL') return n - b < 16 ? undefined : [b + 16, f.readUInt16BE(b + 14)];
  if (linkType === 'RAW') return [b, n > b && f[b] >> 4 === 6 ? 0x86dd : 0x0800];
  return undefined;
}

/** The key of the IP packet at `off`: family, protocol letter, address and port bytes. */
function ipKey(f: Buffer, off: number, n: number, v6: boolean): string | undefined {
  if (!v6) {
    if (n < off + 20) return undefined;
    const p = f[off + 9];
    const th = off + (f[off] & 0xf) * 4;
    if ((p !== 6 && p !== 17) || n < th + 4) return undefined;
    return (p === 6 ? '4t' : '4u') + f.toString('latin1', off + 12, off + 20) + f.toString('latin1', th, th + 4);
  }
  if (n < off + 44) return undefined;
  const p = f[off + 6];
  if (p !== 6 && p !== 17) return undefined;
  return (p === 6 ? '6t' : '6u') + f.toString('latin1', off + 8, off + 44);
}

/**
 * A compact key of a frame's TCP/UDP tuple (the raw address and port bytes), for the per-packet
 * lookup: cheaper than formatting addresses; equal to addrKey() of the same tuple. For an ICMP
 * error (unreachable, time exceeded, packet too big), the key of the packet it quotes. The frame
 * is the `len` bytes at `base` in `f` (no subarray per packet on the capture's hot path).
 */
export function frameKey(linkType: string, f: Buffer, len: number, base = 0): string | undefined {
  const n = base + len;
  const nh = networkOffset(linkType, f, base, n);
  if (!nh) return undefined;
  const [off, proto] = nh;
  if (proto === 0x0800) {
    if (n < off + 20) return undefined;
    if (f[off + 9] === 1) {
      const icmp = off + (f[off] & 0xf) * 4;
      return f[icmp] === 3 || f[icmp] === 11 ? ipKey(f, icmp + 8, n, false) : undefined;
    }
    return ipKey(f, off, n, false);
  }
  if (proto === 0x86dd) {
    if (n < off + 48) return undefined;
    if (f[off + 6] === 58) return f[off + 40] >= 1 && f[off + 40] <= 3 ? ipKey(f, off + 48, n, true) : undefined;
    return ipKey(f, off, n, true);
  }
  return undefined;
}

/** The bytes of an IPv4 or IPv6 address string. */
export function ipBytes(ip: string): Buffer {
  if (!ip.includes(':')) return Buffer.from(ip.split('.').map(Number));
  let head = ip;
  let v4: number[] = [];
  const lastColon = ip.lastIndexOf(':');
  if (ip.slice(lastColon + 1).includes('.')) {
    v4 = ip
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    head = ip.slice(0, lastColon + 1) + '0:0';
  }
  const [l, r] = head.split('::');
  const left = l ? l.split(':') : [];
  const right = r !== undefined && r ? r.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  if (v4.length) Buffer.from(v4).copy(b, 12);
  return b;
}

/** frameKey() of a tuple given as strings. */
export function addrKey(t: AddrTuple, proto: 'tcp' | 'udp' = 'tcp'): string {
  const s = ipBytes(t.srcIP);
  const d = ipBytes(t.dstIP);
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(t.srcPort, 0);
  ports.writeUInt16BE(t.dstPort, 2);
  return (s.length === 4 ? '4' : '6') + (proto === 'tcp' ? 't' : 'u') + Buffer.concat([s, d, ports]).toString('latin1');
}

const reverse = (t: AddrTuple): AddrTuple => ({ srcIP: t.dstIP, srcPort: t.dstPort, dstIP: t.srcIP, dstPort: t.srcPort });

interface Pending {
  iface: number;
  tsUs: number;
  data: Buffer;
  origLen: number;
  key: string;
  at: number;
}

/** A verified connection, with its spool comment ready to copy into each packet block. */
interface Verified {
  pid: number;
  comment: Buffer;
  /** Date.now() after which the tuple no longer counts (the socket is gone; it may be reused). */
  expiresAt?: number;
}

/** As the kernel side (native/bpf/nettrace.h NT_UDP_LIFETIME_NS): a DNS tuple's life after a datagram out. */
const UDP_LIFETIME_MS = 30_000;

/** Options of a capture. */
export interface CaptureOptions {
  spool: string;
  maxBytes: number;
  /** How long a packet may wait for its connection's wireTuple line (ms). */
  pendingMs?: number;
}

/**
 * Kernel capture ring per device, MiB (`--capture-ring-mib` of the native helper). A TPACKET_V3
 * ring packs packets by their size: 16 MiB hold about 100,000 small packets, two seconds at
 * 50,000 packets/s. `--pcap-buffer-mib` overrides it.
 */
export const DEFAULT_CAPTURE_BUFFER_MIB = 16;

/** One capture device, as the native helper's packet stream names it. */
export interface CaptureDevice {
  name: string;
  /** A key of LINKTYPES. */
  linkType: string;
}

/** Bytes before each packet's frame in the native helper's stream (native/src/capture.c). */
const RECORD_HEADER = 20;

/**
 * Writes the packets of verified tuples to a pcapng spool, from the native helper's packet stream
 * (`attach()`); the spool file is created at once, its interfaces when the stream names them.
 */
export class TracedCapture {
  devices: CaptureDevice[] = [];
  writer?: PcapngWriter;
  unattributed = 0;
  private readonly fd: number;
  private readonly maxBytes: number;
  private verified = new Map<string, Verified>();
  private pending: Pending[] = [];
  private readonly pendingMs: number;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private rest?: Buffer;
  private ended?: Promise<void>;
  private onStarted!: () => void;
  /** Resolves once the packet stream has named the devices (or the capture closed). */
  readonly started = new Promise<void>((resolve) => (this.onStarted = resolve));

  constructor(opts: CaptureOptions) {
    this.pendingMs = opts.pendingMs ?? 2000;
    this.maxBytes = opts.maxBytes;
    // O_EXCL | O_NOFOLLOW: a file this privileged process creates, never through a symlink.
    this.fd = openSync(opts.spool, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    this.timer = setInterval(() => this.drain(), 100);
    this.timer.unref();
  }

  /** Hands the spool to a user, by its descriptor (no path a user could swap). */
  chown(uid: number, gid: number): void {
    fchownSync(this.fd, uid, gid);
    fchmodSync(this.fd, 0o600);
  }

  /** Packets written to the spool so far. */
  get packets(): number {
    return this.writer?.packets ?? 0;
  }
  get bytes(): number {
    return this.writer?.bytes ?? 0;
  }
  get truncated(): boolean {
    return this.writer?.truncated ?? false;
  }

  /** Reads the native helper's packet stream (its device list, then one record per packet). */
  attach(stream: Readable): void {
    stream.on('data', (chunk: Buffer) => this.onChunk(chunk));
    this.ended = new Promise((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
  }

  private start(devices: CaptureDevice[]): void {
    this.devices = devices;
    this.writer = new PcapngWriter(
      this.fd,
      devices.map((d) => ({ name: d.name, linkType: LINKTYPES[d.linkType] ?? 1 })),
      this.maxBytes,
      0o600,
      { background: true },
    );
    this.onStarted();
  }

  /** The hot path: many packets per chunk, one lookup and one copy into the writer's buffer each. */
  private onChunk(chunk: Buffer): void {
    let b = chunk;
    if (this.rest) {
      b = Buffer.concat([this.rest, chunk]);
      this.rest = undefined;
    }
    let o = 0;
    if (!this.writer) {
      if (b.length < 4 || b.length < 4 + b.readUInt32LE(0)) {
        this.rest = b;
        return;
      }
      const n = b.readUInt32LE(0);
      const head = JSON.parse(b.toString('utf8', 4, 4 + n)) as { devices?: CaptureDevice[] };
      this.start(head.devices ?? []);
      o = 4 + n;
    }
    const now = Date.now();
    while (b.length - o >= RECORD_HEADER) {
      const caplen = b.readUInt32LE(o);
      if (b.length - o < RECORD_HEADER + caplen) break;
      const origLen = b.readUInt32LE(o + 4);
      const tsUs = b.readUInt32LE(o + 8) * 1e6 + Math.floor(b.readUInt32LE(o + 12) / 1000);
      const iface = b.readUInt16LE(o + 16);
      const at = o + RECORD_HEADER;
      o = at + caplen;
      const dev = this.devices[iface];
      const key = dev && frameKey(dev.linkType, b, caplen, at);
      if (key === undefined) continue;
      const v = this.lookup(key, now);
      if (v) this.writer!.writeFrame(iface, tsUs, b, caplen, v.comment, origLen, at);
      else if (this.pending.length < 100000)
        this.pending.push({ iface, tsUs, data: Buffer.from(b.subarray(at, o)), origLen, key, at: now });
      else this.unattributed++;
    }
    if (o < b.length) this.rest = Buffer.from(b.subarray(o));
  }

  /** Records a verified connection (from the native helper's wireTuple line). */
  addVerified(pid: number, sock: AddrTuple, wire: AddrTuple, proto: 'tcp' | 'udp' = 'tcp'): void {
    const v: Verified = {
      pid,
      comment: PcapngWriter.commentOption(`pid=${pid} sock=${tupleKey(sock)} wire=${tupleKey(wire)} proto=${proto}`),
      expiresAt: proto === 'udp' ? Date.now() + UDP_LIFETIME_MS : undefined,
    };
    this.verified.set(addrKey(wire, proto), v);
    this.verified.set(addrKey(reverse(wire), proto), v);
    this.drain();
  }

  /** A traced connection's socket is gone: its wire tuple stops counting after `graceMs`. */
  closeVerified(wire: AddrTuple, graceMs: number): void {
    const at = Date.now() + graceMs;
    for (const k of [addrKey(wire), addrKey(reverse(wire))]) {
      const v = this.verified.get(k);
      if (v) v.expiresAt = at;
    }
  }

  private lookup(key: string, now: number): Verified | undefined {
    const v = this.verified.get(key);
    if (v?.expiresAt !== undefined && now > v.expiresAt) {
      this.verified.delete(key);
      return undefined;
    }
    return v;
  }

  /**
   * Writes the waiting packets that are now verified, in arrival order, and drops the ones that
   * waited too long. Packets of one connection stay in order; a connection's first packets may
   * land in the file after packets of other connections that were verified sooner.
   */
  drain(expireAll = false): void {
    if (!this.writer) return;
    const now = Date.now();
    const keep: Pending[] = [];
    for (const p of this.pending) {
      const v = this.lookup(p.key, now);
      if (v) this.writer.writeFrame(p.iface, p.tsUs, p.data, p.data.length, v.comment, p.origLen);
      else if (expireAll || now - p.at > this.pendingMs) this.unattributed++;
      else keep.push(p);
    }
    this.pending = keep;
  }

  /** Hands the buffered blocks to the disk. */
  flush(): void {
    this.writer?.flush();
  }

  /**
   * Waits for the end of the packet stream (the native helper closes it after a last drain of
   * its rings, before its exit line; at most `waitMs`), settles the waiting packets, and finishes
   * the spool file.
   */
  async close(waitMs = 3000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ended) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.ended, new Promise<void>((r) => (t = setTimeout(r, waitMs)))]);
      clearTimeout(t);
    }
    if (this.timer) clearInterval(this.timer);
    if (!this.writer) this.start([]);
    this.drain(true);
    await this.writer!.end();
  }
}
