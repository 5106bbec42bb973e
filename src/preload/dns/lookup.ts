/**
 * One `lookup()` call of the in-process resolver (Lookup): /etc/hosts, then each search candidate
 * with its A and/or AAAA question (QuestionRun) asked of the nameservers in turn, and the
 * `dnsQueries` records of its messages (QueryGroup). Results and errors as `dns.lookup` gives
 * them; see resolver.ts for the rules.
 */

import dns = require('node:dns');
import type { DnsQuery } from '../../trace/contract/dnsMessages';
import type { HostsEntry } from './resolvConf';
import {
  addressesOf,
  encodeQuery,
  errnoException,
  fqdn,
  QTYPE_CODE,
  randomId,
  rcodeName,
  recordAnswers,
  recordQuestions,
  type DecodedMsg,
  type QType,
} from './codec';
import type { DnsQueryMsg, DnsReplyMsg } from '../../trace/contract/dnsMessages';
import { nodeLookup } from './programLookup';
import { TcpExchange, type Exchange, type Server, type SocketOwner, type UdpChannel } from './sockets';
import { now } from '../clock/epoch';

/**
 * Fields of a `dnsQueries` record: the messages of one lookup over one connection (`connection`
 * for UDP, `tcpConn` for a TCP retry after truncation, or use-vc); the resolver always knows the
 * nameserver, the protocol, the name asked for and the per-try timeout.
 */
export type DnsQueryFields = Pick<DnsQuery, 'fromDial' | 'connection' | 'tcpConn' | 'dnsQueryMsgs' | 'dnsReplyMsgs'> &
  Required<Pick<DnsQuery, 'server' | 'proto' | 'host' | 'timeoutMs'>>;

/** `dns.lookup`-compatible function (the `lookup` option of net.connect and friends). */
export type LookupFunction = (hostname: string, options: dns.LookupOptions | number | LookupCallback, callback?: LookupCallback) => void;

/** The callback of a `dns.lookup` call. */
export type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | dns.LookupAddress[], family?: number) => void;

/** What a lookup needs of its resolver (ResolverImpl in resolver.ts): the configuration in force, sockets, records. */
export interface LookupHost extends SocketOwner {
  /** Lookups in flight (re-sent by flush, handed over by close). */
  readonly active: Set<Lookup>;
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly edns0: boolean;
  readonly useVc: boolean;
  serverOrder(): Server[];
  candidatesFor(name: string): string[];
  hostsFor(name: string, family: 0 | 4 | 6): HostsEntry[] | undefined;
  channelFor(server: Server, dialId: string | undefined): UdpChannel;
  emitQuery(id: string, f: DnsQueryFields): void;
}

/**
 * The `dns.lookup` the program would have used; lookups this resolver does not handle go to it
 * (Node's own, not the wrapper that gives a program's lookup function its DNS lookups).
 */
export const originalLookup: typeof dns.lookup = function (this: unknown, ...args: unknown[]): void {
  (nodeLookup() as (...a: unknown[]) => void).apply(this, args);
} as typeof dns.lookup;

/** Outcome kinds of one question after trying the nameservers. */
const ANSWER = 0;
const NXDOMAIN = 1;
const NODATA = 2;
/** A nameserver answered, but uselessly (SERVFAIL, REFUSED, malformed, ...): search goes on. */
const SERVER_FAIL = 3;
/** No nameserver answered at all (timeouts, port unreachable): search stops. */
const NO_ANSWER = 4;

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
export interface LookupOptions {
  family: 0 | 4 | 6;
  all: boolean;
  ipv6First: boolean;
}

/** `dns.lookup` options as this resolver handles them; undefined for anything it leaves to Node. */
export function parseOptions(options: unknown): LookupOptions | undefined {
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
export class Lookup {
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
    readonly resolver: LookupHost,
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
