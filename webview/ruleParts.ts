/**
 * Parts of a rule's item in the Rules view (rulesView.ts): its action badge (a what-if rule's
 * says what it does, "what if: fail tls expired", with an icon), its counts, and the one-click
 * "Turn Off" of an enabled what-if rule.
 */
import type { RuleRow } from '../src/protocol/webview';
import { describeWhatIf, isWhatIf, matchedNoun, type WhatIfAction, type WhatIfParams } from '../src/rules/whatIfActions';
import { h, icon } from './dom';

/**
 * What a what-if rule does, in a few words, as the CLI and the trace say it (src/rules/whatIfActions.ts
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

/** The words before a rule's matched count: "matched " ("matched TLS " for a TLS failure, which reads only requests over TLS). */
export function matchedWords(r: RuleRow): string {
  return matchedNoun(r) === 'TLS request' ? 'matched TLS ' : 'matched ';
}

/** A rule's matched and acted counts. */
export function countsOf(r: RuleRow): HTMLElement {
  const tls = matchedNoun(r) === 'TLS request';
  return h(
    'span',
    'rule-counts',
    {
      title: `${tls ? 'Requests over TLS (https, wss: the only ones a TLS failure acts on)' : 'Requests'} whose condition held (matched) and that the rule acted on (acted), over every process of the session`,
    },
    h('span', 'rule-count', null, h('span', 'muted', null, matchedWords(r)), String(r.matched)),
    h('span', 'rule-count', null, h('span', 'muted', null, 'acted '), String(r.acted)),
  );
}

/** What the form's limit field counts (its title): per process, or in all for a rule whose limit counts per session. */
export function limitTitle(r: RuleRow | undefined): string {
  return r?.limitPer === 'session'
    ? "Requests acted on in all, the session's processes together; empty: no limit"
    : 'Requests acted on per process (and per worker thread); empty: no limit';
}

/** A rule's limit badge ("limit 3 in all", "limit 10 per process", "no limit") and, once reached, "limit reached". */
export function limitBadges(r: RuleRow): HTMLElement[] {
  const session = r.limitPer === 'session';
  const out = [
    session
      ? h('span', 'rule-badge', { title: "Requests the rule acts on in all, the session's processes together" }, `limit ${r.limit} in all`)
      : h(
          'span',
          'rule-badge',
          { title: 'Requests per process the rule acts on' },
          r.limit === null ? 'no limit' : `limit ${r.limit} per process`,
        ),
  ];
  if (r.limitReached)
    out.push(
      h(
        'span',
        'rule-badge warn',
        {
          title: session
            ? "The rule acted on its limit's requests, the session's processes together: it no longer acts"
            : 'The rule reached its limit in at least one process: it no longer acts there',
        },
        icon('warning'),
        ' limit reached',
      ),
    );
  return out;
}
