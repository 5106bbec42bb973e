/** The DNS message trace's records (`dnsQueries[]`, with the in-process resolver: docs/trace-format.md). */

/** A question of a DNS message: the name with its trailing dot, the type name, the class. */
export interface DnsQuestion {
  name: string;
  type: string;
  class: number;
}

/** A resource record of a reply; `resolvedVal` is its data as text (names with a trailing dot). */
export interface DnsAnswer extends DnsQuestion {
  ttl: number;
  resolvedVal: string;
}

/** What DNS queries and replies share. */
interface DnsMessage {
  id: number;
  truncated: boolean;
  /** DNS message size in bytes (without TCP's 2-byte length prefix). */
  size: number;
  questions: DnsQuestion[];
}

/** A query message the in-process resolver sent. */
export interface DnsQueryMsg extends DnsMessage {
  sentAt: number;
  recursionDesired: boolean;
  /** Why no usable reply came: ETIMEOUT, ECONNREFUSED (port unreachable), ECANCELLED. */
  error?: string;
}

/** A reply message the resolver received (for `malformed`, only what could be read). */
export interface DnsReplyMsg extends DnsMessage {
  recvAt: number;
  authoritative: boolean;
  recursionAvailable: boolean;
  /** "no-error", "form-err", "serv-fail", "nx-domain", "not-imp", "refused", ... ("rcode-N"). */
  rCode: string;
  answers: DnsAnswer[];
  /** Set when the reply could not be decoded: the decoder's complaint. */
  malformed?: string;
}

/** DNS messages of one query (only with the DNS message trace). */
export interface DnsQuery {
  traceID: string;
  pid?: number;
  fromDial?: string;
  /** The UDP connection the messages went over. */
  connection?: string;
  /** The TCP connection, when a truncated reply was retried over TCP. */
  tcpConn?: string;
  /** The nameserver ("ip:port"). */
  server?: string;
  proto?: 'udp' | 'tcp';
  /** The name looked up (before search-list expansion). */
  host?: string;
  /** The per-try timeout in force. */
  timeoutMs?: number;
  dnsQueryMsgs: DnsQueryMsg[];
  dnsReplyMsgs: DnsReplyMsg[];
}
