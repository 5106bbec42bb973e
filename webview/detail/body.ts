/** The Body tab: the response and request bodies (only with the `bodies` option). */

import type { CapturedBody } from '../../src/trace/contract/types';
import { bodyView, MAX_SHOWN_TEXT } from '../body';
import { h, icon, type Child } from '../dom';
import { formatBytes, formatCount } from '../format';
import type { Row } from '../model';
import { kv, type DetailContext } from './common';

/** The Body tab: the response and request bodies (with the `bodies` option). */
export function renderBody(ctx: DetailContext, row: Row): Child[] {
  const req = row.req;
  if (!req.reqBody && !req.respBody && !ctx.model.bodiesRecorded) {
    return [
      h(
        'div',
        'placeholder',
        null,
        'Bodies were not recorded — enable ',
        h('code', null, null, 'bodies'),
        ' in the launch configuration or run with ',
        h('code', null, null, '--bodies'),
        '.',
      ),
    ];
  }
  const respMissing =
    row.cls === 'pending'
      ? 'No response yet.'
      : req.reqError && req.respStatusCode === undefined
        ? 'No response (the request failed).'
        : 'No response body.';
  return [
    ...bodySection('Response body', req.respBody, respMissing),
    ...bodySection('Request body', req.reqBody, req.reqContentLen ? 'Request body not captured.' : 'No request body.'),
  ];
}

/** One body: size, type and encoding, a truncation note, and the content (JSON, text or hex dump). */
function bodySection(title: string, body: CapturedBody | undefined, missing: string): Child[] {
  if (!body) return [h('h3', null, null, title), h('div', 'muted', null, missing)];
  const view = bodyView(body);
  const meta: Array<[string, Child]> = [
    ['Size', `${formatBytes(body.size)}${body.size >= 1000 ? ` (${formatCount(body.size)} bytes)` : ''}`],
    ['Content type', body.contentType ?? '—'],
  ];
  if (body.contentEncoding) meta.push(['Content encoding', `${body.contentEncoding} (shown as the encoded bytes)`]);
  meta.push([
    'Shown as',
    view.kind === 'json' ? 'JSON (re-indented)' : view.kind === 'text' ? 'text' : view.kind === 'hex' ? 'hex dump' : '—',
  ]);
  const out: Child[] = [h('h3', null, null, title), kv(meta)];
  if (body.truncated)
    out.push(
      h(
        'div',
        'note warning-text',
        { role: 'note' },
        icon('warning'),
        ` Truncated at ${formatCount(view.capturedBytes)} bytes: the body is ${formatCount(body.size)} bytes.`,
        ...(view.kind === 'hex'
          ? [' Binary and content-encoded bodies are recorded as a short preview.']
          : [' Raise the limit with ', h('code', null, null, '"bodies": BYTES'), ' or ', h('code', null, null, '--bodies=BYTES'), '.']),
      ),
    );
  if (view.cutForDisplay)
    out.push(
      h(
        'div',
        'note',
        null,
        view.kind === 'hex' ? 'The hex dump is cut for display.' : `Showing the first ${formatCount(MAX_SHOWN_TEXT)} characters.`,
      ),
    );
  if (view.kind === 'empty') out.push(h('div', 'muted', null, body.size === 0 ? 'Empty body.' : 'No content recorded.'));
  else if (view.kind === 'hex') {
    const lines = view.rows!.map((r) => `${r.offset}  ${r.hex}  |${r.ascii}|`).join('\n');
    out.push(h('pre', 'body-content hexdump selectable', null, lines));
  } else out.push(h('pre', `body-content ${view.kind} selectable`, null, view.text ?? ''));
  return out;
}
