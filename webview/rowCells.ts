/**
 * Parts of a request list row (list.ts) beside its plain texts: the initiator, shown in the
 * Initiator column and under the URL while that column is collapsed for lack of width; the row's
 * VS Code context.
 */

import { NO_PROGRAM_FRAME } from '../src/trace/derive/initiatorLine';
import { whatIfClause } from '../src/trace/diagnosis/whatIfText';
import { notRecorded, replaySentence } from '../src/trace/diagnosis/replayText';
import type { ReplayMark } from '../src/trace/contract/replayMark';
import { h, icon, setSafeAttr, setText } from './dom';
import { initiatorFrame } from './format';
import type { Row } from './model';

/**
 * Shows a row's initiator in `el` (the Initiator cell, or the line under the URL): the program's
 * line as a link (a click jumps to it), "library" when the stack has library frames only (the
 * Initiator tab has them), else nothing.
 */
export function showInitiator(el: HTMLElement, row: Row): void {
  const req = row.req;
  if (row.initiator) {
    let link = el.firstChild as HTMLElement | null;
    if (!link || !link.classList.contains('link')) {
      link = h('span', 'link', null, h('span', 'init-file'), h('span', 'init-pos'));
      el.replaceChildren(link);
    }
    // File and ":line" apart, so that a cut-off file name keeps its line number (list.css).
    const colon = row.initiator.lastIndexOf(':');
    setText(link.firstChild as HTMLElement, colon > 0 ? row.initiator.slice(0, colon) : row.initiator);
    setText(link.lastChild as HTMLElement, colon > 0 ? row.initiator.slice(colon) : '');
    const f = initiatorFrame(req);
    const how = req.initiator?.async ? 'started asynchronously from ' : '';
    if (f) setSafeAttr(el, 'title', `${how}${f.function ?? '(anonymous)'} — ${f.file}:${f.line}:${f.column}`);
  } else if (req.initiator?.frames.length) {
    // Only library frames: say so, never point at a library line (the Initiator tab has them).
    el.replaceChildren(h('span', 'muted', null, 'library'));
    setSafeAttr(el, 'title', `Made by ${NO_PROGRAM_FRAME}: see the Initiator tab`);
  } else {
    el.replaceChildren();
    el.removeAttribute('title');
  }
}

/**
 * A row's `data-vscode-context`: VS Code merges it with its ancestors' (the list carries the
 * `traceKey`) into the context of the "webview/context" menu's `when` clauses and the argument of
 * the command run (src/extension/copyCommands.ts). The menu replaces the default Cut/Copy/Paste.
 */
export function requestContext(req: Row['req']): string {
  return JSON.stringify({
    webviewSection: 'request',
    traceID: req.traceID,
    requestHasBody: req.respBody?.text !== undefined,
    preventDefaultContextMenuItems: true,
  });
}

/** A replayed request's badge words (docs/replay.md): answered from the recording, not in it, or not replayed (notRecorded). */
export function replayBadge(m: ReplayMark): string {
  if (m.outcome === 'replayed') return 'replayed';
  const what = notRecorded(m) ? 'not in recording' : 'not replayed';
  return m.outcome === 'passed' ? `${what}, passed` : what;
}

/**
 * The badge before a row's URL when Net Trace itself had a hand in the request: a replay answered
 * it or did not find it ("replayed", "not in recording", docs/replay.md), a what-if rule
 * made what the program received ("what if", docs/rules.md) or the user sent it again from the
 * panel ("sent again"). An icon and words, never colour alone; returns the words for the row's
 * accessible name ('' when none), the badge's tooltip naming the rule and what it did.
 */
export function showRowFlags(el: HTMLElement, req: Row['req']): string {
  const w = req.whatIf;
  const r = req.replay;
  const parts: string[] = [];
  if (r) parts.push(replayBadge(r));
  if (w) parts.push('what if');
  if (req.repeatOf) parts.push('sent again');
  const text = parts.join(' · ');
  const title =
    text === ''
      ? ''
      : [
          r ? replaySentence(r, req) : '',
          w ? whatIfClause(w) : '',
          req.repeatOf ? `Sent again from the panel (repeats ${req.repeatOf})` : '',
        ]
          .filter(Boolean)
          .join('; ');
  // Kept while both are the same (a pooled row drawn again; another request the same rule changed).
  if (el.dataset.text === text && (el.dataset.label ?? '') === title) return title;
  el.dataset.text = text;
  // On two lines the badge takes a column of its own beside the program's line (list.css).
  el.parentElement?.classList.toggle('has-flag', text !== '');
  if (!text) {
    el.replaceChildren();
    el.removeAttribute('title');
    el.dataset.label = '';
    return '';
  }
  el.replaceChildren(icon(r ? 'debug-restart' : w ? 'beaker' : 'refresh', 'flag-icon'), h('span', 'flag-text', null, text));
  el.classList.toggle('flag-unmatched', r !== undefined && r.outcome !== 'replayed');
  setSafeAttr(el, 'title', title);
  el.dataset.label = title;
  return title;
}
