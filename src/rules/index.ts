/**
 * Trace rules (issue 16): the rule model, the condition language and the decision engine. Plain
 * Node with no imports from other layers (types only from src/trace), so the preload, the
 * collector, the CLI and the extension can all bundle it. See docs/rules.md.
 */
export { RuleSyntaxError, RuleValidationError } from './errors';
export { parseCondition, MAX_CONDITION_LENGTH, MAX_DEPTH, MAX_LIST } from './condition';
export type { Expr } from './condition';
export { compileCondition, NO, YES, UNKNOWN } from './compile';
export type { CompiledCondition, CompileOptions, Tri } from './compile';
export { FIELDS, fieldFor, RequestFacts } from './fields';
export type { FieldDef, ProcessFacts, RequestEndView, RequestStartView } from './fields';
export { compileRegex, MAX_PATTERN, MAX_PROGRAM, MAX_SUBJECT } from './matcher';
export { PatternError } from './regexSyntax';
export { compileGlob } from './glob';
export type { Matcher } from './matcher';
export { validateRule, validateRules, isTerminal, RULE_ACTIONS } from './rule';
export { DETAIL_KINDS, DETAIL_BIT } from './details';
export type { Rule, RuleAction, RuleInput } from './rule';
export type { DetailKind } from './details';
export { RuleEngine, releaseBreak, releaseWhatIf, sameMeaning } from './engine';
export {
  checkRuleBudget,
  ruleSetCost,
  RuleBudgetError,
  MAX_RULES,
  MAX_SET_CHARS,
  MAX_DECISION_STEPS,
  MAX_PATTERN_CELLS,
  MAX_COMPILE_STEPS,
} from './budget';
export type { RuleSetCost } from './budget';
export type { EndDecision, RuleCounters, RuleEngineOptions, StartDecision } from './engine';
export type { SessionActs } from './limits';
export { parseRuleShortForm, ruleFromShortForm } from './shortForm';
export {
  WHAT_IF_ACTIONS,
  WHAT_IF_KEYS,
  FAIL_KINDS,
  RESET_AT,
  TLS_FAILURES,
  DELAY_PHASES,
  THROTTLE_PRESETS,
  WHAT_IF_FAMILY,
  WHAT_IF_IMPLEMENTED,
  isWhatIf,
  parseWhatIf,
  describeWhatIf,
  whatIfKey,
  whatIfClients,
  whatIfGaps,
  matchedNoun,
  rateOf,
  copyWhatIf,
  bodyFileProblem,
  MAX_BODY,
} from './whatIfActions';
export type {
  WhatIfAction,
  WhatIfFamily,
  WhatIfKey,
  WhatIfParams,
  WhatIfSpec,
  FailKind,
  FailSpec,
  DelaySpec,
  ThrottleSpec,
  RespondSpec,
  OverrideSpec,
} from './whatIfActions';
export { limitOf, restarts } from './limits';
