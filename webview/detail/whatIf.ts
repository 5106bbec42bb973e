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

/** The line, or undefined when neither applies. */
export function whatIfLine(req: HttpRequest, select: (traceID: string) => void): HTMLElement | undefined {
  const text = whatIfText(req);
  if (text === undefined && !req.repeatOf) return undefined;
  const out = h('div', 'detail-whatif');
  if (text !== undefined) out.append(icon('beaker'), h('span', 'selectable', null, text));
  if (req.repeatOf) {
    const id = req.repeatOf;
    const link = h('span', 'link', { role: 'link', tabindex: '0' }, 'the request it repeats');
    link.addEventListener('click', () => select(id));
    link.addEventListener('keydown', (e) => e.key === 'Enter' && select(id));
    out.append(icon('refresh'), h('span', null, null, 'Sent again from the panel (Send Again): see ', link, '.'));
  }
  return out;
}
