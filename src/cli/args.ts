/**
 * Hand-written argument parsing for the `nettrace` command (no dependency): options as `--name
 * value` or `--name=value`, flags, positionals, and everything after `--` kept verbatim.
 */

import { flagUsage } from '../protocol/options';
import type { OptionDef } from '../protocol/optionBase';

/** A usage error: the message is one line for the user; exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * How each option of a subcommand is parsed: `string` takes a value (`--x v` or `--x=v`), `flag`
 * none, `optional` a value only in the `--x=v` form (bare `--x` is true), `many` a value and may be
 * repeated (every value kept, in order, as a list).
 */
export type OptionSpec = Record<string, 'string' | 'flag' | 'optional' | 'many'>;

/** The result of parsing a subcommand's arguments. */
export interface ParsedArgs {
  options: Record<string, string | boolean | string[]>;
  positionals: string[];
  /** Arguments after `--`, or after the first positional when `stopAtPositional` is set. */
  rest: string[];
}

/**
 * Parses `argv` against `spec`. With `stopAtPositional`, the first positional and everything
 * after it are the command to run (so `nettrace run node app.js --port 1` works without `--`).
 */
export function parseArgs(argv: string[], spec: OptionSpec, stopAtPositional = false): ParsedArgs {
  const options: Record<string, string | boolean | string[]> = {};
  const put = (key: string, value: string) => {
    if (spec[key] !== 'many') options[key] = value;
    else ((options[key] as string[] | undefined) ??= []).push(value);
  };
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return { options, positionals, rest: argv.slice(i + 1) };
    if (arg.startsWith('-') && arg !== '-') {
      const eq = arg.indexOf('=');
      const name = (eq >= 0 ? arg.slice(0, eq) : arg).replace(/^--?/, '');
      const kind = name === 'h' ? spec.help : spec[name];
      if (!kind) throw new UsageError(`unknown option ${eq >= 0 ? arg.slice(0, eq) : arg}`);
      const key = name === 'h' ? 'help' : name;
      if (kind === 'flag') {
        if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
        options[key] = true;
      } else if (kind === 'optional') {
        options[key] = eq >= 0 ? arg.slice(eq + 1) : true;
      } else if (eq >= 0) {
        put(key, arg.slice(eq + 1));
      } else {
        const value = argv[i + 1];
        if (value === undefined || value === '--') throw new UsageError(`option --${name} needs a value`);
        put(key, value);
        i++;
      }
      continue;
    }
    if (stopAtPositional) return { options, positionals, rest: argv.slice(i) };
    positionals.push(arg);
  }
  return { options, positionals, rest: [] };
}

/** The OptionSpec of the flags of `defs` (their `cli` part), plus `--help`. */
export function optionSpecOf(defs: readonly OptionDef[]): OptionSpec {
  const spec: OptionSpec = { help: 'flag' };
  for (const d of defs) {
    if (d.cli)
      spec[d.cli.flag] = d.cli.value === 'none' ? 'flag' : d.cli.value === 'optional' ? 'optional' : d.cli.repeat ? 'many' : 'string';
  }
  return spec;
}

/**
 * The help lines of the flags of `defs`: the usage at `indent`, the text from column `column`
 * (on the next line when the usage is longer), wrapped at `width`; backticks dropped.
 */
export function flagHelp(defs: readonly OptionDef[], indent = 6, column = 26, width = 96): string {
  const lines: string[] = [];
  for (const d of defs) {
    if (!d.cli) continue;
    const usage = ' '.repeat(indent) + flagUsage(d.cli);
    const words = d.cli.help.replace(/`/g, '').split(' ');
    let line = usage.length <= column - 1 ? usage.padEnd(column) : (lines.push(usage), ' '.repeat(column));
    let empty = true;
    for (const w of words) {
      if (!empty && line.length + 1 + w.length > width) {
        lines.push(line);
        line = ' '.repeat(column);
        empty = true;
      }
      line += (empty ? '' : ' ') + w;
      empty = false;
    }
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}
