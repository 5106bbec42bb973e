/**
 * DNS messages for the in-process resolver (resolver.ts): encoding a query, decoding a reply with
 * dns-packet, and turning a reply into what the trace records (questions, answers as text) and
 * what the lookup needs (the addresses, following CNAMEs). Pure functions, no sockets.
 */

import crypto = require('node:crypto');
import packet = require('dns-packet');
import type { DnsAnswer as DnsAnswerRecord, DnsQuestion as DnsQuestionRecord } from '../../trace/contract/dnsMessages';

/** CNAME links followed inside one reply. */
const MAX_CNAME_CHAIN = 16;
/** Answers kept per recorded reply. */
const MAX_RECORDED_ANSWERS = 64;
/** UDP payload size advertised with `options edns0`. */
const EDNS_UDP_SIZE = 1232;

const ERRNO = { ENOTFOUND: -3008, EAI_AGAIN: -3001 } as const;

/** The query types the resolver asks, with their codes. */
export const QTYPE_CODE = { A: 1, AAAA: 28 } as const;

/** A query type the resolver asks (A or AAAA). */
export type QType = keyof typeof QTYPE_CODE;

/** Random query ids, drawn from a pooled buffer (crypto-quality, cheap per query). */
const idPool = Buffer.alloc(512);
let idPos = idPool.length;

/** A random 16-bit query id. */
export function randomId(): number {
  if (idPos >= idPool.length) {
    crypto.randomFillSync(idPool);
    idPos = 0;
  }
  const id = idPool.readUInt16BE(idPos);
  idPos += 2;
  return id;
}

/** Encodes a standard recursive query for one question (name without trailing dot, ASCII). */
export function encodeQuery(id: number, name: string, qtype: number, edns: boolean): Buffer {
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
export function isQueryableName(name: string): boolean {
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

/** The rCode text of a reply ("nx-domain"; "rcode-N" for codes without a name). */
export function rcodeName(rcode: number): string {
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

/** A name with its trailing dot ("." for the root). */
export function fqdn(name: string): string {
  return name === '' || name === '.' ? '.' : name.endsWith('.') ? name : `${name}.`;
}

/** The shape of what dns-packet decodes (only the parts used here). */
export interface DecodedRR {
  name: string;
  type: string;
  class?: string;
  ttl?: number;
  data?: unknown;
}

/** A decoded message (the parts of dns-packet's result used here). */
export interface DecodedMsg {
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

/** The question section as recorded. */
export function recordQuestions(qs: DecodedMsg['questions'] | undefined): DnsQuestionRecord[] {
  const out: DnsQuestionRecord[] = [];
  if (!qs) return out;
  for (const q of qs) out.push({ name: fqdn(q.name), type: q.type, class: classCode(q.class) });
  return out;
}

/** The answer section as recorded, at most MAX_RECORDED_ANSWERS. */
export function recordAnswers(rrs: DecodedRR[] | undefined): DnsAnswerRecord[] {
  const out: DnsAnswerRecord[] = [];
  if (!rrs) return out;
  for (const rr of rrs) {
    if (out.length >= MAX_RECORDED_ANSWERS) break;
    out.push({ name: fqdn(rr.name), type: rr.type, class: classCode(rr.class), ttl: rr.ttl ?? 0, resolvedVal: resolvedVal(rr) });
  }
  return out;
}

/** Names equal ignoring case and a trailing dot. */
export function sameName(a: string, b: string): boolean {
  const x = a.endsWith('.') ? a.slice(0, -1) : a;
  const y = b.endsWith('.') ? b.slice(0, -1) : b;
  return x.length === y.length && x.toLowerCase() === y.toLowerCase();
}

/** Addresses of type `qtype` for `qname`, following CNAMEs inside the answer section. */
export function addressesOf(msg: DecodedMsg, qname: string, qtype: QType): string[] {
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

/** An error shaped like `dns.lookup`'s, with the detail in a non-enumerable `dnsCode`. */
export function errnoException(code: 'ENOTFOUND' | 'EAI_AGAIN', hostname: string, dnsCode: string): NodeJS.ErrnoException {
  const err = new Error(`getaddrinfo ${code} ${hostname}`) as NodeJS.ErrnoException & { hostname?: string };
  err.errno = ERRNO[code];
  err.code = code;
  err.syscall = 'getaddrinfo';
  err.hostname = hostname;
  Object.defineProperty(err, 'dnsCode', { value: dnsCode, enumerable: false, configurable: true, writable: true });
  return err;
}

/** Decodes a reply message; throws (dns-packet's complaint) when it is malformed or not a response. */
export function decodeReply(buf: Buffer): DecodedMsg {
  const msg = packet.decode(buf) as unknown as DecodedMsg;
  if (!msg.flag_qr) throw new Error('not a response (QR bit clear)');
  return msg;
}
