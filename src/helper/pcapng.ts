/**
 * pcapng writing and reading (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html):
 * a Section Header Block, one Interface Description Block per capture device, and an Enhanced
 * Packet Block per packet with an opt_comment naming its connection.
 *
 * The privileged helper writes a spool file whose comments name the packet's pid and socket
 * tuple; `savePcap()` (run unprivileged by the collector) turns the spool into the file the user
 * saves, for the whole session or one request, with comments naming the trace IDs.
 */

import { closeSync, constants, fchmodSync, fchownSync, openSync, readFileSync, write, writeSync } from 'node:fs';

/** pcap LINKTYPE_ values by link-type name (native/src/capture.c names each capture device's). */
export const LINKTYPES: Record<string, number> = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINKTYPE_LINUX_SLL: 113,
  IEEE802_11_RADIO: 127,
};

/** One capture device: becomes one Interface Description Block. */
export interface PcapngInterface {
  name: string;
  linkType: number;
  snapLen?: number;
}

/** One packet of a pcapng file. */
export interface PcapngPacket {
  /** Index into the interfaces. */
  iface: number;
  /** Microseconds since the epoch (if_tsresol 6). */
  tsUs: bigint;
  data: Buffer;
  origLen: number;
  comment?: string;
}

const SHB = 0x0a0d0d0a;
const IDB = 1;
const EPB = 6;
const OPT_END = 0;
const OPT_COMMENT = 1;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const SHB_USERAPPL = 4;

const pad4 = (n: number): number => (n + 3) & ~3;

function option(code: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + pad4(value.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function block(type: number, body: Buffer): Buffer {
  const len = 12 + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

/** The Section Header Block and Interface Description Blocks that start a file. */
export function pcapngHeader(interfaces: PcapngInterface[]): Buffer {
  const shbBody = Buffer.concat([
    (() => {
      const h = Buffer.alloc(16);
      h.writeUInt32LE(0x1a2b3c4d, 0);
      h.writeUInt16LE(1, 4);
      h.writeUInt16LE(0, 6);
      h.writeBigInt64LE(-1n, 8); // section length unknown
      return h;
    })(),
    option(SHB_USERAPPL, Buffer.from('Net Trace')),
    option(OPT_END, Buffer.alloc(0)),
  ]);
  const idbs = interfaces.map((i) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(i.linkType, 0);
    h.writeUInt32LE(i.snapLen ?? 65535, 4);
    return block(
      IDB,
      Buffer.concat([h, option(IF_NAME, Buffer.from(i.name)), option(IF_TSRESOL, Buffer.from([6])), option(OPT_END, Buffer.alloc(0))]),
    );
  });
  return Buffer.concat([block(SHB, shbBody), ...idbs]);
}

/** One Enhanced Packet Block. */
export function pcapngPacket(p: PcapngPacket): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt32LE(p.iface, 0);
  h.writeUInt32LE(Number(p.tsUs >> 32n), 4);
  h.writeUInt32LE(Number(p.tsUs & 0xffffffffn), 8);
  h.writeUInt32LE(p.data.length, 12);
  h.writeUInt32LE(p.origLen, 16);
  const data = Buffer.alloc(pad4(p.data.length));
  p.data.copy(data);
  const opts = p.comment ? [option(OPT_COMMENT, Buffer.from(p.comment)), option(OPT_END, Buffer.alloc(0))] : [];
  return block(EPB, Buffer.concat([h, data, ...opts]));
}

/**
 * Appends packets to a pcapng file with a size cap: once the next packet would pass `maxBytes`
 * nothing more is written and `truncated` is set. Buffers writes in 1 MiB chunks (flushed when
 * full, on `flush()`, and at `close()`/`end()`).
 */
export class PcapngWriter {
  packets = 0;
  bytes = 0;
  truncated = false;
  /** The first error of a background write, if any. */
  error?: Error;
  private fd: number;
  private chunk = Buffer.allocUnsafe(1 << 20);
  private chunkUsed = 0;
  /** File offset where the current chunk goes. */
  private pos: number;
  private inflight = 0;
  private idle: (() => void)[] = [];
  private readonly background: boolean;

  /**
   * `background`: chunks are written by libuv's thread pool at their file offsets, so the
   * capture's event loop never waits on the disk (a synchronous write can block for a second
   * under dirty-page writeback throttling, and the kernel ring overflows meanwhile); finish with
   * `end()`. `exclusive`: the file must not exist yet and is never reached through a symlink
   * (O_EXCL | O_NOFOLLOW), for files a privileged process creates.
   */
  constructor(
    path: string | number,
    interfaces: PcapngInterface[],
    private readonly maxBytes = 100 * 1024 * 1024,
    mode = 0o600,
    { background = false, exclusive = false } = {},
  ) {
    this.background = background;
    this.fd =
      typeof path === 'number'
        ? path
        : exclusive
          ? openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
          : openSync(path, 'w', mode);
    const head = pcapngHeader(interfaces);
    writeSync(this.fd, head);
    this.bytes = head.length;
    this.pos = head.length;
  }

  /** Hands the file to a user, by its descriptor (fchown/fchmod: no path a user could swap). */
  chown(uid: number, gid: number, mode = 0o600): void {
    fchownSync(this.fd, uid, gid);
    fchmodSync(this.fd, mode);
  }

  private reserve(n: number): void {
    if (this.chunkUsed + n > this.chunk.length) this.flush();
    if (n > this.chunk.length) this.chunk = Buffer.allocUnsafe(n);
  }

  /** Returns false (and sets `truncated`) when the size cap stops the packet. */
  write(p: PcapngPacket): boolean {
    if (this.truncated) return false;
    const b = pcapngPacket(p);
    if (this.bytes + b.length > this.maxBytes) {
      this.truncated = true;
      return false;
    }
    this.reserve(b.length);
    b.copy(this.chunk, this.chunkUsed);
    this.chunkUsed += b.length;
    this.bytes += b.length;
    this.packets++;
    return true;
  }

  /** An opt_comment option followed by opt_endofopt, for writeFrame(). */
  static commentOption(comment: string): Buffer {
    return Buffer.concat([option(OPT_COMMENT, Buffer.from(comment)), option(OPT_END, Buffer.alloc(0))]);
  }

  /**
   * The capture's hot path: an Enhanced Packet Block built straight into the output buffer from
   * `len` bytes of `frame` (which the caller reuses), with a prebuilt comment option; `origLen`:
   * the packet's length on the wire when only its first `len` bytes were captured; `start`: where
   * the frame begins in `frame`.
   */
  writeFrame(iface: number, tsUs: number, frame: Buffer, len: number, commentOpt: Buffer, origLen = len, start = 0): boolean {
    if (this.truncated) return false;
    const total = 32 + pad4(len) + commentOpt.length;
    if (this.bytes + total > this.maxBytes) {
      this.truncated = true;
      return false;
    }
    this.reserve(total);
    const b = this.chunk;
    let o = this.chunkUsed;
    b.writeUInt32LE(EPB, o);
    b.writeUInt32LE(total, o + 4);
    b.writeUInt32LE(iface, o + 8);
    b.writeUInt32LE(Math.floor(tsUs / 4294967296), o + 12);
    b.writeUInt32LE((tsUs % 4294967296) >>> 0, o + 16);
    b.writeUInt32LE(len, o + 20);
    b.writeUInt32LE(Math.max(origLen, len), o + 24);
    frame.copy(b, o + 28, start, start + len);
    o += 28 + len;
    for (let p = len; p < pad4(len); p++) b[o++] = 0;
    commentOpt.copy(b, o);
    o += commentOpt.length;
    b.writeUInt32LE(total, o);
    this.chunkUsed = o + 4;
    this.bytes += total;
    this.packets++;
    return true;
  }

  /** Hands the buffered blocks to the disk. */
  flush(): void {
    if (this.fd < 0 || this.chunkUsed === 0) return;
    const buf = this.chunk;
    const len = this.chunkUsed;
    const at = this.pos;
    this.pos += len;
    this.chunkUsed = 0;
    if (!this.background) {
      writeSync(this.fd, buf, 0, len, at);
      return;
    }
    this.chunk = Buffer.allocUnsafe(1 << 20);
    this.inflight++;
    write(this.fd, buf, 0, len, at, (err) => {
      if (err && !this.error) this.error = err;
      if (--this.inflight === 0) for (const f of this.idle.splice(0)) f();
    });
  }

  /** Writes what is left and closes the file (synchronous writers only). */
  close(): void {
    if (this.fd < 0) return;
    if (this.background) throw new Error('PcapngWriter: a background writer ends with end()');
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }

  /** Writes what is left, waits for the background writes, and closes the file. */
  async end(): Promise<void> {
    if (this.fd < 0) return;
    this.flush();
    if (this.inflight > 0) await new Promise<void>((r) => this.idle.push(r));
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Reads a little-endian pcapng file written by PcapngWriter (or any single-section LE file). */
export function readPcapng(path: string): { interfaces: PcapngInterface[]; packets: PcapngPacket[] } {
  const buf = readFileSync(path);
  const interfaces: PcapngInterface[] = [];
  const packets: PcapngPacket[] = [];
  let off = 0;
  while (off + 12 <= buf.length) {
    const type = buf.readUInt32LE(off);
    const len = buf.readUInt32LE(off + 4);
    if (len < 12 || off + len > buf.length) break; // a torn last block (writer killed mid-write)
    const body = buf.subarray(off + 8, off + len - 4);
    if (type === IDB) {
      const opts = readOptions(body.subarray(8));
      interfaces.push({
        linkType: body.readUInt16LE(0),
        snapLen: body.readUInt32LE(4),
        name: opts.get(IF_NAME)?.toString() ?? `if${interfaces.length}`,
      });
    } else if (type === EPB) {
      const capLen = body.readUInt32LE(12);
      const opts = readOptions(body.subarray(20 + pad4(capLen)));
      packets.push({
        iface: body.readUInt32LE(0),
        tsUs: (BigInt(body.readUInt32LE(4)) << 32n) | BigInt(body.readUInt32LE(8)),
        data: Buffer.from(body.subarray(20, 20 + capLen)),
        origLen: body.readUInt32LE(16),
        comment: opts.get(OPT_COMMENT)?.toString(),
      });
    }
    off += len;
  }
  return { interfaces, packets };
}

function readOptions(b: Buffer): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  let o = 0;
  while (o + 4 <= b.length) {
    const code = b.readUInt16LE(o);
    const len = b.readUInt16LE(o + 2);
    if (code === OPT_END) break;
    m.set(code, b.subarray(o + 4, o + 4 + len));
    o += 4 + pad4(len);
  }
  return m;
}

/** Fields of a spool comment: `pid=4242 sock=10.0.0.1:40000>10.0.0.2:80 wire=... proto=tcp`. */
export function parseSpoolComment(comment: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (comment ?? '').split(' ')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Trace IDs of one connection, keyed in `SavePcapOptions.labels` by its socket tuple key. */
export interface ConnectionLabel {
  /** tcpConns[].traceID */
  conn: string;
  /** httpRequests[].traceID of the requests that used the connection. */
  requests: string[];
}

export interface SavePcapOptions {
  /**
   * Socket tuple key (tupleKey(tcpConns[].addrTuple), or of udpConns[].addrTuple for DNS) →
   * trace IDs. Packets of unlabeled tuples keep pid and tuple in their comment.
   */
  labels: Map<string, ConnectionLabel>;
  /** Keep only the packets of the connections of this request (default: the whole session). */
  requestTraceID?: string;
  maxBytes?: number;
}

/**
 * Writes `out` from the helper's spool: the packets of the session (or of one request), each
 * commented with its connection and request trace IDs. Runs unprivileged. `fd`: `out` opened by
 * the caller (src/trace/formats/privateFile.ts: 0600, never through a symlink), closed here.
 */
export function savePcap(
  spool: string,
  out: string,
  fd: number,
  opts: SavePcapOptions,
): { file: string; interfaces: string[]; packets: number; truncated: boolean } {
  let read: ReturnType<typeof readPcapng>;
  try {
    read = readPcapng(spool);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const { interfaces, packets } = read;
  const w = new PcapngWriter(fd, interfaces, opts.maxBytes);
  for (const p of packets) {
    const f = parseSpoolComment(p.comment);
    const label = f.sock ? opts.labels.get(f.sock) : undefined;
    if (opts.requestTraceID && !label?.requests.includes(opts.requestTraceID)) continue;
    const parts: string[] = [];
    if (label) parts.push(`connection=${label.conn}`);
    if (label && label.requests.length) parts.push(`requests=${label.requests.join(',')}`);
    parts.push(`pid=${f.pid ?? '?'}`, `tuple=${f.sock ?? '?'}`);
    if (f.wire && f.wire !== f.sock) parts.push(`wire=${f.wire}`);
    if (f.proto === 'udp') parts.push('proto=udp');
    if (!w.write({ ...p, comment: parts.join(' ') })) break;
  }
  w.close();
  return { file: out, interfaces: interfaces.map((i) => i.name), packets: w.packets, truncated: w.truncated };
}
