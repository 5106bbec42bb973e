/**
 * The detail's line when Net Trace itself had a hand in the request (docs/rules.md): the what-if
 * rule that made what the program received, by its name, what it did and what the program saw (the
 * request's diagnosis, which says so first: the detail shows it here, once, not a second time
 * below); or the request it repeats (Send Again), as a link.
 */
import type { HttpRequest } from '../../src/trace/contract/types';
import { whatIfClause, whatIfSentence } from '../../src/trace/diagnosis/whatIfText';
import { h, icon } from '../dom';

/** The request's diagnosis when it is the what-if rule's sentence (src/trace/enrich.ts), else undefined. */
export function whatIfDiagnosis(req: Pick<HttpRequest, 'whatIf' | 'diagnosis'>): string | undefined {
  const d = req.diagnosis;
  return req.whatIf && d?.startsWith(whatIfClause(req.whatIf)) ? d : undefined;
}

/** The words of the what-if line: the rule by its name, what it did, what the program saw, how to undo it. */
export function whatIfText(req: Pick<HttpRequest, 'whatIf' | 'diagnosis'>): string | undefined {
  if (!req.whatIf) return undefined;
  const said = whatIfDiagnosis(req) ?? whatIfSentence(req.whatIf);
  return `${said}${/[.!?]$/.test(said) ? '' : '.'} Turn the rule off in the Rules view to get the real behaviour back.`;
}

/** Words past which a narrow detail shows the line's first lines and a "More" button (detail.css). */
const LONG_TEXT = 140;
/** The request whose line the user opened whole ("More"), kept while the detail is drawn again. */
let openFor: string | undefined;

/** The line, or undefined when neither applies. */
export function whatIfLine(req: HttpRequest, select: (traceID: string) => void): HTMLElement | undefined {
  const text = whatIfText(req);
  if (text === undefined && !req.repeatOf) return undefined;
  const out = h('div', 'detail-whatif');
  if (text !== undefined) {
    // In a narrow detail (beside the list, 200% zoom) a long line shows its first lines, the rule
    // and what it did, so that the tabs and their content keep their room; "More" shows it whole.
    const long = text.length > LONG_TEXT;
    const open = long && openFor === req.traceID;
    out.classList.toggle('long', long);
    out.classList.toggle('open', open);
    const words = h('span', 'selectable whatif-text', null, text);
    const body = h('span', 'whatif-body', null, words);
    out.append(h('div', 'whatif-part', null, icon('beaker'), body));
    if (long) {
      // Its word ("More", "Less") is drawn by detail.css: the line's text stays the sentence alone.
      const more = h('button', 'link-button whatif-more', {
        type: 'button',
        'aria-expanded': String(open),
        'aria-label': 'The whole what-if line',
      });
      more.addEventListener('click', () => {
        const now = !out.classList.contains('open');
        openFor = now ? req.traceID : undefined;
        out.classList.toggle('open', now);
        more.setAttribute('aria-expanded', String(now));
      });
      body.append(more);
    }
  }
  if (req.repeatOf) {
    const id = req.repeatOf;
    const link = h('span', 'link', { role: 'link', tabindex: '0' }, 'the request it repeats');
    link.addEventListener('click', () => select(id));
    link.addEventListener('keydown', (e) => e.key === 'Enter' && select(id));
    out.append(
      h('div', 'whatif-part', null, icon('refresh'), h('span', null, null, 'Sent again from the panel (Send Again): see ', link, '.')),
    );
  }
  return out;
}
