/**
 * Packet capture of the traced connections only, with the `cap` npm package (libpcap), run by
 * the privileged helper (dist/helper.cjs) as root.
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
 *   traffic on the same interface is dropped in the kernel and the SYN is kept.
 * - `cap` opens each device without a libpcap filter (it has no way to take a BPF program); the
 *   native helper receives the capture sockets as inherited fds, puts a pass-nothing filter on
 *   them as its first action, then the BPF socket filter (SO_ATTACH_BPF) before it reports ready,
 *   with the number of packets that entered each ring before (`captureUnfiltered`): those are
 *   discarded here, never attributed (on "lo": everything up to a marker datagram).
 * - Each tuple in the kernel filter belongs to its socket (cookie): another socket sending on it
 *   takes it out at once, and after the socket is gone it passes no SYN (see docs/security.md).
 * - In user space every packet is checked again against the wire tuples the native helper
 *   reported (`wireTuple`). A packet can arrive before its `wireTuple` line, so unmatched packets
 *   wait up to `pendingMs`; those never matched are discarded and counted as `unattributed`
 *   (expected to stay 0: the kernel filter only passes tuples the kernel verified).
 *
 * `cap` gives no packet timestamps, so a packet's time is taken when its 'packet' event runs.
 */

import { closeSync, constants, fchownSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddrTuple } from '../trace/types';
import { tupleKey } from '../protocol/helper';
import { LINKTYPES, PcapngWriter } from './pcapng';

/** The parts of the `cap` package's Cap class used here. */
interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  on(ev: 'packet', cb: (nbytes: number, truncated: boolean) => void): void;
  close(): void;
}
interface CapModule {
  Cap: { new (): CapInstance; deviceList(): { name: string; flags?: string }[] };
}

/**
 * Loads `cap` from node_modules next to this bundle (dist/../node_modules/cap), or says why it is
 * unavailable. By absolute path: this runs as root, and a lookup by name could reach folders of
 * the caller's choosing (NODE_PATH, or node_modules folders above an install).
 */
export function loadCap(): { cap?: CapModule; why?: string } {
  try {
    return { cap: require(join(dirname(__dirname), 'node_modules', 'cap')) as CapModule };
  } catch (e) {
    return {
      why: `the optional 'cap' package is not installed or not built (${(e as Error).message.split('\n')[0]}); install libpcap-dev, approve its install script (npm install-scripts approve cap) and run npm install`,
    };
  }
}

/** Devices worth capturing on: the ones with an address in this network namespace. */
export function captureDevices(cap: CapModule): string[] {
  const withAddr = new Set(Object.keys(networkInterfaces()));
  return cap.Cap.deviceList()
    .map((d) => d.name)
    .filter((n) => withAddr.has(n));
}

function packetSocketInodes(): Set<string> {
  const s = new Set<string>();
  for (const line of readFileSync('/proc/net/packet', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 9) s.add(f[8]);
  }
  return s;
}

function socketFds(): Map<number, string> {
  const m = new Map<number, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const l = readlinkSync(`/proc/self/fd/${fd}`);
      const ino = /^socket:\[(\d+)\]$/.exec(l)?.[1];
      if (ino) m.set(Number(fd), ino);
    } catch {
      /* closed meanwhile */
    }
  }
  return m;
}

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

/** Network-layer offset and ethertype of a frame, or undefined for link types we do not parse. */
function networkOffset(linkType: string, f: Buffer, n: number): [number, number] | undefined {
  if (linkType === 'ETHERNET') {
    if (n < 14) return undefined;
    const proto = f.readUInt16BE(12);
    return proto === 0x8100 && n >= 18 ? [18, f.readUInt16BE(16)] : [14, proto];
  }
  if (linkType === 'LINKTYPE_LINUX_SLL') return n < 16 ? undefined : [16, f.readUInt16BE(14)];
  if (linkType === 'RAW') return [0, n > 0 && f[0] >> 4 === 6 ? 0x86dd : 0x0800];
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
 * error (unreachable, time exceeded, packet too big), the key of the packet it quotes.
 */
export function frameKey(linkType: string, f: Buffer, n: number): string | undefined {
  const nh = networkOffset(linkType, f, n);
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
  /** Arrival number on its device (1 = first). */
  seq: number;
  tsUs: number;
  data: Buffer;
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
  /** Kernel ring buffer per device, MiB (default DEFAULT_CAPTURE_BUFFER_MIB). */
  bufferMiB?: number;
  devices?: string[];
}

/**
 * Captures on every device with an address; writes the packets of verified tuples to a pcapng
 * spool. `fds` are the packet sockets, to hand to the native helper for its BPF socket filter.
 */
/**
 * Kernel capture buffer per device, MiB. The capture's socket filter passes only verified traced
 * connections, and this process drains the buffer at raised priority; 16 MiB holds over 100 ms of
 * a saturated 1 Gbit/s link. (It was 128 MiB per device: with many interfaces, gigabytes of
 * locked kernel memory on a root process's behalf.) `--pcap-buffer-mib` overrides it.
 */
export const DEFAULT_CAPTURE_BUFFER_MIB = 16;

export class TracedCapture {
  readonly devices: { name: string; linkType: string; cap: CapInstance; buffer: Buffer; fd: number }[] = [];
  readonly writer: PcapngWriter;
  unattributed = 0;
  private verified = new Map<string, Verified>();
  private pending: Pending[] = [];
  private readonly pendingMs: number;
  private timer?: NodeJS.Timeout;
  private closed = false;
  /** Packets read per device so far. */
  private readonly seq: number[] = [];
  /** Per device, how many first packets entered before the native helper's filters; unknown until `ready`. */
  private unfiltered?: number[];
  /** Per device: skip everything up to and including a packet holding these bytes ("lo"). */
  private untilMarker: (Buffer | undefined)[] = [];

  constructor(cap: CapModule, opts: CaptureOptions) {
    this.pendingMs = opts.pendingMs ?? 2000;
    const names = opts.devices ?? captureDevices(cap);
    const packetInodes = () => packetSocketInodes();
    for (const name of names) {
      const before = socketFds();
      const c = new cap.Cap();
      const buffer = Buffer.alloc(65535);
      // The kernel ring per device: `cap` sets libpcap's immediate mode, so TPACKET_V3 retires a
      // block every millisecond however few packets it holds; the ring's block count, not its
      // bytes, is how long the event loop may stall without drops (DEFAULT_CAPTURE_BUFFER_MIB).
      // No libpcap filter: with one, libpcap applies it in user space to the first ring frame
      // written after it was set (pcap-linux.c, blocks_to_filter_in_userland), which would drop
      // the first packet that our BPF socket filter later passes (a SYN). Instead the native
      // helper, started right after this, attaches a filter that passes nothing as its first
      // action, then its BPF filter, and reports how many packets entered each ring before
      // (`captureUnfiltered`); those first packets of each device are discarded unread.
      const linkType = c.open(name, '', (opts.bufferMiB ?? DEFAULT_CAPTURE_BUFFER_MIB) * 1024 * 1024, buffer);
      const inodes = packetInodes();
      const fd = [...socketFds()].find(([f, ino]) => !before.has(f) && inodes.has(ino))?.[0];
      if (fd === undefined) throw new Error(`cannot find the packet socket that cap opened for ${name}`);
      this.devices.push({ name, linkType, cap: c, buffer, fd });
    }
    this.writer = new PcapngWriter(
      opts.spool,
      this.devices.map((d) => ({ name: d.name, linkType: LINKTYPES[d.linkType] ?? 1 })),
      opts.maxBytes,
      0o600,
      { background: true, exclusive: true },
    );
    this.devices.forEach((d, iface) => {
      this.seq.push(0);
      d.cap.on('packet', (n) => this.onPacket(iface, d.linkType, d.buffer, n));
    });
    this.timer = setInterval(() => this.drain(), 100);
    this.timer.unref();
  }

  /** The capture sockets' fds, in device order. */
  get fds(): number[] {
    return this.devices.map((d) => d.fd);
  }

  /**
   * The native helper's count of packets that entered each device's ring before its filters
   * (ready's `captureUnfiltered`): those are discarded, never attributed, never counted.
   */
  setUnfiltered(counts: number[], marker?: string): void {
    const m = marker && /^[0-9a-f]{16}$/.test(marker) ? Buffer.alloc(8) : undefined;
    m?.writeBigUInt64LE(BigInt(`0x${marker}`));
    this.untilMarker = this.devices.map((_, i) => (counts[i] === -1 && m ? m : undefined));
    this.unfiltered = this.devices.map((_, i) => Math.max(0, counts[i] ?? 0));
    this.pending = this.pending.filter((p) => p.seq > this.unfiltered![p.iface] && !this.beforeMarker(p.iface, p.data, p.data.length));
    this.drain();
  }

  /** True while `iface` still waits for the marker; the marker packet itself ends the wait. */
  private beforeMarker(iface: number, buf: Buffer, n: number): boolean {
    const m = this.untilMarker[iface];
    if (!m) return false;
    if (buf.subarray(0, n).includes(m)) this.untilMarker[iface] = undefined;
    return true;
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

  private lookup(key: string): Verified | undefined {
    const v = this.verified.get(key);
    if (v?.expiresAt !== undefined && Date.now() > v.expiresAt) {
      this.verified.delete(key);
      return undefined;
    }
    return v;
  }

  /** The hot path: one lookup, one copy into the writer's buffer. `buf` is reused by cap. */
  private onPacket(iface: number, linkType: string, buf: Buffer, n: number): void {
    const seq = ++this.seq[iface];
    if (this.unfiltered && (seq <= this.unfiltered[iface] || this.beforeMarker(iface, buf, n))) return;
    const key = frameKey(linkType, buf, n);
    if (key === undefined) return;
    const tsUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
    const v = this.lookup(key);
    if (v) this.writer.writeFrame(iface, tsUs, buf, n, v.comment);
    else if (this.pending.length < 100000)
      this.pending.push({ iface, seq, tsUs, data: Buffer.from(buf.subarray(0, n)), key, at: Date.now() });
    else this.unattributed++;
  }

  /**
   * Writes the waiting packets that are now verified, in arrival order, and drops the ones that
   * waited too long. Packets of one connection stay in order; a connection's first packets may
   * land in the file after packets of other connections that were verified sooner.
   */
  drain(expireAll = false): void {
    const now = Date.now();
    const keep: Pending[] = [];
    for (const p of this.pending) {
      const v = this.lookup(p.key);
      if (v) this.writer.writeFrame(p.iface, p.tsUs, p.data, p.data.length, v.comment);
      // Before `ready` says which first packets were unfiltered, nothing expires.
      else if (expireAll || (this.unfiltered && now - p.at > this.pendingMs)) this.unattributed++;
      else keep.push(p);
    }
    this.pending = keep;
  }

  /** Stops capturing, settles the waiting packets, and finishes the spool file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const d of this.devices) d.cap.close();
    this.drain(true);
    await this.writer.end();
  }
}
