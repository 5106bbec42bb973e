/**
 * The toolbar's filter box: a text input speaking the DevTools filter language
 * (webview/filterQuery.ts), with an autocompletion dropdown of keys and of the values seen in the
 * trace, and its parse errors shown on the box (red outline, tooltip, screen-reader description).
 *
 * ARIA 1.2 combobox pattern: the input is `role="combobox"` with `aria-autocomplete="list"`,
 * `aria-expanded` and `aria-controls` naming the `role="listbox"` popup; the highlighted option
 * is `aria-activedescendant` (focus stays in the input). Keys while the popup is open: ↑/↓ move,
 * Enter accepts the highlighted option, Escape closes; Tab closes it and moves on without touching
 * the text (a keystroke that leaves the box must not rewrite the filter). Ctrl+Space opens it on demand.
 *
 * The popup is `position: fixed`, placed under the input from its bounding box each time it
 * opens: the toolbar clips its overflow (one line at every width), which would otherwise clip
 * the popup while `aria-expanded` says it is shown.
 */

import './filter.css';
import { h, icon, setSafeAttr, setText } from './dom';
import { collectValues, FILTER_KEYS, suggest, type FilterKey, type FilterRowView, type Suggestion } from './filterQuery';
import type { IncomingRequest } from '../src/trace/contract/incoming';

/** What the filter box asks its owner. */
export interface FilterBoxEvents {
  /** The text changed (each keystroke or accepted suggestion). */
  change(text: string): void;
  /** ↓ or Enter with the popup closed: move to the list. */
  leave(): void;
  /** The trace's rows, whose values autocomplete (collected when the popup opens, again when the rows change). */
  rows(): readonly FilterRowView[];
  /** The trace's incoming requests (`caused-by:` autocompletes their routes and paths). */
  incoming?(): ReadonlyMap<string, IncomingRequest>;
}

/** Most options the popup lists. */
const MAX_OPTIONS = 12;
/** Milliseconds typing must pause before a new parse error shows. */
const ERROR_DELAY_MS = 800;

let nextId = 0;

/** The filter input with its autocompletion popup. */
export class FilterBox {
  readonly el: HTMLDivElement;
  readonly input: HTMLInputElement;
  private readonly listbox: HTMLDivElement;
  private readonly errorText: HTMLSpanElement;
  private readonly id = `filter-${++nextId}`;
  private options: Suggestion[] = [];
  private active = -1;
  private errors: string[] = [];
  private errorTimer: ReturnType<typeof setTimeout> | undefined;
  private valuesCache: { rows: readonly FilterRowView[]; length: number; values: Map<FilterKey, string[]> } | undefined;

  constructor(private readonly events: FilterBoxEvents) {
    this.input = h('input', 'input filter-input', {
      type: 'text',
      placeholder: 'Filter: words, method:POST status-code:404 domain:*.example.com is:failed -larger-than:10k …',
      'aria-label': 'Filter requests',
      spellcheck: 'false',
      role: 'combobox',
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      'aria-controls': `${this.id}-list`,
      'aria-describedby': `${this.id}-errors`,
      autocomplete: 'off',
    });
    this.listbox = h('div', 'filter-suggest', { role: 'listbox', id: `${this.id}-list`, 'aria-label': 'Filter suggestions' });
    this.listbox.hidden = true;
    this.errorText = h('span', 'visually-hidden', { id: `${this.id}-errors` });
    this.el = h('div', 'group grow filter-box', null, icon('filter', 'input-icon'), this.input, this.listbox, this.errorText);

    this.input.addEventListener('input', () => {
      this.events.change(this.input.value);
      this.refresh(false);
    });
    this.input.addEventListener('keydown', (e) => this.onKey(e));
    this.input.addEventListener('blur', () => this.close());
    // The popup is placed in viewport pixels when it opens; a resized panel closes it.
    window.addEventListener('resize', () => this.close());
    this.input.addEventListener('click', () => this.refresh(false));
    // mousedown, not click: the input keeps focus (a click would blur it and close the popup first).
    this.listbox.addEventListener('mousedown', (e) => {
      const opt = (e.target as HTMLElement).closest('[data-index]') as HTMLElement | null;
      if (!opt) return;
      e.preventDefault();
      this.accept(Number(opt.dataset.index));
    });
  }

  /** The current text. */
  get text(): string {
    return this.input.value;
  }

  /** True while the suggestion popup is shown. */
  get expanded(): boolean {
    return !this.listbox.hidden;
  }

  /** Sets the text (restored state, a cleared filter) without announcing a change. */
  setText(text: string): void {
    if (this.input.value !== text) this.input.value = text;
  }

  /** Shows the filter's text and its parse errors (state restored, filter cleared, text edited). */
  sync(text: string, errors: readonly string[]): void {
    this.setText(text);
    this.setErrors(errors);
  }

  /**
   * Shows the filter's parse errors on the box (none: a normal box). While the box has the focus, a
   * new error waits until typing pauses: `is:` is not wrong, only unfinished.
   */
  setErrors(errors: readonly string[]): void {
    clearTimeout(this.errorTimer);
    if (errors.length && document.activeElement === this.input && this.errors.length === 0) {
      this.errorTimer = setTimeout(() => this.showErrors(errors), ERROR_DELAY_MS);
      return;
    }
    this.showErrors(errors);
  }

  private showErrors(errors: readonly string[]): void {
    if (errors.length === this.errors.length && errors.every((e, i) => e === this.errors[i])) return;
    this.errors = [...errors];
    const bad = errors.length > 0;
    this.el.classList.toggle('invalid', bad);
    if (bad) {
      setSafeAttr(this.input, 'aria-invalid', 'true');
      setSafeAttr(this.input, 'title', errors.join('\n'));
    } else {
      this.input.removeAttribute('aria-invalid');
      this.input.removeAttribute('title');
    }
    setText(this.errorText, bad ? `Filter not understood: ${errors.join('; ')}` : '');
  }

  /** Focuses the input and selects its text (Ctrl+F). */
  focus(): void {
    this.input.focus();
    this.input.select();
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      this.refresh(true);
      return;
    }
    if (this.expanded) {
      switch (e.key) {
        case 'ArrowDown':
          e.preventDefault();
          this.move(1);
          return;
        case 'ArrowUp':
          e.preventDefault();
          this.move(-1);
          return;
        case 'Enter':
          if (this.active >= 0) {
            e.preventDefault();
            this.accept(this.active);
            return;
          }
          this.close();
          break;
        case 'Tab':
          this.close();
          return;
        case 'Escape':
          e.preventDefault();
          this.close();
          return;
        case 'Home':
        case 'End':
          this.close();
          return;
      }
    }
    if (e.key === 'Escape' && this.input.value) {
      e.preventDefault();
      this.input.value = '';
      this.events.change('');
    } else if (e.key === 'ArrowDown' || e.key === 'Enter') {
      e.preventDefault();
      this.events.leave();
    }
  }

  /** Recomputes the options for the token under the cursor; `force` lists every key for an empty token. */
  private refresh(force: boolean): void {
    const text = this.input.value;
    const cursor = this.input.selectionStart ?? text.length;
    let opts = suggest(text, cursor, this.values(), MAX_OPTIONS);
    if (!opts.length && force) {
      let from = cursor;
      while (from > 0 && !/\s/.test(text[from - 1]!)) from--;
      let to = cursor;
      while (to < text.length && !/\s/.test(text[to]!)) to++;
      if (from === cursor) opts = FILTER_KEYS.map((k) => ({ text: `${k}:`, from, to }));
    }
    this.options = opts;
    this.active = -1;
    if (!opts.length) {
      this.close();
      return;
    }
    const items = opts.map((o, i) => {
      const colon = o.text.indexOf(':');
      const isKey = colon === o.text.length - 1;
      return h(
        'div',
        `suggestion${isKey ? ' is-key' : ''}`,
        { role: 'option', id: `${this.id}-opt-${i}`, 'aria-selected': 'false', 'data-index': String(i) },
        h('span', 'suggestion-key', null, o.text.slice(0, colon + 1)),
        h('span', 'suggestion-value', null, o.text.slice(colon + 1)),
      );
    });
    this.listbox.replaceChildren(...items);
    this.listbox.hidden = false;
    this.place();
    setSafeAttr(this.input, 'aria-expanded', 'true');
    this.input.removeAttribute('aria-activedescendant');
  }

  /**
   * Puts the (fixed) popup under the input, inside the viewport: below when at least a few options
   * fit there, else above; its width and height are bounded by the room on that side.
   */
  private place(): void {
    const r = this.input.getBoundingClientRect();
    const vw = document.documentElement.clientWidth;
    const vh = document.documentElement.clientHeight;
    const s = this.listbox.style;
    const below = vh - r.bottom - 6;
    const above = r.top - 6;
    const down = below >= Math.min(90, this.listbox.scrollHeight) || below >= above;
    const room = Math.max(24, down ? below : above);
    const left = Math.max(4, Math.min(r.left, vw - 224));
    s.left = `${left}px`;
    s.maxWidth = `${Math.min(420, Math.max(120, vw - left - 4))}px`;
    s.maxHeight = `${Math.min(260, room)}px`;
    if (down) {
      s.top = `${r.bottom + 2}px`;
      s.bottom = '';
    } else {
      s.top = '';
      s.bottom = `${vh - r.top + 2}px`;
    }
  }

  /** Values per key from the rows, cached while the rows stay the same (a reset replaces the array). */
  private values(): Map<FilterKey, string[]> {
    const rows = this.events.rows();
    const c = this.valuesCache;
    if (c && c.rows === rows && c.length === rows.length) return c.values;
    const values = collectValues(rows, undefined, this.events.incoming?.());
    this.valuesCache = { rows, length: rows.length, values };
    return values;
  }

  private move(d: 1 | -1): void {
    const n = this.options.length;
    if (!n) return;
    this.active = this.active < 0 ? (d === 1 ? 0 : n - 1) : (this.active + d + n) % n;
    const items = this.listbox.children;
    for (let i = 0; i < items.length; i++) {
      const on = i === this.active;
      items[i]!.classList.toggle('active', on);
      setSafeAttr(items[i]!, 'aria-selected', String(on));
    }
    const cur = items[this.active] as HTMLElement | undefined;
    if (cur) {
      setSafeAttr(this.input, 'aria-activedescendant', cur.id);
      cur.scrollIntoView({ block: 'nearest' });
    }
  }

  /** Replaces the token under the cursor with option `i`; a key stays open for its values. */
  private accept(i: number): void {
    const o = this.options[i];
    if (!o) return;
    const text = this.input.value;
    const isKey = o.text.endsWith(':');
    const after = text.slice(o.to);
    const sep = isKey || after.startsWith(' ') ? '' : ' ';
    const next = text.slice(0, o.from) + o.text + sep + after;
    this.input.value = next;
    const caret = o.from + o.text.length + sep.length;
    this.input.setSelectionRange(caret, caret);
    this.events.change(next);
    if (isKey) this.refresh(false);
    else this.close();
  }

  private close(): void {
    if (this.listbox.hidden) return;
    this.listbox.hidden = true;
    this.options = [];
    this.active = -1;
    setSafeAttr(this.input, 'aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }
}
