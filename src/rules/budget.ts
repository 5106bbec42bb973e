/**
 * The rule set's budget (issue 34): each limit of one condition (pattern size, nesting, list
 * length) holds alone, but a set of many rules could still cost without bound, and every request
 * of the traced program pays for the rules it reads, inside its `http.request()` or `fetch()`. A
 * set is therefore checked as a whole wherever it is loaded (validateRules: a rules file, the
 * settings, launch.json, the collector's RulesController, the preload applying a set it received):
 *
 *   - at most MAX_RULES rules, and at most MAX_SET_CHARS characters as JSON (what travels to the
 *     preloads; their reader drops a line over 4 MiB);
 *   - the memory its patterns hold together (Matcher.size), at most MAX_PATTERN_CELLS;
 *   - the time compiling its patterns takes in each process that loads it (Matcher.work), at most
 *     MAX_COMPILE_STEPS;
 *   - the steps one decision can cost, at most MAX_DECISION_STEPS: the enabled rules a request can
 *     read (the rules for any host, plus the rules of the one host that has the most: a rule
 *     whose condition requires `host == …` / `host in […]` is read only for those hosts), each
 *     rule 1 step plus its tests' steps (condition.ts TEST_STEPS; a pattern's from its
 *     Matcher.cost). A step is about 0.1 µs with a 4,096-character URL on the reference machine, so
 *     the budget keeps the worst accepted set under 1 ms per decision (~0.45 ms measured,
 *     bench/rules-budget.mjs).
 */
import { requiredHosts } from './compile';
import { parseCondition, type Expr } from './condition';
import { RuleValidationError } from './errors';
import type { Matcher } from './matcher';

/** What the budget reads of a rule (a validated Rule). */
export interface BudgetedRule {
  id: string;
  condition: string;
  enabled: boolean;
}

/** Most rules in one set. */
export const MAX_RULES = 5000;
/** Most characters of a set written as JSON. */
export const MAX_SET_CHARS = 2 * 1024 * 1024;
/** Most steps one decision can cost (see the file comment). */
export const MAX_DECISION_STEPS = 5000;
/** Most table cells the set's patterns hold together (Matcher.size; a cell is 4 bytes): 4 MB. */
export const MAX_PATTERN_CELLS = 1_000_000;
/**
 * Most steps compiling the set's distinct patterns may cost together (Matcher.work: building their
 * DFAs, or trying to): every traced process compiles the set as it starts. About 10,000 steps took
 * a millisecond on the test machine (2 shared cores), so the worst accepted set adds ~0.2 s to a
 * process's start; 800 patterns of ~18,000 steps each (`(a|b)*a[ab]{6}cK`) added 1.1 s.
 */
export const MAX_COMPILE_STEPS = 2_000_000;

/** What a rule set costs, in the budget's terms. */
export interface RuleSetCost {
  rules: number;
  /** Characters of the set as JSON. */
  chars: number;
  /** Table cells of every pattern of the set (Matcher.size). */
  cells: number;
  /** Steps compiling the set's distinct patterns costs (Matcher.work), in each process that loads it. */
  compileSteps: number;
  /** Steps of the costliest decision. */
  decisionSteps: number;
  /** The host whose rules make that decision costliest (null: only rules for any host). */
  host: string | null;
  /** The costliest rules of that decision, most expensive first (at most 3 ids), for messages. */
  costliest: string[];
}

/** A set over its budget: `budget` names which one, `figure` is the set's, `limit` the budget's. */
export class RuleBudgetError extends RuleValidationError {
  constructor(
    message: string,
    readonly budget: 'rules' | 'size' | 'patterns' | 'compile' | 'decision',
    readonly figure: number,
    readonly limit: number,
  ) {
    super(message, 'rules');
    this.name = 'RuleBudgetError';
  }
}

function cells(e: Expr): number {
  switch (e.k) {
    case 'const':
      return 0;
    case 'test':
      return e.size ?? 0;
    case 'not':
      return cells(e.e);
    default:
      return cells(e.l) + cells(e.r);
  }
}

/** The matchers of a condition's patterns into `out` (a pattern used twice is one matcher: matcher.ts remember). */
function matchers(e: Expr, out: Set<Matcher>): void {
  if (e.k === 'test') {
    if (e.matcher) out.add(e.matcher);
  } else if (e.k === 'not') matchers(e.e, out);
  else if (e.k !== 'const') {
    matchers(e.l, out);
    matchers(e.r, out);
  }
}

function steps(e: Expr): number {
  switch (e.k) {
    case 'const':
      return 0;
    case 'test':
      return e.cost;
    case 'not':
      return steps(e.e);
    default:
      return steps(e.l) + steps(e.r);
  }
}

/** The set's cost (rules already validated one by one). */
export function ruleSetCost(rules: readonly BudgetedRule[]): RuleSetCost {
  let anyHost = 0;
  const anyIds: Array<[string, number]> = [];
  const perHost = new Map<string, { steps: number; ids: Array<[string, number]> }>();
  let patternCells = 0;
  const compiled = new Set<Matcher>();
  for (const r of rules) {
    const e = parseCondition(r.condition);
    patternCells += cells(e);
    matchers(e, compiled);
    if (!r.enabled) continue;
    const cost = 1 + steps(e);
    const hosts = requiredHosts(e);
    if (hosts === null) {
      anyHost += cost;
      anyIds.push([r.id, cost]);
      continue;
    }
    for (const h of new Set(hosts)) {
      let slot = perHost.get(h);
      if (slot === undefined) perHost.set(h, (slot = { steps: 0, ids: [] }));
      slot.steps += cost;
      slot.ids.push([r.id, cost]);
    }
  }
  let host: string | null = null;
  let hostSteps = 0;
  for (const [h, slot] of perHost) {
    if (slot.steps > hostSteps) {
      hostSteps = slot.steps;
      host = h;
    }
  }
  const ids = [...anyIds, ...(host === null ? [] : perHost.get(host)!.ids)].sort((x, y) => y[1] - x[1]);
  return {
    rules: rules.length,
    chars: JSON.stringify(rules).length,
    cells: patternCells,
    compileSteps: [...compiled].reduce((sum, m) => sum + (m.work ?? 0), 0),
    decisionSteps: anyHost + hostSteps,
    host,
    costliest: ids.slice(0, 3).map(([id]) => id),
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Throws RuleBudgetError when the set is over one of its budgets (see the file comment). */
export function checkRuleBudget(rules: readonly BudgetedRule[]): void {
  if (rules.length > MAX_RULES)
    throw new RuleBudgetError(
      `rules budget: the set has ${fmt(rules.length)} rules, over the budget of ${fmt(MAX_RULES)} rules in a set`,
      'rules',
      rules.length,
      MAX_RULES,
    );
  const cost = ruleSetCost(rules);
  if (cost.chars > MAX_SET_CHARS)
    throw new RuleBudgetError(
      `rules budget: the set is ${fmt(cost.chars)} characters as JSON, over the budget of ${fmt(MAX_SET_CHARS)} characters`,
      'size',
      cost.chars,
      MAX_SET_CHARS,
    );
  if (cost.cells > MAX_PATTERN_CELLS)
    throw new RuleBudgetError(
      `rules budget: the set's patterns hold ${fmt(cost.cells)} table cells, over the budget of ${fmt(MAX_PATTERN_CELLS)} cells (4 MB in each traced process); use fewer or simpler globs and regexes`,
      'patterns',
      cost.cells,
      MAX_PATTERN_CELLS,
    );
  if (cost.compileSteps > MAX_COMPILE_STEPS)
    throw new RuleBudgetError(
      `rules budget: compiling the set's patterns costs ${fmt(cost.compileSteps)} steps, over the budget of ${fmt(MAX_COMPILE_STEPS)} steps (about 0.2 s added to the start of each traced process); use fewer or simpler globs and regexes (one that needs a large automaton, such as (a|b)*a[ab]{6}c, costs ~18,000; a usual one 2,000 to 8,000)`,
      'compile',
      cost.compileSteps,
      MAX_COMPILE_STEPS,
    );
  if (cost.decisionSteps > MAX_DECISION_STEPS) {
    const who = cost.host === null ? 'the rules for any host' : `the rules for any host and those for host ${JSON.stringify(cost.host)}`;
    throw new RuleBudgetError(
      `rules budget: one decision can cost ${fmt(cost.decisionSteps)} steps (${who}; costliest: ${cost.costliest.map((id) => JSON.stringify(id)).join(', ')}), over the budget of ${fmt(MAX_DECISION_STEPS)} steps per decision (about 0.5 ms on a 4,096-character URL). Use fewer or simpler patterns (a regex or glob costs 100 steps, more when it is too large for a DFA; contains 300), or limit rules to their hosts with host == "…" (see "Rules budget" in docs/rules.md)`,
      'decision',
      cost.decisionSteps,
      MAX_DECISION_STEPS,
    );
  }
}
