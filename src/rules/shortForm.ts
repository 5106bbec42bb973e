/**
 * The one-line form of a rule, for `nettrace run --rule '…'` (and any prompt that takes a rule as
 * text):
 *
 *     [ID:] ACTION [limit=N[/session]] [tag=TAG] [details=KIND,…] [fail=KIND | delay=MS | throttle=RATE | respond=STATUS | override=STATUS] CONDITION
 *
 * e.g. `skip host == "telemetry.example.com"`, `orders: break method == "DELETE"`,
 * `slow-api: mark tag=slow limit=50 slow`, `details details=bodies,sockTrace failed`,
 * `fail fail=refused limit=1 host == "api.example.com"`, `delay delay=connect:200 true` (`limit=3/session`:
 * three in all, across the session's processes, rather than three in each; the what-if
 * options: src/rules/whatIfActions.ts whatIfOption; a value may be double-quoted: `throttle="slow 3G"`). The options
 * come between the action and the condition; a condition never starts with `limit=`, `tag=` or
 * `details=` (a single `=` is no operator), so they cannot be mistaken for it. A rule written this
 * way is enabled (the user asked for it on the spot); its id (and name) default to `fallbackId`.
 */
import { RuleValidationError } from './errors';
import { RULE_ACTIONS, validateRule, type Rule, type RuleAction, type RuleInput } from './rule';
import { whatIfOption } from './whatIfActions';

const ID_PREFIX = /^([A-Za-z0-9_.-]{1,200}):(?:\s+|$)/;
const OPTION = /^(limit|tag|details|fail|delay|throttle|respond|override)=("[^"]*"|[^\s~="][^\s]*)(?:\s+|$)/;

/**
 * Parses the one-line form into a rule input (not yet validated); `fallbackId` is the id when the
 * text names none. Throws RuleValidationError for a missing or unknown action, a bad option or an
 * empty condition.
 */
export function parseRuleShortForm(text: string, fallbackId: string): RuleInput {
  let rest = text.trim();
  let id = fallbackId;
  const idMatch = ID_PREFIX.exec(rest);
  if (idMatch) {
    id = idMatch[1];
    rest = rest.slice(idMatch[0].length);
  }
  const word = /^(\S+)(?:\s+|$)/.exec(rest);
  const action = word?.[1].toLowerCase();
  if (!word || !(RULE_ACTIONS as readonly string[]).includes(action!)) {
    throw new RuleValidationError(
      `a rule starts with its action (${RULE_ACTIONS.join(', ')}), optionally after "ID:", then its condition; found ${word ? JSON.stringify(word[1]) : 'nothing'}`,
      'action',
      idMatch ? id : undefined,
    );
  }
  rest = rest.slice(word[0].length);
  const input: RuleInput = { id, condition: '', action: action as RuleAction, enabled: true };
  for (let m = OPTION.exec(rest); m; m = OPTION.exec(rest)) {
    const [whole, key, value] = m;
    if (key === 'limit') {
      // `limit=3/session`: three in all, across the session's processes (`limit=3/process`, `limit=3`: three in each).
      const per = /^(.*)\/(session|process)$/.exec(value);
      if (per) input.limitPer = per[2] as 'session' | 'process';
      const n = Number(per ? per[1] : value);
      input.limit = Number.isSafeInteger(n) ? n : (value as unknown as number); // validateRule words the error
    } else if (key === 'tag') input.tag = value;
    else if (key === 'details') input.details = value.split(',').filter(Boolean) as RuleInput['details'];
    else input[key as 'fail'] = whatIfOption(key, value);
    rest = rest.slice(whole.length);
  }
  input.condition = rest.trim();
  if (input.condition === '')
    throw new RuleValidationError('the rule has no condition after its action (write true to match every request)', 'condition', id);
  return input;
}

/** Parses and validates the one-line form (see parseRuleShortForm); throws as validateRule does. */
export function ruleFromShortForm(text: string, fallbackId: string): Rule {
  return validateRule(parseRuleShortForm(text, fallbackId));
}
