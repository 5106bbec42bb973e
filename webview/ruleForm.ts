/**
 * The Rules view's add/edit form (webview/rulesView.ts): name, action, limit, tag, details,
 * condition and enabled, only native controls, labelled; the condition is checked as it is typed
 * by the same parser the host uses (bundled here), so an error shows with its column and a caret
 * before anything is sent. Escape cancels it.
 */

import type { RuleActionName, RuleDetailName, RuleDraft, RuleProblem, RuleRow } from '../src/protocol/webview';
import { RuleSyntaxError, RuleValidationError } from '../src/rules/errors';
import { validateRule } from '../src/rules/rule';
import { h, icon, setSafeAttr, setText } from './dom';
import { limitTitle } from './ruleParts';

const ACTIONS: ReadonlyArray<[RuleActionName, string]> = [
  ['trace', 'trace — record it fully'],
  ['skip', 'skip — do not record it'],
  ['details', 'details — capture more for it'],
  ['break', 'break — pause before it leaves'],
  ['mark', 'mark — give it a tag'],
];
const DETAILS: ReadonlyArray<[RuleDetailName, string]> = [
  ['bodies', 'bodies'],
  ['sockTrace', 'socket operations'],
  ['dnsTrace', 'DNS messages'],
];

/** The problem of a draft as the local parser sees it (the host checks again). */
export function checkDraft(d: RuleDraft): RuleProblem | undefined {
  try {
    validateRule({ ...d, id: d.id || 'new-rule', ...(d.name === '' ? { name: undefined } : {}) });
    return undefined;
  } catch (err) {
    if (err instanceof RuleSyntaxError)
      return { message: err.message, field: 'condition', reason: err.reason, offset: err.offset, column: err.column, excerpt: err.excerpt };
    if (err instanceof RuleValidationError) return { message: err.message, field: err.field };
    return { message: String(err), field: '' };
  }
}

let nextControlId = 0;

/** The add/edit form. */
export class RuleForm {
  readonly el: HTMLFormElement;
  private readonly name = h('input', 'input rule-input', { type: 'text', placeholder: 'Optional: the id when empty', spellcheck: 'false' });
  private readonly action = h('select', 'dropdown rule-select');
  private readonly condition = h('input', 'input rule-input mono rule-condition', {
    type: 'text',
    spellcheck: 'false',
    autocomplete: 'off',
    placeholder: 'host == "api.example.com" and method == "POST"',
  });
  private readonly limit = h('input', 'input rule-input rule-limit', { type: 'number', placeholder: 'none' });
  private readonly tag = h('input', 'input rule-input', { type: 'text', spellcheck: 'false', placeholder: 'the name when empty' });
  private readonly details = new Map<RuleDetailName, HTMLInputElement>();
  private readonly enabled = h('input', 'rule-check', { type: 'checkbox' });
  private readonly enabledHint = h('span', 'muted rule-hint', { id: `rule-hint-${++nextControlId}` });
  private readonly error = h('div', 'rule-error', { role: 'status', 'aria-live': 'polite' });
  private readonly tagRow: HTMLElement;
  private readonly detailsRow: HTMLElement;
  private readonly save = h('button', 'button', { type: 'submit' }, 'Save');
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The rule edited, or undefined for a new one. */
  editing: RuleRow | undefined;

  constructor(
    private readonly submit: (draft: RuleDraft) => void,
    private readonly cancel: () => void,
  ) {
    const uid = `rf${++nextControlId}`;
    for (const [value, label] of ACTIONS) this.action.append(h('option', null, { value }, label));
    this.limit.min = '1';
    this.limit.step = '1';
    const field = (label: string, control: HTMLElement, id: string, ...extra: Array<HTMLElement | string>) => {
      setSafeAttr(control, 'id', `${uid}-${id}`);
      return h('div', `rule-field rule-field-${id}`, null, h('label', 'rule-label', { for: `${uid}-${id}` }, label), control, ...extra);
    };
    setSafeAttr(this.error, 'id', `${uid}-error`);
    setSafeAttr(this.condition, 'aria-describedby', `${uid}-error`);
    setSafeAttr(this.enabled, 'aria-describedby', this.enabledHint.id);
    const detailBoxes = h('div', 'rule-details', { role: 'group', 'aria-label': 'Capture' });
    for (const [kind, label] of DETAILS) {
      const box = h('input', 'rule-check', { type: 'checkbox', 'aria-label': label });
      this.details.set(kind, box);
      detailBoxes.append(h('label', 'rule-inline', null, box, label));
    }
    this.tagRow = field('Tag', this.tag, 'tag');
    this.detailsRow = h('div', 'rule-field rule-field-details', null, h('span', 'rule-label', null, 'Capture'), detailBoxes);
    const cancelButton = h('button', 'button secondary', { type: 'button' }, 'Cancel');
    cancelButton.addEventListener('click', () => this.cancel());
    this.el = h(
      'form',
      'rule-form',
      { 'aria-label': 'Trace rule' },
      h(
        'div',
        'rule-grid',
        null,
        field('Name', this.name, 'name'),
        field('Action', this.action, 'action'),
        field('Limit', this.limit, 'limit'),
        this.tagRow,
        this.detailsRow,
        field('Condition', this.condition, 'condition'),
      ),
      this.error,
      h(
        'div',
        'rule-form-foot',
        null,
        h('label', 'rule-inline', null, this.enabled, 'Enabled'),
        this.enabledHint,
        h('span', 'rule-spacer'),
        this.save,
        cancelButton,
      ),
    );
    this.el.noValidate = true;
    this.el.addEventListener('submit', (e) => {
      e.preventDefault();
      const draft = this.draft();
      const problem = checkDraft(draft);
      if (problem) return this.showProblem(problem);
      this.submit(draft);
    });
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        this.cancel();
      }
    });
    this.action.addEventListener('change', () => {
      this.syncAction();
      this.check();
    });
    for (const el of [this.condition, this.limit, this.tag, this.name]) el.addEventListener('input', () => this.check());
  }

  /** Fills the form for a new rule (or one like `seed`) or for editing `rule`. */
  fill(rule: RuleRow | undefined): void {
    this.editing = rule;
    this.name.value = rule?.name ?? '';
    this.action.value = rule?.action ?? 'skip';
    this.condition.value = rule?.condition ?? '';
    this.limit.value = rule?.limit != null ? String(rule.limit) : '';
    // Say what the limit counts: per process (a rule made here), or in all (one from a request's menu).
    setSafeAttr(this.limit, 'title', limitTitle(rule));
    this.tag.value = rule?.tag !== undefined && rule.tag !== rule.name ? rule.tag : '';
    for (const [kind, box] of this.details) box.checked = (rule?.details ?? ['bodies']).includes(kind);
    // A new rule starts disabled unless asked (as everywhere rules are objects: docs/rules.md).
    this.enabled.checked = rule?.enabled ?? false;
    setText(this.enabledHint, rule ? '' : 'A new rule starts disabled unless you tick this.');
    setText(this.save, rule ? 'Save' : 'Create rule');
    this.syncAction();
    this.showProblem(undefined);
  }

  /** Focuses the first field of a new rule, the condition of an edited one. */
  focus(): void {
    (this.editing ? this.condition : this.name).focus();
  }

  private syncAction(): void {
    this.tagRow.hidden = this.action.value !== 'mark';
    this.detailsRow.hidden = this.action.value !== 'details';
  }

  /** The draft the form describes. */
  draft(): RuleDraft {
    const action = this.action.value as RuleActionName;
    const limitText = this.limit.value.trim();
    const limitNum = Number(limitText);
    const d: RuleDraft = {
      name: this.name.value.trim(),
      condition: this.condition.value,
      action,
      // validateRule words a bad limit ("a whole number ≥ 1, or empty for none").
      limit: limitText === '' ? null : Number.isFinite(limitNum) ? limitNum : (limitText as unknown as number),
      enabled: this.enabled.checked,
    };
    if (this.editing) d.id = this.editing.id;
    if (action === 'mark' && this.tag.value.trim() !== '') d.tag = this.tag.value.trim();
    if (action === 'details') d.details = DETAILS.map(([k]) => k).filter((k) => this.details.get(k)!.checked);
    return d;
  }

  /** Checks the draft as it is typed (debounced). */
  private check(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const p = checkDraft(this.draft());
      // While typing, an empty condition is not an error yet.
      this.showProblem(p && !(p.field === 'condition' && this.condition.value.trim() === '') ? p : undefined, false);
    }, 150);
  }

  /** Shows a problem (the condition's with its column, and a caret line screen readers skip) or clears it. */
  showProblem(p: RuleProblem | undefined, moveFocus = true): void {
    clearTimeout(this.timer);
    const controls: Record<string, HTMLElement> = {
      condition: this.condition,
      limit: this.limit,
      name: this.name,
      tag: this.tag,
      action: this.action,
    };
    for (const c of Object.values(controls)) c.removeAttribute('aria-invalid');
    this.error.replaceChildren();
    this.el.classList.toggle('has-error', p !== undefined);
    if (!p) return;
    const target = controls[p.field] ?? (p.field === 'id' ? this.name : undefined);
    if (target) setSafeAttr(target, 'aria-invalid', 'true');
    if (p.column !== undefined && p.reason !== undefined) {
      this.error.append(
        h('div', null, null, icon('error'), ` ${p.reason} `, h('span', 'rule-error-col', null, `(column ${p.column})`)),
        h('pre', 'rule-caret mono selectable', { 'aria-hidden': 'true' }, p.excerpt ?? ''),
      );
      if (moveFocus && p.offset !== undefined) {
        this.condition.focus();
        this.condition.setSelectionRange(p.offset, Math.min(this.condition.value.length, p.offset + 1));
      }
    } else {
      this.error.append(h('div', null, null, icon('error'), ` ${p.message}`));
      if (moveFocus) target?.focus();
    }
  }
}
