/**
 * Parts of a rule's item in the Rules view (rulesView.ts): its action badge (a what-if rule's
 * says what it does, "what if: fail tls expired", with an icon), its counts, and the one-click
 * "Turn Off" of an enabled what-if rule.
 */
import type { RuleRow } from '../src/protocol/webview';
import { describeWhatIf, isWhatIf, type WhatIfAction, type WhatIfParams } from '../src/rules/whatIf';
import { h, icon } from './dom';

/**
 * What a what-if rule does, in a few words, as the CLI and the trace say it (src/rules/whatIf.ts
 * describeWhatIf): "fail refused", "fail tls expired", "fail status 503", "delay first-byte 800 ms",
 * "throttle slow 3G". The host's row carries the action's parameters under the action's name.
 */
export function whatIfSummary(r: RuleRow): string {
  return describeWhatIf(r.action as WhatIfAction, r as unknown as WhatIfParams);
}

/** The action badge of a rule. */
export function actionBadge(r: RuleRow): HTMLElement {
  if (isWhatIf(r.action)) {
    return h(
      'span',
      `rule-badge action-${r.action} what-if`,
      { title: 'What if: changes what the program receives' },
      icon('beaker'),
      ` what if: ${whatIfSummary(r)}`,
    );
  }
  const action =
    r.action === 'details'
      ? `details: ${(r.details ?? ['bodies']).join(', ')}`
      : r.action === 'mark'
        ? `mark: ${r.tag ?? r.name}`
        : r.action;
  return h('span', `rule-badge action-${r.action}`, { title: 'Action' }, action);
}

/** "Turn Off": disables an enabled what-if rule (through the item's checkbox, `toggle`). */
export function turnOffButton(r: RuleRow, toggle: () => void): HTMLElement {
  const b = h(
    'button',
    'button secondary rule-turn-off',
    { type: 'button', 'aria-label': `Turn off ${r.name}: the program gets the real behaviour back`, 'data-role': 'turn-off' },
    'Turn Off',
  );
  b.addEventListener('click', toggle);
  return b;
}

/** A rule's matched and acted counts. */
export function countsOf(r: RuleRow): HTMLElement {
  return h(
    'span',
    'rule-counts',
    { title: 'Requests whose condition held (matched) and that the rule acted on (acted), over every process of the session' },
    h('span', 'rule-count', null, h('span', 'muted', null, 'matched '), String(r.matched)),
    h('span', 'rule-count', null, h('span', 'muted', null, 'acted '), String(r.acted)),
  );
}
