/**
 * The rule model: `{ id, name, condition, action, limit, enabled }` plus `tag` (for `mark`) and
 * `details` (for `details`). validateRule turns untrusted input (a JSON file, a setting, a CLI
 * flag, a message) into a Rule or throws an error that names the property at fault.
 */
import { RuleSyntaxError, RuleValidationError } from './errors';
import { parseCondition, type Expr } from './condition';
import { DETAIL_KINDS, type DetailKind } from './details';
import { checkRuleBudget, MAX_RULES, RuleBudgetError } from './budget';
import { neverOverTls } from './reach';
import { isWhatIf, validateWhatIf, WHAT_IF_ACTIONS, WHAT_IF_KEYS, type WhatIfAction, type WhatIfParams } from './whatIfActions';

/** What a rule does to the requests it matches (the what-if actions: src/rules/whatIfActions.ts). */
export type RuleAction = 'trace' | 'skip' | 'details' | 'break' | 'mark' | WhatIfAction;

/** Every action, in the order the docs list them. */
export const RULE_ACTIONS: readonly RuleAction[] = ['trace', 'skip', 'details', 'break', 'mark', ...WHAT_IF_ACTIONS];

/** `trace` and `skip` decide whether a request is recorded and end the reading of the list; the others add to it. */
export function isTerminal(action: RuleAction): boolean {
  return action === 'trace' || action === 'skip';
}

/** A valid rule (every property present; see validateRule for the defaults). A what-if rule has its parameters under its action's name (`fail`, `delay`, …: src/rules/whatIfActions.ts). */
export interface Rule extends WhatIfParams {
  /** Unique in a rule set; what counters and messages refer to. */
  id: string;
  /** For people; defaults to the id. */
  name: string;
  /** The condition, in the language of docs/rules.md. */
  condition: string;
  action: RuleAction;
  /** How many matching requests the rule acts on (per process, or per session: `limitPer`); null: no limit. */
  limit: number | null;
  /**
   * `"session"`: `limit` counts the requests acted on across all of the session's processes and
   * threads together (the collector keeps the count: docs/rules.md, "Limits and counters");
   * absent: per process (and per worker thread). Only with a limit.
   */
  limitPer?: 'session';
  /** False unless the input said `enabled: true`. */
  enabled: boolean;
  /** `mark`: the tag given (default: the name). */
  tag?: string;
  /** `details`: what to turn on (default ["bodies"]). */
  details?: DetailKind[];
}

/** A rule as written by a user: id, condition and action required, the rest optional. */
export interface RuleInput {
  id: string;
  name?: string;
  condition: string;
  action: RuleAction;
  limit?: number | null;
  /** What `limit` counts per: "process" (the default) or "session" (all its processes together). */
  limitPer?: 'process' | 'session';
  enabled?: boolean;
  tag?: string;
  details?: DetailKind[];
  /** The what-if parameters, under the action's name (validateWhatIf reads them). */
  fail?: unknown;
  delay?: unknown;
  throttle?: unknown;
  respond?: unknown;
  override?: unknown;
}

const KNOWN_KEYS = new Set(['id', 'name', 'condition', 'action', 'limit', 'limitPer', 'enabled', 'tag', 'details', ...WHAT_IF_KEYS]);
const MAX_ID = 200;
const MAX_NAME = 500;

/** True when the condition reads no end-of-request field (status, failed, slow, duration, …). */
export function isStartDecidable(e: Expr): boolean {
  switch (e.k) {
    case 'const':
      return true;
    case 'test':
      return e.field.phase !== 'end';
    case 'not':
      return isStartDecidable(e.e);
    default:
      return isStartDecidable(e.l) && isStartDecidable(e.r);
  }
}

/**
 * Checks one rule object and fills its defaults (`enabled` false, `limit` null, `name` = id,
 * `tag` = name for mark, `details` ["bodies"]; `limitPer` kept only when "session" with a limit). Throws RuleValidationError for a bad property,
 * RuleSyntaxError (with `ruleId` set) for a bad condition.
 */
export function validateRule(input: unknown): Rule {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new RuleValidationError('a rule must be an object { id, condition, action, … }', '');
  const o = input as Record<string, unknown>;
  const rawId = o.id;
  const id = typeof rawId === 'string' && rawId.trim() !== '' && rawId.length <= MAX_ID ? rawId : undefined;
  if (id === undefined) throw new RuleValidationError(`"id" must be a non-empty string of at most ${MAX_ID} characters`, 'id');
  const bad = (field: string, msg: string): never => {
    throw new RuleValidationError(msg, field, id);
  };
  for (const key of Object.keys(o)) {
    if (!KNOWN_KEYS.has(key))
      bad(
        key,
        `unknown property "${key}"${key === 'enable' ? ' (did you mean "enabled"?)' : ''}; a rule has ${[...KNOWN_KEYS].join(', ')}`,
      );
  }
  const name = o.name === undefined ? id : o.name;
  if (typeof name !== 'string' || name.length > MAX_NAME) bad('name', `"name" must be a string of at most ${MAX_NAME} characters`);
  if (typeof o.condition !== 'string') bad('condition', '"condition" must be a string (write "true" to match every request)');
  const action = o.action;
  if (typeof action !== 'string' || !(RULE_ACTIONS as readonly string[]).includes(action))
    bad('action', `"action" must be one of ${RULE_ACTIONS.join(', ')}`);
  const limit = o.limit === undefined ? null : o.limit;
  if (limit !== null && !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 1))
    bad('limit', '"limit" must be a whole number ≥ 1, or null for no limit');
  if (o.limitPer !== undefined && o.limitPer !== 'process' && o.limitPer !== 'session')
    bad('limitPer', '"limitPer" must be "process" (each process and thread counts its own) or "session" (all of them together)');
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean') bad('enabled', '"enabled" must be true or false');
  const rule: Rule = {
    id,
    name: name as string,
    condition: o.condition as string,
    action: action as RuleAction,
    limit: limit as number | null,
    enabled: o.enabled === true,
  };
  // Per session only with a limit to count; per process is the default, left unsaid.
  if (o.limitPer === 'session' && limit !== null) rule.limitPer = 'session';
  if (o.tag !== undefined) {
    if (action !== 'mark') bad('tag', '"tag" applies only to a mark rule');
    if (typeof o.tag !== 'string' || o.tag === '' || o.tag.length > MAX_NAME) bad('tag', '"tag" must be a non-empty string');
  }
  if (action === 'mark') rule.tag = (o.tag as string | undefined) ?? rule.name;
  if (o.details !== undefined) {
    if (action !== 'details') bad('details', '"details" applies only to a details rule');
    const d = o.details;
    if (!Array.isArray(d) || d.length === 0 || !d.every((k) => (DETAIL_KINDS as readonly unknown[]).includes(k)))
      bad('details', `"details" must be a non-empty list of ${DETAIL_KINDS.join(', ')}`);
  }
  if (action === 'details') rule.details = o.details === undefined ? ['bodies'] : [...new Set(o.details as DetailKind[])];
  for (const key of WHAT_IF_KEYS) if (o[key] !== undefined && key !== action) bad(key, `"${key}" applies only to a ${key} rule`);
  if (isWhatIf(action as string)) Object.assign(rule, validateWhatIf(action as WhatIfAction, o[action as string], bad));
  let expr: Expr;
  try {
    expr = parseCondition(rule.condition);
  } catch (e) {
    if (e instanceof RuleSyntaxError) e.ruleId = id;
    throw e;
  }
  if ((action === 'break' || isWhatIf(action as string)) && !isStartDecidable(expr)) {
    bad(
      'condition',
      (action === 'break' ? 'a break rule pauses' : `a ${action as string} rule acts`) +
        ' before the request leaves, so its condition cannot read end-of-request fields (status, statusClass, failed, errorCode, errorPhase, timedOut, aborted, slow, duration, reqSize, respSize)',
    );
  }
  // A TLS failure acts only on requests over TLS: a condition that holds for none of them could never act.
  if (rule.fail?.kind === 'tls' && neverOverTls(expr))
    bad(
      'condition',
      `a fail tls rule acts only on requests over TLS (https, wss), and this condition holds only for plain ones (http, ws): it could never act. Use fail reset or fail refused for a plain request, or a condition that can match https`,
    );
  return rule;
}

/**
 * Validates an ordered list of rules: each rule, unique ids, and the set's budget (budget.ts:
 * throws RuleBudgetError naming the budget exceeded).
 */
export function validateRules(input: unknown): Rule[] {
  if (!Array.isArray(input)) throw new RuleValidationError('rules must be a list', '');
  // Refused before each rule is parsed: 50,000 rules would cost their parsing first.
  if (input.length > MAX_RULES)
    throw new RuleBudgetError(
      `rules budget: the set has ${input.length.toLocaleString('en-US')} rules, over the budget of ${MAX_RULES.toLocaleString('en-US')} rules in a set`,
      'rules',
      input.length,
      MAX_RULES,
    );
  const seen = new Set<string>();
  const rules = input.map((r) => {
    const rule = validateRule(r);
    if (seen.has(rule.id)) throw new RuleValidationError('two rules have this id', 'id', rule.id);
    seen.add(rule.id);
    return rule;
  });
  checkRuleBudget(rules);
  return rules;
}
