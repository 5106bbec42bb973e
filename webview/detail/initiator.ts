/** The Initiator tab: the stack that made the request, the program's frames first. */

import type { StackFrame } from '../../src/trace/contract/incoming';
import { NO_PROGRAM_FRAME } from '../../src/trace/derive/initiatorLine';
import { h, type Child } from '../dom';
import { basename } from '../format';
import type { Row } from '../model';
import type { DetailContext } from './common';

/** The Initiator tab: the program's frames, library frames collapsed under them. */
export function renderInitiator(ctx: DetailContext, row: Row): Child[] {
  const frames = row.req.initiator?.frames ?? [];
  if (!frames.length) {
    return [
      h(
        'div',
        'placeholder',
        null,
        'No initiator stack recorded for this request. Past its first 100 requests, a program gets stacks for as many requests as 1% of its time allows; set "initiator": "all" in the launch configuration (or nettrace.initiator) to record every one.',
      ),
    ];
  }
  // The program's frames first; library frames collapsed under them, greyed (like DevTools'
  // ignore-listed frames), never presented as the line that made the request.
  const own = frames.filter((f) => !f.library);
  const library = frames.filter((f) => f.library);
  const out: Child[] = [];
  const first = own[0];
  if (first && row.req.initiator?.async) {
    out.push(
      h(
        'div',
        'initiator-async muted',
        {
          title:
            "The program's frame was not on the stack that made the request: it was found through the async context (an await chain, or the call into the library that started the request later).",
        },
        `Started asynchronously from ${first.function || '(anonymous)'} (${basename(first.file)}:${first.line})`,
      ),
    );
  }
  if (!first)
    out.push(
      h(
        'div',
        'placeholder',
        null,
        `Made by ${NO_PROGRAM_FRAME}: none of the program's frames was found on this stack or its async context.`,
      ),
    );
  out.push(h('h3', null, null, 'Call stack'));
  if (own.length) out.push(frameList(ctx, own));
  if (library.length) {
    const details = h('details', 'library-frames');
    // Expanded when they are all there is; collapsed under the program's frames otherwise.
    details.open = !first;
    details.append(
      h('summary', 'muted', null, `${library.length} library frame${library.length === 1 ? '' : 's'}`),
      frameList(ctx, library),
    );
    out.push(details);
  }
  return out;
}

function frameList(ctx: DetailContext, frames: StackFrame[]): HTMLElement {
  const list = h('div', 'frames', { role: 'list' });
  for (const f of frames) {
    const loc = `${basename(f.file)}:${f.line}:${f.column}`;
    const open = (): void => ctx.events.openInitiator(f);
    const link = h('span', 'link', { role: 'link', tabindex: '0', title: `${f.file}:${f.line}:${f.column}` }, loc);
    link.addEventListener('click', open);
    link.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        open();
      }
    });
    list.append(
      h(
        'div',
        `frame${f.library ? ' library' : ''}`,
        { role: 'listitem' },
        h('span', 'fn', null, f.function || '(anonymous)'),
        link,
        h(
          'span',
          'path muted',
          { title: f.file },
          f.file,
          f.generated ? ` (generated ${basename(f.generated.file)}:${f.generated.line}:${f.generated.column})` : null,
        ),
      ),
    );
  }
  return list;
}
