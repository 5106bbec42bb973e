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

import dns = require('node:dns');
import fs = require('node:fs');
import net = require('node:net');
import {
  defaultResolvConf,
  hostsKey,
  parseHosts,
  parseNameserver,
  parseResolvConf,
  searchCandidates,
  type HostsEntry,
  type HostsTable,
  type ResolvConf,
} from './resolvConf';
import { isQueryableName } from './codec';
import {
  Lookup,
  originalLookup,
  parseOptions,
  type DnsQueryFields,
  type LookupCallback,
  type LookupFunction,
  type LookupHost,
} from './lookup';
import { toServer, UdpChannel, type Server, type TcpConnFields, type UdpConnFields } from './sockets';

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

/**
 * Callbacks the preload turns into trace records (upserts: a later call for the same id carries
 * fields to merge). Times are epoch ms (clock/epoch.ts). A callback
 * that throws is ignored.
 */
export interface ResolverEvents {
  udpConn(id: string, fields: UdpConnFields): void;
  tcpConn(id: string, fields: TcpConnFields): void;
  dnsQuery(id: string, fields: DnsQueryFields): void;
  /** Something went wrong inside the resolver (the lookup was handed to dns.lookup). */
  warning?(message: string): void;
}

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
/** Files larger than this are read only up to it (a huge hosts block list must not eat memory). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** A watched configuration file. */
interface WatchedFile {
  path: string;
  mtimeMs: number;
  size: number;
  ino: number;
}

class ResolverImpl implements Resolver, LookupHost {
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
