/**
 * The panel's Rules view (docs/rules.md, "In VS Code"): the trace rules of the shown session —
 * name, condition, action, limit, an enabled toggle, matched/acted counts updated live and
 * "limit reached" — with add, edit, toggle and delete. For a trace that is not recording it lists
 * the workspace's rules (used by the next session) and, read only, the rules saved in the trace.
 *
 * Every change is a `ruleEdit` to the host, which validates it (src/rules) and answers with a
 * `ruleResult`; the form also checks the condition as it is typed (the same parser, bundled
 * here: webview/ruleForm.ts), so an error shows with its column and a caret before anything is
 * sent. Only native controls (checkbox, buttons, inputs, select): keyboard reachable in order;
 * Escape cancels the form, then closes the view.
 */

import type { RuleDraft, RuleEditMessage, RuleResultMessage, RuleRow, RulesMessage } from '../src/protocol/webview';
import { h, icon, setSafeAttr, setText } from './dom';
import { RuleForm } from './ruleForm';
import { actionBadge, countsOf, limitBadges, matchedWords, turnOffButton } from './ruleParts';
import { isWhatIf } from '../src/rules/whatIfActions';

/** The Rules view. */
export class RulesView {
  readonly el: HTMLElement;
  private readonly scopeNote = h('div', 'rules-scope muted');
  private readonly list = h('ul', 'rules-list', { 'aria-label': 'Trace rules' });
  private readonly savedList = h('ul', 'rules-list rules-saved-list', { 'aria-label': 'Rules saved with this trace' });
  private readonly saved = h(
    'details',
    'rules-saved',
    null,
    h('summary', null, null, 'Rules saved with this trace (read only)'),
    this.savedList,
  );
  private readonly empty = h('div', 'rules-empty muted');
  private readonly addButton = h('button', 'button rules-add', { type: 'button' }, icon('add'), ' Add rule');
  private readonly form: RuleForm;
  /** Where the form sits while a rule is edited: a list item right after that rule's. */
  private readonly formSlot = h('li', 'rule-form-slot');
  /** The list items by rule id, with what they show: a live counter update rewrites only the counts. */
  private items = new Map<string, { li: HTMLLIElement; sig: string }>();
  private msg: RulesMessage | undefined;
  private nextRequest = 1;
  private readonly pending = new Map<number, (r: RuleResultMessage) => void>();
  /** The rule whose delete asks for a confirmation. */
  private confirming: string | undefined;
  private revealId: string | undefined;
  /** The rule shown highlighted (the last one revealed), until the view closes. */
  private highlight: string | undefined;
  isOpen = false;

  /** The toolbar's toggle (with the count of enabled rules); the app places it. */
  readonly toggle: HTMLButtonElement;
  private readonly count = h('span', 'rules-count', { 'aria-hidden': 'true' });

  /** `post` sends a rule change to the host. */
  constructor(
    private readonly post: (msg: RuleEditMessage) => void,
    /** Told when the view opens or closes (the panel keeps it in its state). */
    private readonly onOpenChange: (open: boolean) => void = () => {},
    /** A rule just made (`revealAs: 'line'`) while the view is closed: true when the panel named it elsewhere (webview/rulesLine.ts). */
    private readonly revealLine: (id: string, msg: RulesMessage) => boolean = () => false,
  ) {
    this.toggle = h(
      'button',
      'toggle rules-toggle',
      { type: 'button', title: 'Trace rules: what is recorded, skipped, paused on', 'aria-label': 'Trace rules', 'aria-pressed': 'false' },
      icon('checklist'),
      'Rules',
      this.count,
    );
    this.count.hidden = true;
    this.toggle.addEventListener('click', () => this.setOpen(!this.isOpen));
    this.form = new RuleForm(
      (draft) => this.submit(draft),
      () => this.closeForm(),
    );
    this.form.el.hidden = true;
    const close = h(
      'button',
      'icon-button rules-close',
      { type: 'button', title: 'Close the Rules view', 'aria-label': 'Close the Rules view' },
      icon('close'),
    );
    close.addEventListener('click', () => this.setOpen(false));
    this.addButton.addEventListener('click', () => this.openForm(undefined));
    this.el = h(
      'section',
      'rules-view',
      { 'aria-label': 'Trace rules', role: 'region' },
      h('div', 'rules-head', null, h('h2', 'rules-title', null, 'Trace rules'), h('span', 'rule-spacer'), this.addButton, close),
      this.scopeNote,
      this.form.el,
      this.list,
      this.empty,
      this.saved,
    );
    this.el.hidden = true;
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.preventDefault();
        if (this.confirming !== undefined) {
          this.confirming = undefined;
          this.render();
        } else this.setOpen(false);
      }
    });
  }

  /** Opens or closes the view; opening focuses it unless `focus` is false. */
  setOpen(open: boolean, focus = true): void {
    if (this.isOpen === open) return;
    this.isOpen = open;
    this.onOpenChange(open);
    this.el.hidden = !open;
    if (!open) {
      this.highlight = undefined;
      this.closeForm(false);
    }
    setSafeAttr(this.toggle, 'aria-pressed', String(open));
    this.toggle.classList.toggle('on', open);
    const active = document.activeElement;
    if (!open && (!active || active === document.body || this.el.contains(active))) this.toggle.focus();
    if (open) {
      this.render();
      if (focus) (this.list.querySelector<HTMLElement>('.rule-enabled') ?? this.addButton).focus({ preventScroll: true });
    }
  }

  /** A `rules` or `ruleResult` message from the host. */
  onMessage(msg: RulesMessage | RuleResultMessage): void {
    if (msg.type === 'rules') this.setRules(msg);
    else this.onResult(msg);
  }

  /** A `rules` message: new rows (counts, toggles) and, with `reveal`, open on that rule. */
  setRules(msg: RulesMessage): void {
    this.msg = msg;
    if (msg.reveal !== undefined) {
      this.revealId = msg.reveal || undefined;
      const inLine = msg.revealAs === 'line' && this.revealId !== undefined && !this.isOpen && this.revealLine(this.revealId, msg);
      if (!this.isOpen && !inLine) this.setOpen(true);
    }
    if (this.form.editing && !msg.rules.some((r) => r.id === this.form.editing!.id)) this.closeForm(false);
    this.render();
    const n = msg.rules.filter((r) => r.enabled).length;
    setText(this.count, n > 0 ? String(n) : '');
    this.count.hidden = n === 0;
    setSafeAttr(this.toggle, 'aria-label', n > 0 ? `Trace rules (${n} enabled)` : 'Trace rules');
  }

  /** The view's height were it open now: laid out and measured, then hidden again (nothing else changes). */
  heightIfOpen(): number {
    if (this.isOpen) return this.el.offsetHeight;
    this.render();
    this.el.hidden = false;
    const height = this.el.offsetHeight;
    this.el.hidden = true;
    return height;
  }

  /** Turns a rule off (the Rules line's "Turn Off"), as its checkbox does. */
  turnOff(id: string): void {
    this.send({ op: 'setEnabled', id, enabled: false });
  }

  /** A `ruleResult`: settles the change it answers. */
  onResult(msg: RuleResultMessage): void {
    const done = this.pending.get(msg.requestId);
    this.pending.delete(msg.requestId);
    done?.(msg);
  }

  private send(msg: Omit<RuleEditMessage, 'type' | 'requestId' | 'scope' | 'traceKey'>, done?: (r: RuleResultMessage) => void): void {
    const requestId = this.nextRequest++;
    if (done) this.pending.set(requestId, done);
    this.post({ type: 'ruleEdit', requestId, traceKey: this.msg?.traceKey, scope: this.msg?.scope ?? 'workspace', ...msg });
  }

  private openForm(rule: RuleRow | undefined): void {
    this.confirming = undefined;
    this.form.fill(rule);
    this.form.el.hidden = false;
    this.el.classList.toggle('editing', true);
    // The form goes where the rule is (editing: render() places the slot) or at the top (adding).
    if (rule) this.formSlot.append(this.form.el);
    else this.list.before(this.form.el);
    this.render();
    this.form.focus();
    this.form.el.scrollIntoView({ block: 'nearest' });
  }

  private closeForm(restoreFocus = true): void {
    const editing = this.form.editing;
    this.form.el.hidden = true;
    this.form.editing = undefined;
    this.el.classList.toggle('editing', false);
    this.list.before(this.form.el);
    this.render();
    if (!restoreFocus) return;
    const back = editing ? this.items.get(editing.id)?.li.querySelector<HTMLElement>('.rule-edit') : null;
    (back ?? this.addButton).focus();
  }

  private submit(draft: RuleDraft): void {
    const editing = this.form.editing;
    const done = (r: RuleResultMessage) => {
      if (!r.ok) return this.form.showProblem(r.problem);
      this.revealId = r.id;
      this.closeForm();
    };
    if (editing) {
      const { id, ...rule } = draft;
      void id;
      this.send({ op: 'update', id: editing.id, rule: rule as RuleDraft }, done);
    } else this.send({ op: 'create', rule: draft }, done);
  }

  /** Redraws the lists (cheap: a few dozen rules at most). */
  render(): void {
    const m = this.msg;
    if (!m) {
      setText(this.scopeNote, '');
      this.list.replaceChildren();
      this.saved.hidden = true;
      return;
    }
    setText(
      this.scopeNote,
      m.scope === 'session'
        ? 'Recording: a change reaches every process of this session at once.'
        : 'Not recording: these workspace rules apply from the next session.',
    );
    const editingId = this.form.el.hidden ? undefined : this.form.editing?.id;
    const focusedRule = (document.activeElement as HTMLElement | null)?.closest?.('.rule-item') as HTMLElement | null;
    const focusKey =
      focusedRule && document.activeElement
        ? `${focusedRule.dataset.ruleId}|${(document.activeElement as HTMLElement).dataset.role ?? ''}`
        : undefined;
    // Items whose rule did not change are kept (only their counts are rewritten), and nothing that
    // stays in place is moved: a node moved in the DOM loses the focus, and the counters of a live
    // session change several times a second while someone types in the form.
    const next = new Map<string, { li: HTMLLIElement; sig: string }>();
    const wanted: HTMLElement[] = [];
    m.rules.forEach((r, i) => {
      const { matched, acted, ...rest } = r;
      const sig = JSON.stringify([rest, i, r.id === editingId, this.confirming === r.id, this.highlight === r.id]);
      let it = this.items.get(r.id);
      if (!it || it.sig !== sig) it = { li: this.item(r, i, true, r.id === editingId), sig };
      else if (it.li.querySelector('.rule-counts')?.textContent !== `${matchedWords(r)}${matched}acted ${acted}`)
        it.li.querySelector('.rule-counts')?.replaceWith(countsOf(r));
      next.set(r.id, it);
      wanted.push(it.li);
      if (r.id === editingId) wanted.push(this.formSlot);
    });
    this.items = next;
    wanted.forEach((el, i) => {
      if (this.list.children[i] !== el) this.list.insertBefore(el, this.list.children[i] ?? null);
    });
    while (this.list.children.length > wanted.length) this.list.lastElementChild!.remove();
    this.empty.hidden = m.rules.length > 0;
    this.empty.replaceChildren(
      m.rules.length
        ? ''
        : 'No trace rules: every request is recorded. Add one here, or right-click a request: Break on Requests Like This, Skip Requests to This Host, Capture Bodies of These.',
    );
    const saved = m.saved ?? [];
    this.saved.hidden = saved.length === 0;
    this.savedList.replaceChildren(...saved.map((r, i) => this.item(r, i, false, false)));
    if (focusKey && !focusedRule?.isConnected) {
      const [id, role] = focusKey.split('|');
      const again = [...this.list.querySelectorAll<HTMLElement>('.rule-item')].find((el) => el.dataset.ruleId === id);
      again?.querySelector<HTMLElement>(`[data-role="${role}"]`)?.focus({ preventScroll: true });
    }
    if (this.revealId !== undefined && this.isOpen) {
      const el = [...this.list.querySelectorAll<HTMLElement>('.rule-item')].find((x) => x.dataset.ruleId === this.revealId);
      this.revealId = undefined;
      if (el) {
        this.highlight = el.dataset.ruleId;
        el.classList.add('revealed');
        el.scrollIntoView({ block: 'nearest' });
        el.querySelector<HTMLElement>('.rule-enabled')?.focus({ preventScroll: true });
      }
    }
  }

  private item(r: RuleRow, index: number, editable: boolean, editing: boolean): HTMLLIElement {
    const cls = `rule-item${r.enabled ? '' : ' is-disabled'}${r.limitReached ? ' limit-reached' : ''}${editing ? ' is-editing' : ''}`;
    const li = h('li', `${cls}${editable && r.id === this.highlight ? ' revealed' : ''}`, {
      'data-rule-id': r.id,
      'data-rule-index': String(index),
    });
    const toggle = h('input', 'rule-enabled', {
      type: 'checkbox',
      'aria-label': `Enabled: ${r.name}`,
      title: r.enabled ? 'Enabled: click to disable' : 'Disabled: click to enable',
      'data-role': 'toggle',
    });
    toggle.checked = r.enabled;
    toggle.disabled = !editable;
    toggle.addEventListener('change', () => {
      toggle.disabled = true;
      this.send({ op: 'setEnabled', id: r.id, enabled: toggle.checked }, (res) => {
        toggle.disabled = false;
        if (!res.ok) toggle.checked = r.enabled;
      });
    });
    const badges = h(
      'span',
      'rule-badges',
      null,
      actionBadge(r),
      ...limitBadges(r),
      r.origin === 'launch'
        ? h(
            'span',
            'rule-origin muted',
            { title: 'From launch.json or the nettrace.rules setting: a change here lasts for this session' },
            'launch.json / setting',
          )
        : null,
    );
    const counts = countsOf(r);
    const main = h(
      'div',
      'rule-main',
      null,
      h('div', 'rule-line', null, h('span', 'rule-name', { title: r.id === r.name ? r.id : `${r.name} (id ${r.id})` }, r.name), badges),
      h('code', 'rule-cond mono selectable', { title: r.condition }, r.condition),
    );
    li.append(toggle, main, counts);
    if (editable) {
      const edit = h(
        'button',
        'icon-button rule-edit',
        { type: 'button', title: 'Edit', 'aria-label': `Edit ${r.name}`, 'data-role': 'edit' },
        icon('edit'),
      );
      edit.addEventListener('click', () => this.openForm(r));
      const actions = h('span', 'rule-actions', null, edit);
      // One click turns a what-if rule off (the checkbox does too; this says what it gives back).
      if (r.enabled && isWhatIf(r.action)) actions.prepend(turnOffButton(r, () => toggle.click()));
      if (this.confirming === r.id) {
        const yes = h('button', 'button danger', { type: 'button', 'data-role': 'confirm' }, 'Delete');
        const no = h('button', 'button secondary', { type: 'button', 'data-role': 'keep' }, 'Keep');
        yes.addEventListener('click', () => {
          this.confirming = undefined;
          this.send({ op: 'delete', id: r.id }, () => this.addButton.focus());
        });
        no.addEventListener('click', () => {
          this.confirming = undefined;
          this.render();
          this.list.querySelector<HTMLElement>(`[data-rule-index="${index}"] .rule-delete`)?.focus();
        });
        actions.append(h('span', 'rule-confirm', { role: 'group', 'aria-label': `Delete ${r.name}?` }, 'Delete?', yes, no));
        queueMicrotask(() => yes.focus());
      } else {
        const del = h(
          'button',
          'icon-button rule-delete',
          { type: 'button', title: 'Delete', 'aria-label': `Delete ${r.name}`, 'data-role': 'delete' },
          icon('trash'),
        );
        del.addEventListener('click', () => {
          this.confirming = r.id;
          this.render();
        });
        actions.append(del);
      }
      li.append(actions);
    }
    return li;
  }
}
