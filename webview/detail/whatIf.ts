/**
 * The detail's line when Net Trace itself had a hand in the request (docs/rules.md): the what-if
 * rule that made what the program received, by name, and what it did; or the request it repeats
 * (Send Again), as a link.
 */
import type { HttpRequest } from '../../src/trace/contract/types';
import { whatIfWords } from '../../src/trace/diagnosis/whatIfText';
import { h, icon } from '../dom';

/** The line, or undefined when neither applies. */
export function whatIfLine(req: HttpRequest, select: (traceID: string) => void): HTMLElement | undefined {
  const w = req.whatIf;
  if (!w && !req.repeatOf) return undefined;
  const out = h('div', 'detail-whatif');
  if (w) {
    out.append(
      icon('beaker'),
      h(
        'span',
        'selectable',
        null,
        `What if: rule "${w.rule}" ${whatIfWords(w)}. Turn the rule off in the Rules view to get the real behaviour back.`,
      ),
    );
  }
  if (req.repeatOf) {
    const id = req.repeatOf;
    const link = h('span', 'link', { role: 'link', tabindex: '0' }, 'the request it repeats');
    link.addEventListener('click', () => select(id));
    link.addEventListener('keydown', (e) => e.key === 'Enter' && select(id));
    out.append(icon('refresh'), h('span', null, null, 'Sent again from the panel (Send Again): see ', link, '.'));
  }
  return out;
}
