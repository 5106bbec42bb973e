/**
 * The line under the toolbar that names a rule just made from a row's menu when the panel has no
 * room for the Rules view beside the list and the detail (a short panel: webview/layout.ts): the
 * rule's name, what it does, its limit and counts as they change, and "Turn Off" (a what-if rule),
 * "Show Rules" (the view, on that rule) and a close button. One line, like VS Code's own info bars;
 * the Rules view is the drawer the user opens (RulesMessage `revealAs: 'line'`).
 */

import type { RuleRow, RulesMessage } from '../src/protocol/webview';
import { isWhatIf } from '../src/rules/whatIfActions';
import { h, icon, setSafeAttr, setText } from './dom';
import { whatIfSummary } from './ruleParts';

/** What the line asks of the panel. */
export interface RulesLineEvents {
  /** Open the Rules view on the rule (`id`). */
  showRules(id: string): void;
  /** Turn the rule off (its enabled toggle in the Rules view, which sends the change). */
  turnOff(id: string): void;
}

/** The line; hidden until `show`. */
export class RulesLine {
  readonly el: HTMLElement;
  private readonly iconEl = h('span', 'rules-line-icon');
  private readonly text = h('span', 'rules-line-text selectable');
  private readonly turnOff = h('button', 'button secondary rules-line-off', { type: 'button' }, 'Turn Off');
  private readonly showButton = h('button', 'button secondary rules-line-show', { type: 'button' }, 'Show Rules');
  private ruleId: string | undefined;

  constructor(private readonly events: RulesLineEvents) {
    const close = h(
      'button',
      'icon-button rules-line-close',
      { type: 'button', title: 'Close this line', 'aria-label': 'Close the line about the new rule' },
      icon('close'),
    );
    close.addEventListener('click', () => this.hide(true));
    this.turnOff.addEventListener('click', () => this.ruleId && this.events.turnOff(this.ruleId));
    this.showButton.addEventListener('click', () => {
      const id = this.ruleId;
      this.hide(false);
      if (id) this.events.showRules(id);
    });
    this.el = h(
      'section',
      'rules-line',
      { role: 'region', 'aria-label': 'New rule' },
      this.iconEl,
      this.text,
      this.turnOff,
      this.showButton,
      close,
    );
    this.el.hidden = true;
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        this.hide(true);
      }
    });
  }

  /** The rule the line names, if it shows. */
  get shown(): string | undefined {
    return this.el.hidden ? undefined : this.ruleId;
  }

  /** Shows the line on the rule `id` of `msg`. */
  show(id: string, msg: RulesMessage): void {
    this.ruleId = id;
    this.el.hidden = false;
    this.update(msg);
  }

  /** Hides the line; `focusBack`: the focus, if in it, goes to the list. */
  hide(focusBack: boolean): void {
    const had = this.el.contains(document.activeElement);
    this.el.hidden = true;
    if (focusBack && had) document.querySelector<HTMLElement>('.list-body')?.focus({ preventScroll: true });
  }

  /** New rows (counts, enabled): the line follows its rule; it goes when the rule does. */
  update(msg: RulesMessage): void {
    if (this.el.hidden || this.ruleId === undefined) return;
    const r = msg.rules.find((x) => x.id === this.ruleId);
    if (!r) return this.hide(false);
    const whatIf = isWhatIf(r.action);
    this.iconEl.replaceChildren(icon(whatIf ? 'beaker' : 'checklist'));
    setText(this.text, lineText(r));
    setSafeAttr(this.text, 'title', `${r.name} — ${r.condition}`);
    this.turnOff.hidden = !(whatIf && r.enabled);
    setSafeAttr(this.turnOff, 'aria-label', `Turn off ${r.name}: the program gets the real behaviour back`);
    setSafeAttr(this.showButton, 'aria-label', `Show Rules: ${r.name}`);
  }
}

/**
 * The line's words: `What-if rule on: "NAME" — fail refused · limit 1 per process · matched 2,
 * acted 1 · limit reached` (the Rules view's badges and counts, in one line).
 */
export function lineText(r: RuleRow): string {
  const whatIf = isWhatIf(r.action);
  const state = r.enabled ? 'on' : 'off';
  const does = whatIf ? whatIfSummary(r) : r.action;
  // What the limit counts, as the Rules view's badge says it: a rule whose row says its limit counts
  // per session (`limitPer`, where the host sends it) acts on that many in all.
  const per = (r as { limitPer?: string }).limitPer === 'session' ? 'in all' : 'per process';
  const parts = [
    `${whatIf ? 'What-if rule' : 'Rule'} ${state}: ${JSON.stringify(r.name)} — ${does}`,
    r.limit === null ? 'no limit' : `limit ${r.limit} ${per}`,
    `matched ${r.matched}, acted ${r.acted}`,
  ];
  if (r.limitReached) parts.push('limit reached');
  return parts.join(' · ');
}
