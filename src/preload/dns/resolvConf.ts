/**
 * Parsers for `/etc/resolv.conf` and `/etc/hosts`, with glibc's semantics where they matter to the
 * in-process resolver (dns/resolver.ts). Pure functions: no I/O, no globals, so they can be unit
 * tested on strings.
 *
 * resolv.conf (resolv.conf(5), glibc `res_init.c`):
 * - `nameserver IP` — at most 3 (MAXNS); later ones and unparsable ones are ignored. No port:
 *   glibc has no syntax for one (the resolver's configuration can override with "ip:port").
 * - `search d1 d2 ...` and `domain d` — the last of the two wins; at most 6 search domains.
 * - `options ndots:N` (0–15, default 1), `timeout:N` seconds (1–30, default 5), `attempts:N` (1–5,
 *   default 2), `rotate`, `edns0`, `use-vc` (TCP only). Other options are ignored.
 * - The environment overrides the file as glibc does: `LOCALDOMAIN` replaces the search list and
 *   `RES_OPTIONS` is parsed as one more `options` line.
 * - No nameserver line means 127.0.0.1 (glibc's default). glibc's fallback of deriving a search
 *   domain from the host name when there is no search/domain line is not reproduced.
 */

import net = require('node:net');

/** The resolver settings read from resolv.conf. */
export interface ResolvConf {
  /** Nameserver addresses as written ("192.0.2.1", "2001:db8::1", "fe80::1%eth0"). */
  nameservers: string[];
  /** Search domains, without trailing dots. */
  search: string[];
  ndots: number;
  /** Per-try timeout in milliseconds (resolv.conf gives seconds). */
  timeoutMs: number;
  attempts: number;
  rotate: boolean;
  edns0: boolean;
  /** `options use-vc`: always query over TCP. */
  useVc: boolean;
}

/** glibc limits: MAXNS, MAXDNSRCH, RES_MAXNDOTS, RES_MAXRETRANS, RES_MAXRETRY. */
export const MAX_NAMESERVERS = 3;
export const MAX_SEARCH = 6;

/** The settings an empty (or missing) resolv.conf gives. */
export function defaultResolvConf(): ResolvConf {
  return { nameservers: [], search: [], ndots: 1, timeoutMs: 5000, attempts: 2, rotate: false, edns0: false, useVc: false };
}

/** One parsed nameserver address. */
export interface NameserverAddress {
  address: string;
  port: number;
  family: 4 | 6;
}

/** 4 or 6 for an IP literal (IPv6 may carry a `%zone`), 0 otherwise. */
export function ipFamily(text: string): 0 | 4 | 6 {
  return net.isIP(text) as 0 | 4 | 6;
}

/**
 * Parses a nameserver given as "ip", "ip:port" (IPv4), "[ipv6]:port" or a bare IPv6 address;
 * undefined when it is not one of those. The default port is 53.
 */
export function parseNameserver(spec: string): NameserverAddress | undefined {
  const s = String(spec).trim();
  if (!s) return undefined;
  let address = s;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    address = bracket[1];
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (ipFamily(s) === 0) {
    const m = /^([^:]+):(\d+)$/.exec(s);
    if (!m) return undefined;
    address = m[1];
    port = Number(m[2]);
  }
  const family = ipFamily(address);
  if (family === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { address, port, family };
}

function clampInt(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  return Math.min(max, Math.max(min, Number(text)));
}

/** Applies one `options` line's words (also the RES_OPTIONS environment variable). */
function applyOptions(conf: ResolvConf, words: string[]): void {
  for (const word of words) {
    const colon = word.indexOf(':');
    const key = colon >= 0 ? word.slice(0, colon) : word;
    const value = colon >= 0 ? word.slice(colon + 1) : '';
    switch (key) {
      case 'ndots': {
        const n = clampInt(value, 0, 15);
        if (n !== undefined) conf.ndots = n;
        break;
      }
      case 'timeout': {
        const n = clampInt(value, 1, 30);
        if (n !== undefined) conf.timeoutMs = n * 1000;
        break;
      }
      case 'attempts': {
        const n = clampInt(value, 1, 5);
        if (n !== undefined) conf.attempts = n;
        break;
      }
      case 'rotate':
        conf.rotate = true;
        break;
      case 'edns0':
        conf.edns0 = true;
        break;
      case 'use-vc':
      case 'usevc':
        conf.useVc = true;
        break;
      default:
        break;
    }
  }
}

function searchList(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const d = w.replace(/\.+$/, '');
    if (d && !out.includes(d)) out.push(d);
    if (out.length >= MAX_SEARCH) break;
  }
  return out;
}

/** Parses resolv.conf text; `env` supplies LOCALDOMAIN / RES_OPTIONS overrides. */
export function parseResolvConf(text: string, env: { LOCALDOMAIN?: string; RES_OPTIONS?: string } = {}): ResolvConf {
  const conf = defaultResolvConf();
  for (const rawLine of String(text).split('\n')) {
    const line = rawLine.replace(/[;#].*$/, '').trim();
    if (!line) continue;
    const words = line.split(/\s+/);
    const keyword = words.shift();
    switch (keyword) {
      case 'nameserver':
        if (words[0] && conf.nameservers.length < MAX_NAMESERVERS && ipFamily(words[0]) !== 0) conf.nameservers.push(words[0]);
        break;
      case 'domain':
        conf.search = searchList(words.slice(0, 1));
        break;
      case 'search':
        conf.search = searchList(words);
        break;
      case 'options':
        applyOptions(conf, words);
        break;
      default:
        break;
    }
  }
  if (typeof env.LOCALDOMAIN === 'string') conf.search = searchList(env.LOCALDOMAIN.trim().split(/\s+/).filter(Boolean));
  if (typeof env.RES_OPTIONS === 'string') applyOptions(conf, env.RES_OPTIONS.trim().split(/\s+/).filter(Boolean));
  return conf;
}

/** One address for a name in /etc/hosts. */
export interface HostsEntry {
  address: string;
  family: 4 | 6;
}

/** Names (lower case, no trailing dot) to their addresses, in file order. */
export type HostsTable = Map<string, HostsEntry[]>;

/** Upper bound on names kept from /etc/hosts, so a huge block-list file cannot eat memory. */
export const MAX_HOSTS_NAMES = 100_000;

/** Lower-cases a name and drops one trailing dot, as names are keyed in a HostsTable. */
export function hostsKey(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/**
 * Parses /etc/hosts text: `address name [aliases...]`, `#` comments. Every line naming a host
 * contributes its address (glibc's getaddrinfo collects all of them, IPv4 and IPv6); duplicates
 * are dropped. IPv6 addresses with a zone are kept as written.
 */
export function parseHosts(text: string): HostsTable {
  const table: HostsTable = new Map();
  for (const rawLine of String(text).split('\n')) {
    const hash = rawLine.indexOf('#');
    const line = (hash >= 0 ? rawLine.slice(0, hash) : rawLine).trim();
    if (!line) continue;
    const words = line.split(/\s+/);
    const address = words[0];
    const family = ipFamily(address);
    if (family === 0) continue;
    for (let i = 1; i < words.length; i++) {
      const key = hostsKey(words[i]);
      if (!key) continue;
      let list = table.get(key);
      if (!list) {
        if (table.size >= MAX_HOSTS_NAMES) continue;
        list = [];
        table.set(key, list);
      }
      if (!list.some((e) => e.address === address)) list.push({ address, family });
    }
  }
  return table;
}

/**
 * The names to try for `name`, in order, per resolv.conf semantics (glibc `res_nsearch`): a name
 * with a trailing dot is tried as-is only; a name with at least `ndots` dots is tried as-is first,
 * then with each search domain; otherwise the search domains come first and the name as-is last.
 * Returned names have no trailing dot.
 */
export function searchCandidates(name: string, search: readonly string[], ndots: number): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  let dots = 0;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) === 46) dots++;
  const out: string[] = [];
  if (dots >= ndots) out.push(name);
  for (const domain of search) {
    const candidate = `${name}.${domain}`;
    if (candidate.length <= 253 && !out.includes(candidate)) out.push(candidate);
  }
  if (dots < ndots && !out.includes(name)) out.push(name);
  return out;
}
