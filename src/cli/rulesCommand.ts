/**
 * Trace rules on the command line (docs/rules.md): `nettrace run --rule '…' --rules FILE`, and the
 * `nettrace rules check FILE` / `nettrace rules explain FILE` subcommands for CI and for people.
 */

import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from 'node:fs';
import {
  isTerminal,
  isWhatIf,
  describeWhatIf,
  matchedNoun,
  parseRuleShortForm,
  RuleEngine,
  RuleSyntaxError,
  RuleValidationError,
  validateRule,
  validateRules,
  type Rule,
  type RuleInput,
  type RequestEndView,
  type RequestStartView,
  compileCondition,
  MAX_RULES,
  bodyFileProblem,
} from '../rules';
import type { RuleDefaultAction } from '../protocol/preload';
import type { HttpClientKind } from '../trace/contract/types';
import { parseArgs, UsageError } from './args';
import { CliError } from './runTraced';
import { sanitizeLines } from './text';

/** Writes to stdout made inert: ids, conditions and excerpts come from the rules file (src/cli/text.ts). */
function print(text: string): void {
  process.stdout.write(sanitizeLines(text));
}

/** A rules file's content: a list of rules, or `{ defaultAction, rules }`. */
export interface RulesFile {
  rules: unknown[];
  defaultAction?: RuleDefaultAction;
}

export const RULES_HELP = `  nettrace rules check FILE
      Validate a rules file (a JSON list of rules, or { "defaultAction", "rules" }):
      every error with its rule and, for a condition, the column and a caret.
      Exit code 0 when the file is valid, 1 when not.

  nettrace rules explain FILE [--request "METHOD URL"] [--status N] [--error CODE]
      Print how the rules are read for each request: in order, which ones decide
      (trace/skip, first match wins), which add (details, mark, break), which are
      decided when the request ends, which are off. With --request, what they do to
      that request (and with --status or --error, to its end).
`;

/** Reads a rules file; throws CliError (exit 2) for an unreadable file or bad JSON. */
export function readRulesFile(path: string): RulesFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CliError(`cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (Array.isArray(data)) return { rules: data };
  if (data && typeof data === 'object') {
    const o = data as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== 'rules' && k !== 'defaultAction');
    if (Array.isArray(o.rules) && extra.length === 0) {
      if (o.defaultAction !== undefined && o.defaultAction !== 'trace' && o.defaultAction !== 'skip')
        throw new CliError(`${path}: "defaultAction" must be "trace" or "skip", not ${JSON.stringify(o.defaultAction)}`);
      return { rules: o.rules, defaultAction: o.defaultAction as RuleDefaultAction | undefined };
    }
  }
  throw new CliError(`${path} must hold a list of rules, or { "defaultAction": "trace" | "skip", "rules": [...] }`);
}

/** The `--rule` flags as rule inputs, in order; ids default to rule-1, rule-2, … Throws UsageError. */
export function rulesFromFlags(flags: readonly string[]): RuleInput[] {
  return flags.map((text, i) => {
    try {
      return parseRuleShortForm(text, `rule-${i + 1}`);
    } catch (err) {
      throw new UsageError(`--rule ${JSON.stringify(text)}: ${describe(err)}`);
    }
  });
}

/** A rule error as one or more lines: the message, and for a condition its caret excerpt. */
export function describe(err: unknown): string {
  if (err instanceof RuleSyntaxError) {
    const who = err.ruleId !== undefined ? `rule ${JSON.stringify(err.ruleId)}: ` : '';
    return `${who}condition: ${err.reason} at column ${err.column}\n${err.excerpt}`;
  }
  if (err instanceof RuleValidationError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** Every problem of a list of rules (not only the first): each rule alone, then the ids. */
export function ruleProblems(rules: readonly unknown[]): string[] {
  const problems: string[] = [];
  // Over the budget of rules in a set: said at once, without reading every rule first.
  if (rules.length > MAX_RULES) {
    try {
      validateRules(rules);
    } catch (err) {
      return [describe(err)];
    }
  }
  const seen = new Map<string, number>();
  rules.forEach((input, i) => {
    // Ids are compared even when a rule is not valid otherwise, so every problem shows at once.
    const id = (input as { id?: unknown } | null)?.id;
    if (typeof id === 'string') {
      const first = seen.get(id);
      if (first !== undefined) problems.push(`rule ${i + 1}: the id ${JSON.stringify(id)} is taken by rule ${first + 1}`);
      else seen.set(id, i);
    }
    try {
      validateRule(input);
    } catch (err) {
      const text = describe(err);
      problems.push(/^rule "/.test(text) ? `rule ${i + 1} ${text.slice(5)}` : `rule ${i + 1}: ${text}`);
    }
  });
  // The set as a whole (src/rules/budget.ts), once every rule is valid.
  if (problems.length === 0) {
    try {
      validateRules(rules);
    } catch (err) {
      problems.push(describe(err));
    }
  }
  return problems;
}

/**
 * The rules of `nettrace run`: the `--rule` flags first (in order), then the `--rules` file's.
 * Validated together (an id twice is an error). Throws UsageError with every problem.
 */
export function runRules(flags: readonly string[], file: string | undefined): { rules: Rule[]; defaultAction?: RuleDefaultAction } {
  const fromFlags = rulesFromFlags(flags);
  const loaded = file !== undefined ? readRulesFile(file) : { rules: [] };
  const all = [...fromFlags, ...loaded.rules];
  const problems = ruleProblems(all);
  if (problems.length > 0) {
    const where = (p: string) => {
      const n = Number(/^rule (\d+)/.exec(p)?.[1]);
      return n <= fromFlags.length ? `--rule ${n}` : `${file} rule ${n - fromFlags.length}`;
    };
    throw new UsageError(problems.map((p) => (/^rule \d+/.test(p) ? p.replace(/^rule \d+/, where(p)) : p)).join('\n'));
  }
  return { rules: validateRules(all), defaultAction: loaded.defaultAction };
}

/**
 * Why a `respond` rule's bodyFile (an absolute path) cannot be its body, or undefined: checked as
 * the program will read it (src/preload/rules/bodyFile.ts): opened without following a link and
 * without blocking (a FIFO's open would wait for a writer), and the descriptor's fstat.
 */
export function bodyFileCheck(path: string): string | undefined {
  const noFollow = constants.O_NOFOLLOW;
  try {
    if (noFollow === undefined && lstatSync(path).isSymbolicLink()) return bodyFileProblem(undefined, 'ELOOP');
  } catch {
    // The open says why.
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (noFollow ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return bodyFileProblem(undefined, e.code ?? 'EIO', e.message);
  }
  try {
    return bodyFileProblem(fstatSync(fd));
  } finally {
    closeSync(fd);
  }
}

// ---- nettrace rules check | explain ------------------------------------------------------------

/** `nettrace rules …`; resolves with the exit code. */
export async function cmdRules(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(RULES_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'check') return rulesCheck(rest);
  if (sub === 'explain') return rulesExplain(rest);
  throw new UsageError(`unknown rules command "${sub}" (nettrace rules check FILE | explain FILE)`);
}

function oneFile(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new UsageError(`usage: ${usage}`);
  return positionals[0];
}

function rulesCheck(argv: string[]): number {
  const { options, positionals } = parseArgs(argv, { help: 'flag' });
  if (options.help) {
    process.stdout.write(RULES_HELP);
    return 0;
  }
  const file = oneFile(positionals, 'nettrace rules check FILE');
  const { rules } = readRulesFile(file);
  const problems = ruleProblems(rules);
  const out = { write: print };
  if (problems.length > 0) {
    for (const p of problems) out.write(`${file}: ${p}\n`);
    out.write(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${plural(rules.length, 'rule')}\n`);
    return 1;
  }
  const valid = validateRules(rules);
  const off = valid.filter((r) => !r.enabled);
  out.write(`${file}: ${plural(valid.length, 'rule')}, all valid; ${valid.length - off.length} enabled\n`);
  for (const r of off) out.write(`  note: rule ${JSON.stringify(r.id)} is off (a rule is on only with "enabled": true)\n`);
  return 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What a rule does when it acts, in words. */
function effect(r: Rule): string {
  switch (r.action) {
    case 'trace':
      return 'record it; stop reading';
    case 'skip':
      return 'do not record it; stop reading';
    case 'details':
      return `capture ${(r.details ?? ['bodies']).join(', ')}; read on`;
    case 'mark':
      return `tag it ${JSON.stringify(r.tag)}; read on`;
    case 'break':
      return 'pause in the debugger before it leaves; read on';
    default:
      return `what if: ${describeWhatIf(r.action, r)} (changes what the program receives${matchedNoun(r) === 'TLS request' ? '; requests over TLS only: https, wss' : ''}); read on`;
  }
}

function rulesExplain(argv: string[]): number {
  const { options, positionals } = parseArgs(argv, {
    request: 'string',
    status: 'string',
    error: 'string',
    client: 'string',
    help: 'flag',
  });
  if (options.help) {
    process.stdout.write(RULES_HELP);
    return 0;
  }
  const file = oneFile(positionals, 'nettrace rules explain FILE [--request "METHOD URL"] [--status N] [--error CODE]');
  const loaded = readRulesFile(file);
  const problems = ruleProblems(loaded.rules);
  if (problems.length > 0) throw new CliError(`${file} is not valid (nettrace rules check ${file}):\n${problems.join('\n')}`, 1);
  const rules = validateRules(loaded.rules);
  const def = loaded.defaultAction ?? 'trace';
  const out: string[] = [];
  out.push(`${file}: for each request the enabled rules are read top to bottom; the first trace/skip rule that matches decides.`);
  const idWidth = Math.min(24, Math.max(2, ...rules.map((r) => r.id.length)));
  let n = 0;
  for (const r of rules) {
    const head = r.enabled ? `${String(++n).padStart(3)}.` : '   -';
    const when = compileCondition(r.condition, { process: { pid: 0, threadId: 0, command: '' } }).startDecidable
      ? ''
      : ' [decided when the request ends]';
    const limit =
      r.limit !== null
        ? ` [first ${r.limit} ${r.limitPer === 'session' ? "in all, the session's processes together" : 'per process'}]`
        : '';
    const what = r.enabled ? `${effect(r)}${when}${limit}` : 'off (not read; "enabled": true turns it on)';
    out.push(`${head} ${r.action.padEnd(7)} ${r.id.padEnd(idWidth)}  if ${r.condition}`);
    out.push(`${' '.repeat(14 + idWidth)}→ ${what}`);
  }
  out.push(
    `     otherwise: ${def === 'trace' ? 'record it' : 'do not record it'} (defaultAction "${def}")${rules.some((r) => r.enabled) ? '' : '; no rule is enabled, so this applies to every request'}`,
  );
  const shadowed = shadowedRules(rules);
  for (const [r, by] of shadowed)
    out.push(`note: rule ${JSON.stringify(r.id)} never acts: rule ${JSON.stringify(by.id)} above it decides every request first`);
  if (typeof options.request === 'string') out.push('', ...explainRequest(rules, def, options));
  print(out.join('\n') + '\n');
  return 0;
}

/** Enabled rules below an enabled, unlimited, always-true trace/skip rule: never read. */
function shadowedRules(rules: readonly Rule[]): Array<[Rule, Rule]> {
  const out: Array<[Rule, Rule]> = [];
  let by: Rule | undefined;
  for (const r of rules) {
    if (!r.enabled) continue;
    if (by) out.push([r, by]);
    else if (isTerminal(r.action) && r.limit === null) {
      const c = compileCondition(r.condition, { process: { pid: 0, threadId: 0, command: '' } });
      if (c.fields.length === 0 && c.constant === true) by = r;
    }
  }
  return out;
}

/** What the rules do to the request of `--request "METHOD URL"` (and its end, with --status/--error). */
function explainRequest(rules: Rule[], def: RuleDefaultAction, options: Record<string, string | boolean | string[]>): string[] {
  const text = String(options.request).trim();
  const m = /^([A-Za-z]+)\s+(\S+)$/.exec(text) ?? /^()(\S+)$/.exec(text);
  let url: URL;
  try {
    url = new URL(m![2]);
  } catch {
    throw new UsageError(`--request must be "METHOD URL" (e.g. "GET https://api.example.com/v1/users"), not ${JSON.stringify(text)}`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  const view: RequestStartView = {
    method: (m![1] || 'GET').toUpperCase(),
    scheme,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80,
    target: url.pathname + url.search,
    client: (typeof options.client === 'string' ? options.client : scheme === 'https' ? 'https' : 'http') as HttpClientKind,
    url: url.href,
  };
  const engine = new RuleEngine(rules, { process: { pid: process.pid, threadId: 0, command: '' }, defaultAction: def });
  const d = engine.start(view);
  const out = [`${view.method} ${view.url}:`];
  const detailNames = (mask: number) => ['bodies', 'sockTrace', 'dnsTrace'].filter((_, i) => mask & (1 << i));
  out.push(
    `  as it starts: ${d.record ? 'recorded' : 'not recorded'}${d.rule ? ` (rule ${JSON.stringify(d.rule.id)})` : ' (the default)'}`,
  );
  if (d.details) out.push(`  captures: ${detailNames(d.details).join(', ')}`);
  if (d.tags) out.push(`  tags: ${d.tags.join(', ')}`);
  if (d.breakRule) out.push(`  pauses in the debugger (rule ${JSON.stringify(d.breakRule.id)})`);
  if (d.whatIf && isWhatIf(d.whatIf.action))
    out.push(`  what if: ${describeWhatIf(d.whatIf.action, d.whatIf)} (rule ${JSON.stringify(d.whatIf.id)})`);
  if (d.pending) {
    out.push(
      '  some rules are decided when it ends' +
        (options.status === undefined && options.error === undefined ? ' (give --status N or --error CODE to see how)' : ''),
    );
    if (options.status !== undefined || options.error !== undefined) {
      const status = options.status !== undefined ? Number(options.status) : undefined;
      if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 999))
        throw new UsageError(`--status must be an HTTP status code, not ${JSON.stringify(options.status)}`);
      const end: RequestEndView = {
        status,
        error: typeof options.error === 'string' ? { code: options.error, phase: 'request' } : null,
      };
      const e = engine.end(d, end);
      const how = [status !== undefined ? `status ${status}` : '', typeof options.error === 'string' ? `error ${options.error}` : '']
        .filter(Boolean)
        .join(', ');
      out.push(
        `  when it ends with ${how}: ${e.keep ? 'kept' : 'dropped'}${e.rule ? ` (rule ${JSON.stringify(e.rule.id)})` : ' (the default)'}`,
      );
      if (e.keep && e.details) out.push(`    keeps: ${detailNames(e.details).join(', ')}`);
      if (e.tags) out.push(`    tags: ${e.tags.join(', ')}`);
    }
  }
  return out;
}
