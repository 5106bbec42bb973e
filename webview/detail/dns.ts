/**
 * The DNS tab: the lookups of the request's dial, then, with the DNS message trace, each query
 * and reply of the in-process resolver on one time line, and the answers of each reply.
 */

import type { DnsAnswer, DnsQuery, DnsQueryMsg, DnsQuestion, DnsReplyMsg } from '../../src/trace/contract/dnsMessages';
import { h, icon, type Child } from '../dom';
import { formatAt, formatBytes, formatCount, formatHostPort, formatMs } from '../format';
import type { Row } from '../model';
import { badge, dialOf, kv, lookupTable, table, type DetailContext } from './common';

/** DNS answers rendered per reply; the rest are counted. */
const MAX_DNS_ANSWERS_SHOWN = 100;

/** The DNS tab: the lookups of the request's dial, then its DNS messages (DNS message trace). */
export function renderDns(ctx: DetailContext, row: Row): Child[] {
  const req = row.req;
  const dial = dialOf(ctx.model, req);
  if (!dial)
    return [
      h(
        'div',
        'placeholder',
        null,
        req.reusedConn ? 'Reused connection: its name was resolved before this trace began.' : 'No DNS information for this request.',
      ),
    ];
  const out: Child[] = [];
  if (!req.dial) out.push(h('div', 'note', null, `Reused connection: the lookups of the dial that opened it (${dial.traceID}).`));
  out.push(h('h3', null, null, `Lookups (${dial.dnsLookups.length})`), lookupTable(dial.dnsLookups));
  const queries = ctx.model.dnsQueriesOf(dial.traceID);
  if (!queries.length) {
    if (ctx.model.dnsTraced)
      out.push(h('div', 'note', null, 'No DNS messages for this dial (an IP address, /etc/hosts, or a cached answer).'));
    else
      out.push(
        h(
          'div',
          'note',
          null,
          'DNS messages were not recorded — enable ',
          h('code', null, null, 'dnsTrace'),
          ' in the launch configuration or run with ',
          h('code', null, null, '--dns-trace'),
          '.',
        ),
      );
    return out;
  }
  for (const q of queries) out.push(...dnsQuerySection(ctx, q));
  return out;
}

/** One record of DNS messages: server, protocol, socket, time, result, then its messages and answers. */
function dnsQuerySection(ctx: DetailContext, q: DnsQuery): Child[] {
  const queries = q.dnsQueryMsgs;
  const replies = q.dnsReplyMsgs;
  const udp = q.connection ? ctx.model.udpConns.get(q.connection) : undefined;
  const tcp = q.tcpConn ? ctx.model.tcpConns.get(q.tcpConn) : undefined;
  const a = udp?.addrTuple ?? tcp?.addrTuple;
  const first = queries.length ? Math.min(...queries.map((m) => m.sentAt)) : undefined;
  const last = replies.length ? Math.max(...replies.map((m) => m.recvAt)) : undefined;
  const lastReply = replies[replies.length - 1];
  const errors = queries.map((m) => m.error).filter((e): e is string => !!e);
  const result: Child = lastReply
    ? rcodeBadge(lastReply.rCode)
    : errors.length
      ? h('span', 'error-text', null, errors[errors.length - 1])
      : 'no reply';
  const proto = q.proto ? q.proto.toUpperCase() : '—';
  const out: Child[] = [
    h('h3', null, null, 'DNS messages ', h('span', 'h3-detail', null, `— ${q.host || '?'} via ${q.server || '?'} (${proto})`)),
    kv([
      ['Server', q.server || '—'],
      ['Protocol', proto],
      ['Socket', a ? `${formatHostPort(a.srcIP, a.srcPort)} → ${formatHostPort(a.dstIP, a.dstPort)}` : '—'],
      ['Timeout per try', q.timeoutMs !== undefined ? formatMs(q.timeoutMs) : '—'],
      ['Time', first !== undefined && last !== undefined ? `${formatMs(last - first)} (first query to last reply)` : '—'],
      ['Result', result],
    ]),
  ];
  // Queries and replies on one time line.
  const msgs = [...queries.map(queryRow), ...replies.map(replyRow)].sort((x, y) => x.at - y.at);
  out.push(
    table(
      ['Time', 'Message', 'ID', 'Question', 'Result', 'Size · flags'],
      msgs.map((x) => x.row),
    ),
  );
  for (const m of replies) out.push(...answersSection(m));
  return out;
}

function queryRow(m: DnsQueryMsg): { at: number; row: Child[] } {
  const flags = [m.recursionDesired ? 'RD' : '', m.truncated ? 'TC' : ''].filter(Boolean).join(' ');
  return {
    at: m.sentAt,
    row: [
      formatAt(m.sentAt),
      h('span', null, null, icon('arrow-right'), ' query'),
      idText(m.id),
      questionsText(m.questions),
      m.error ? h('span', 'error-text', null, m.error) : '',
      `${formatBytes(m.size)}${flags ? ` · ${flags}` : ''}`,
    ],
  };
}

function replyRow(m: DnsReplyMsg): { at: number; row: Child[] } {
  const flags = [m.authoritative ? 'AA' : '', m.recursionAvailable ? 'RA' : '', m.truncated ? 'TC' : ''].filter(Boolean).join(' ');
  const answers = m.answers.length;
  return {
    at: m.recvAt,
    row: [
      formatAt(m.recvAt),
      h('span', null, null, icon('arrow-left'), ' reply'),
      idText(m.id),
      questionsText(m.questions),
      h(
        'span',
        null,
        null,
        rcodeBadge(m.rCode),
        m.malformed ? h('span', 'error-text', null, ` ${m.malformed}`) : '',
        ` ${answers} answer${answers === 1 ? '' : 's'}`,
      ),
      `${formatBytes(m.size)}${flags ? ` · ${flags}` : ''}`,
    ],
  };
}

/** The answers of one reply, capped; nothing for a reply without answers. */
function answersSection(m: DnsReplyMsg): Child[] {
  const answers = m.answers;
  if (!answers.length) return [];
  const shown = answers
    .slice(0, MAX_DNS_ANSWERS_SHOWN)
    .map((r: DnsAnswer) => [r.name, r.type, `${r.ttl} s`, h('span', 'mono', null, r.resolvedVal)]);
  const out: Child[] = [
    h('div', 'subhead', null, `Answers of reply ${idText(m.id)} (${answers.length})`),
    table(['Name', 'Type', 'TTL', 'Value'], shown),
  ];
  if (answers.length > shown.length)
    out.push(h('div', 'note', null, `${formatCount(answers.length - shown.length)} more answers not shown.`));
  return out;
}

/** "no-error" as a quiet badge, anything else as an error badge. */
function rcodeBadge(rcode: string): HTMLElement {
  if (!rcode) return h('span', 'muted', null, '—');
  return rcode === 'no-error' ? badge(rcode, 'neutral') : badge(rcode, 'error');
}

/** "example.test. A, example.test. AAAA" from a message's questions. */
function questionsText(questions: DnsQuestion[]): string {
  if (!questions.length) return '—';
  return questions.map((q) => `${q.name} ${q.type}`.trim()).join(', ');
}

/** "#34311" for a DNS message id. */
function idText(id: number): string {
  return `#${id}`;
}
