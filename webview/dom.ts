/**
 * Tiny DOM helpers that keep untrusted text inert.
 *
 * Every string that came from the network (URLs, header names/values, certificate subjects, DNS
 * names, error messages, diagnoses) reaches the DOM only as a Text node (`append(string)`,
 * `textContent`) or through `setAttribute` on the inert attributes below. Nothing in webview/
 * assigns `innerHTML`/`outerHTML` or calls `insertAdjacentHTML`; a unit test greps for that.
 */

/** Attributes that may carry data: they are never parsed as markup, URLs or script. */
const SAFE_ATTRS = new Set([
  'title',
  'aria-label',
  'aria-selected',
  'aria-sort',
  'aria-controls',
  'aria-expanded',
  'aria-pressed',
  'role',
  'tabindex',
  'id',
  'for',
  'type',
  'placeholder',
  'value',
  'spellcheck',
  'aria-activedescendant',
  'aria-labelledby',
  'aria-live',
  'aria-checked',
  'aria-disabled',
  'aria-haspopup',
  'aria-rowcount',
  'aria-rowindex',
  'aria-colcount',
  'aria-colindex',
  'aria-hidden',
  'aria-autocomplete',
  'aria-invalid',
  'aria-describedby',
  'autocomplete',
]);

/** A child for `h`: text (inserted as a Text node), an element, or nothing. */
export type Child = Node | string | number | null | undefined | false;

/**
 * Creates an element with classes, safe attributes and children. Strings become Text nodes.
 * `attrs` keys must be in the safe list (throws otherwise, so a mistake shows up in tests).
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string | null,
  attrs?: Record<string, string> | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (attrs) for (const k of Object.keys(attrs)) setSafeAttr(el, k, attrs[k]!);
  appendChildren(el, children);
  return el;
}

/** Appends children; strings and numbers become Text nodes. */
export function appendChildren(el: Element, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** Sets one attribute from the safe list. */
export function setSafeAttr(el: Element, name: string, value: string): void {
  if (!SAFE_ATTRS.has(name) && !name.startsWith('data-')) throw new Error(`unsafe attribute ${name}`);
  el.setAttribute(name, value);
}

/** A codicon element (`<span class="codicon codicon-NAME">`), hidden from screen readers. */
export function icon(name: string, extra = ''): HTMLSpanElement {
  const el = document.createElement('span');
  el.className = `codicon codicon-${name}${extra ? ` ${extra}` : ''}`;
  el.setAttribute('aria-hidden', 'true');
  return el;
}

/** Removes all children. */
export function clear(el: Element): void {
  el.replaceChildren();
}

/** Sets textContent only when it changed (avoids layout work when re-rendering rows). */
export function setText(el: Node, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
