/**
 * The detail of an incoming request (a group header of "Group by incoming request"): what it was,
 * where its time went (the diagnosis sentence), and its own waterfall: time in the program versus
 * time waiting on each call. A call's row selects that call; the handler's line opens in the editor.
 */

import type { IncomingRequest, StackFrame } from '../../src/trace/contract/incoming';
import { h, icon, type Child } from '../dom';
import { basename, formatMs } from '../format';
import { incomingWaterfall } from '../incomingWaterfall';
import type { Row } from '../model';
import type { DetailContext } from './common';
import { kv } from './common';

const pct = (f: number): string => `${(f * 100).toFixed(3)}%`;

/** One row of the waterfall table: a label, a bar at [left, left+width] of the span, a time. */
function barRow(label: Child, left: number, width: number, ms: number, cls: string, onClick?: () => void): HTMLElement {
  const seg = h('div', `seg ${cls}`);
  seg.style.left = pct(left);
  seg.style.width = pct(Math.max(width, 0.002));
  const row = h(
    'div',
    `timing-row${onClick ? ' clickable' : ''}`,
    { role: 'row' },
    h('div', 'timing-label', { role: 'cell' }, label),
    h('div', 'timing-bar', { role: 'cell' }, h('div', 'timing-track', null, seg)),
    h('div', 'timing-ms', { role: 'cell' }, formatMs(ms)),
  );
  if (onClick) row.addEventListener('click', onClick);
  return row;
}

/** The handler's line (`checkout · routes.ts:12`): a click opens it in the editor, as an initiator's frame does. */
function handlerLink(ctx: DetailContext, f: StackFrame): HTMLElement {
  const text = `${f.function ? `${f.function} · ` : ''}${basename(f.file)}:${f.line}`;
  const link = h('span', 'link handler-link', { role: 'link', tabindex: '0', title: `${f.file}:${f.line}:${f.column}` }, text);
  const open = (): void => ctx.events.openInitiator(f);
  link.addEventListener('click', open);
  link.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      open();
    }
  });
  return link;
}

/** The head (method, route or URL, status) and body of an incoming request's detail. */
export function renderIncoming(ctx: DetailContext, row: Row, inc: IncomingRequest): { head: Child[]; body: Child[] } {
  const head: Child[] = [
    h(
      'div',
      'detail-title',
      null,
      h('span', 'method', null, inc.reqMethod),
      h('span', 'url selectable', { title: inc.reqURL }, inc.route ?? inc.reqURL),
      h('span', `status-pill st-${row.cls}`, null, row.status),
    ),
  ];
  const calls = ctx.model.callsOf(inc.traceID).map((r) => r.req);
  const wf = incomingWaterfall(inc, calls);
  if (wf?.diagnosis) head.push(h('div', 'diagnosis warning', null, icon('info'), h('span', 'selectable', null, wf.diagnosis)));
  const body: Child[] = [];
  if (wf) {
    const table = h('div', 'timing-table incoming-waterfall', { role: 'table', 'aria-label': 'Where the time went' });
    table.append(barRow('In the program', 0, wf.totalMs ? wf.programMs / wf.totalMs : 0, wf.programMs, 'ph-blocked'));
    for (const b of wf.bars) {
      table.append(
        barRow(h('span', 'selectable', { title: b.label }, b.label), b.left, b.width, b.ms, 'ph-wait', () =>
          ctx.events.selectRequest(b.traceID),
        ),
      );
    }
    body.push(h('h3', null, null, `Where its ${formatMs(wf.totalMs)} went`), table);
    if (!wf.bars.length) body.push(h('div', 'note', null, 'It made no outgoing call.'));
  } else {
    body.push(h('div', 'placeholder', null, 'No time span yet for this incoming request.'));
  }
  const rows: Array<[string, Child]> = [
    ['URL', inc.reqURL],
    ['Route', inc.route ?? '— (the framework did not name one)'],
    ['Handler', inc.handler ? handlerLink(ctx, inc.handler) : '— (not a function of the program, or not known)'],
    ['Server', inc.server],
    ['Client', inc.addrTuple ? `${inc.addrTuple.srcIP}:${inc.addrTuple.srcPort}` : '—'],
    ['Calls', String(calls.length)],
    ['Id', inc.traceID],
  ];
  if (inc.incomplete) rows.push(['Incomplete', `still open when it ended (${inc.incomplete}): no status, no end`]);
  if (inc.aborted) rows.push(['Aborted', 'the client went away before the response finished']);
  if (inc.error) rows.push(['Error', inc.error.message]);
  body.push(h('h3', null, null, 'Incoming request'), kv(rows));
  return { head, body };
}
