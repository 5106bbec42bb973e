/**
 * The "while serving" block of the detail's head: for a request a server made while it handled an
 * incoming request (`causedBy`), that incoming request (method, route or path, status, time), the
 * sentence that says where its time went, and the other calls it made, each one click away.
 */

import type { IncomingRequest } from '../../src/trace/contract/incoming';
import { callLabel, diagnoseIncoming } from '../../src/trace/diagnosis/incomingDiagnosis';
import type { HttpRequest } from '../../src/trace/contract/types';
import { h, icon } from '../dom';
import { formatMs, formatStatus, splitUrl } from '../format';
import type { DetailContext } from './common';

/** Most sibling calls listed; the rest are counted. */
export const MAX_CALLS_SHOWN = 12;

/** What the block says of the incoming request: `POST /checkout/:id · 200 · 382 ms`. */
export function incomingSummary(inc: IncomingRequest): string {
  const what = inc.route ?? splitUrl(inc.reqURL).path;
  const status = inc.incomplete
    ? `incomplete (${inc.incomplete})`
    : inc.aborted
      ? 'aborted by the client'
      : inc.error
        ? `failed: ${inc.error.message}`
        : inc.respStatusCode;
  const end = inc.reqEndAt ?? inc.respDoneAt;
  const took = end !== undefined && inc.reqRecvAt !== undefined ? formatMs(end - inc.reqRecvAt) : inc.incomplete ? undefined : 'open';
  return [`${inc.reqMethod} ${what}`.trim(), status, took].filter((p) => p !== undefined && p !== '').join(' · ');
}

/** The block, or undefined for a request made outside any incoming request. */
export function renderCause(ctx: DetailContext, req: HttpRequest): HTMLElement | undefined {
  const id = req.causedBy;
  if (id === undefined) return undefined;
  const inc = ctx.model.incoming.get(id);
  const calls: HttpRequest[] = [];
  for (const row of ctx.model.rows) if (row.req.causedBy === id) calls.push(row.req);
  const head = h(
    'div',
    'cause-head',
    null,
    icon('server-process'),
    h('span', 'muted', null, 'Made while serving '),
    h('span', 'selectable', { title: inc?.reqURL ?? id }, inc ? incomingSummary(inc) : id),
    h('span', 'muted', null, ` (${id}, ${calls.length} call${calls.length === 1 ? '' : 's'})`),
  );
  const out = h('div', 'cause', { 'data-incoming': id }, head);
  const sentence = inc ? diagnoseIncoming(inc, calls) : undefined;
  if (sentence) out.append(h('div', 'cause-diagnosis selectable', null, sentence));
  if (calls.length > 1) {
    const list = h('ul', 'cause-calls');
    for (const call of calls.slice(0, MAX_CALLS_SHOWN)) {
      const text = `${callLabel(call)} · ${formatStatus(call)}`;
      if (call.traceID === req.traceID) {
        list.append(h('li', 'current', { title: 'This request' }, text));
        continue;
      }
      const b = h('button', 'link-button', { type: 'button', title: 'Show this call' }, text);
      b.addEventListener('click', () => ctx.events.selectRequest(call.traceID));
      list.append(h('li', null, null, b));
    }
    if (calls.length > MAX_CALLS_SHOWN) list.append(h('li', 'muted', null, `and ${calls.length - MAX_CALLS_SHOWN} more`));
    out.append(list);
  }
  return out;
}
