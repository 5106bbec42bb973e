/**
 * The story of a lookup told by its DNS messages (the in-process resolver's `dnsQueries`
 * records), for diagnosis: "127.0.0.1:5353 did not answer within 5000 ms (2 attempts), then
 * 127.0.0.2:53 returned NXDOMAIN".
 */

import { formatMs, plural } from './sentence';
import type { DnsQuery } from '../contract/dnsMessages';

/** "nx-domain" to "NXDOMAIN", "serv-fail" to "SERVFAIL". */
function rcodeName(rCode: string): string {
  const known: Record<string, string> = {
    'no-error': 'NOERROR',
    'nx-domain': 'NXDOMAIN',
    'serv-fail': 'SERVFAIL',
    'form-err': 'FORMERR',
    'not-imp': 'NOTIMP',
  };
  return known[rCode] ?? rCode.replace(/-/g, '').toUpperCase();
}

/** What one nameserver did for one name: "did not answer within 5000 ms (2 attempts)", "returned NXDOMAIN". */
function serverOutcome(records: DnsQuery[]): string {
  const queries = records.flatMap((r) => r.dnsQueryMsgs);
  const replies = records.flatMap((r) => r.dnsReplyMsgs);
  const parts: string[] = [];
  const timedOut = queries.filter((q) => q.error === 'ETIMEOUT');
  if (timedOut.length > 0) {
    // Tries per question (A and AAAA go out in parallel): the most any one question got.
    const perQuestion = new Map<string, number>();
    for (const q of timedOut) {
      const k = q.questions.map((x) => `${x.name} ${x.type}`).join(',');
      perQuestion.set(k, (perQuestion.get(k) ?? 0) + 1);
    }
    // A loop, not Math.max(...values): a damaged trace's list may be longer than the stack holds arguments.
    let tries = 0;
    for (const n of perQuestion.values()) tries = Math.max(tries, n);
    const timeout = records.find((r) => typeof r.timeoutMs === 'number')?.timeoutMs;
    parts.push(`did not answer${timeout !== undefined ? ` within ${formatMs(timeout)} ms` : ''} (${plural(tries, 'attempt', 'attempts')})`);
  }
  if (queries.some((q) => q.error === 'ECONNREFUSED')) parts.push('refused the query (port unreachable)');
  const outcomes: string[] = [];
  const add = (s: string) => {
    if (!outcomes.includes(s)) outcomes.push(s);
  };
  for (const r of replies) {
    if (r.malformed) add('sent a malformed reply');
    else if (r.truncated) add('sent a truncated reply');
    else if (r.rCode && r.rCode !== 'no-error') add(`returned ${rcodeName(r.rCode)}`);
  }
  const addresses = replies.flatMap((r) => r.answers.filter((a) => a.type === 'A' || a.type === 'AAAA'));
  const noErrorReplies = replies.filter((r) => !r.malformed && !r.truncated && (r.rCode || 'no-error') === 'no-error');
  if (addresses.length > 0) outcomes.unshift('answered');
  else if (noErrorReplies.length > 0) add('returned no address records (NODATA)');
  if (outcomes.length > 0) parts.push(outcomes.slice(0, 2).join(' and '));
  const pending = queries.length > 0 && replies.length === 0 && timedOut.length === 0 && !queries.some((q) => q.error);
  if (pending) parts.push('had not answered');
  const other = queries.find((q) => q.error && q.error !== 'ETIMEOUT' && q.error !== 'ECONNREFUSED');
  if (parts.length === 0 && other) parts.push(`failed (${other.error})`);
  return parts.join(', then ') || 'was asked';
}

/** The story of a lookup's DNS messages (see the module comment); undefined when there are none. */
export function dnsStory(queries: DnsQuery[]): string | undefined {
  const views = queries.filter((q) => q.dnsQueryMsgs.length > 0);
  if (views.length === 0) return undefined;
  const firstSent = (q: DnsQuery) => q.dnsQueryMsgs.reduce((min, m) => Math.min(min, m.sentAt), Infinity);
  views.sort((a, b) => firstSent(a) - firstSent(b));
  const qname = (q: DnsQuery) => q.dnsQueryMsgs[0]?.questions[0]?.name || q.host || '';
  const names = new Set(views.map(qname));
  const groups = new Map<string, DnsQuery[]>();
  for (const q of views) {
    const key = `${q.server ?? '?'}|${q.proto ?? 'udp'}|${qname(q)}`;
    const g = groups.get(key);
    if (g) g.push(q);
    else groups.set(key, [q]);
  }
  const phrases: string[] = [];
  for (const g of groups.values()) {
    const label = `${g[0].server ?? 'a nameserver'}${g[0].proto === 'tcp' ? ' over TCP' : ''}`;
    const forName = names.size > 1 && qname(g[0]) ? ` for ${qname(g[0])}` : '';
    phrases.push(`${label} ${serverOutcome(g)}${forName}`);
  }
  const shown = phrases.length > 5 ? [...phrases.slice(0, 4), `${phrases.length - 4} more exchanges`] : phrases;
  return shown.join(', then ');
}
