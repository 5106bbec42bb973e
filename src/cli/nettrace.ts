/**
 * `nettrace`: run a command traced, show a saved trace, or run the offline demo.
 * Errors reach the user as one line ("nettrace: ..."); stacks only with NETTRACE_DEBUG=1.
 */

import { resolve } from 'node:path';
import type { Trace } from '../trace/contract/types';
import type { TraceRule } from '../trace/contract/ruleTypes';
import { describeWhatIf, isWhatIf, matchedNoun, whatIfGaps, type WhatIfParams } from '../rules';
import { OptionError, optionDef, parseOption, resolveTracingOptions, toPreloadConfig } from '../protocol/options';
import { OPTIONS } from '../protocol/optionTable';
import type { OptionDef } from '../protocol/optionBase';
import { countRequest, renderSummary, shouldUseColor, writeTrace, type RequestTotals } from './render';
import { TraceFileError } from '../trace/formats/traceFile';
import { flagHelp, optionSpecOf, parseArgs, UsageError } from './args';
import type { HelperSetting } from '../collector/helperSession';
import { checkWritable, CliError, defaultOutName, runTraced } from './runTraced';
import { RUN_TABLE_ROWS, SHOW_MAX_ROWS, showCommandFor, showTrace } from './show';
import { bodyFileCheck, cmdRules, RULES_HELP, runRules } from './rulesCommand';
import { escapeJsonForTerminal, sanitize, sanitizeLines } from './text';
import type { SpanSink } from '../otlp/sink';
import type { OtlpConfig } from '../otlp/config';

/**
 * The code of the other commands and of OpenTelemetry's export, loaded when used (issue 52: the
 * demo's servers, `http`, `https`, `tls`, `crypto` and `readline` are not `nettrace run`'s start).
 */
const lazy = {
  demo: () => require('./demo') as typeof import('./demo'),
  diff: () => require('./diff') as typeof import('./diff'),
  helperSetup: () => require('./helperSetup') as typeof import('./helperSetup'),
  otlpConfig: () => require('../otlp/config') as typeof import('../otlp/config'),
  exportTrace: () => require('../otlp/exportTrace') as typeof import('../otlp/exportTrace'),
  sink: () => require('../otlp/sink') as typeof import('../otlp/sink'),
  replay: () => require('./replay') as typeof import('./replay'),
  replayLines: () => require('./replayLines') as typeof import('./replayLines'),
};

/** The flags of `nettrace run` (src/protocol/options.ts). */
const RUN_OPTIONS = OPTIONS.filter((o) => o.cli);

const help = (): string => `nettrace — trace every outgoing HTTP request of a Node.js program

Usage:
  nettrace run [options] -- <command> [args...]
      Run the command with tracing injected into it (and every Node child process),
      write the trace, print a summary to stderr, exit with the command's exit code.
${flagHelp(RUN_OPTIONS)}
  nettrace show FILE [--summary] [--all] [--json] [--slow MS]
      Print a saved trace: request table, waterfall, diagnosis of each failure. Past 300
      requests it leads with the summary by route, the failures and the slowest instead;
      --all lists every row. --summary prints the summary by route (host, method, route:
      count, errors, p50/p95/p99/max of the total and each phase, connections, lines).
      --json prints the trace (with --summary: the summary) with timings and diagnoses as JSON.

  nettrace diff A.json B.json [--json] [--all] [--min-ms MS]
      Compare two saved traces by route: the change in count, error rate, reuse and each
      percentile per phase, judged on the two samples, one sentence per notable change
      (significant and at least --min-ms, default 20, and 20%), routes new and gone.
      --all lists every phase's change.

  nettrace export --otlp[=URL] FILE | nettrace export --otlp-file OUT.json FILE
      Send a saved trace to an OpenTelemetry backend as spans (or write them as OTLP/JSON),
      reading it streaming; the OTEL_EXPORTER_OTLP_* variables apply (docs/opentelemetry.md).

  nettrace demo [--out-dir DIR]
      Trace a demo app against local servers (no internet needed) and write
      nettrace-demo.json and nettrace-demo.har.

${RULES_HELP}
${lazy.helperSetup().HELPER_HELP}
  nettrace --help | --version
`;

/** Validates one flag's value with the option's own rules; a bad value is a UsageError naming the flag. */
function flagValue(def: OptionDef, given: string | boolean | string[] | undefined): ReturnType<typeof parseOption> | undefined {
  // Only repeatable flags (`many`) give a list; for any other the last value counts.
  const raw = Array.isArray(given) ? given[given.length - 1] : given;
  if (raw === undefined) return undefined;
  try {
    return parseOption(def, raw, { cli: true, label: `--${def.cli?.flag ?? def.name}` });
  } catch (err) {
    if (err instanceof OptionError) throw new UsageError(err.message);
    throw err;
  }
}

function parseSlow(value: string | boolean | string[] | undefined): number | undefined {
  return flagValue(optionDef('slowThresholdMs'), value) as number | undefined;
}

/** `--otlp URL` as `--otlp=URL` (the flag's value is optional; a following http(s) URL is its value, not the command). */
function joinOtlpUrl(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return out.concat(argv.slice(i));
    if (argv[i] === '--otlp' && /^https?:\/\//i.test(argv[i + 1] ?? '')) out.push(`--otlp=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** The OTLP configuration of `--otlp[=URL]`, or a UsageError naming what is wrong. */
function otlpConfigOf(url: string | undefined): OtlpConfig {
  const { OtlpConfigError, resolveOtlpConfig } = lazy.otlpConfig();
  try {
    return resolveOtlpConfig(process.env, url);
  } catch (err) {
    if (err instanceof OtlpConfigError) throw new UsageError(err.message);
    throw err;
  }
}

async function cmdRun(argv: string[]): Promise<number> {
  const { options, rest } = parseArgs(joinOtlpUrl(argv), optionSpecOf(RUN_OPTIONS), true);
  if (options.help) {
    process.stdout.write(help());
    return 0;
  }
  if (rest.length === 0) throw new UsageError('no command given: nettrace run [options] -- <command> [args...]');
  // The tracing options, validated and normalized as the extension's (src/protocol/options.ts).
  const given: Record<string, unknown> = {};
  for (const def of RUN_OPTIONS) if (def.launch && options[def.cli!.flag] !== undefined) given[def.name] = options[def.cli!.flag];
  // The trace rules (--rule ..., --rules FILE) are validated by src/rules, with a caret under a bad condition.
  delete given.rules;
  // --otlp[=URL]: bare, the endpoint comes from the environment.
  delete given.otlp;
  const otlp = options.otlp !== undefined ? otlpConfigOf(typeof options.otlp === 'string' ? options.otlp : undefined) : undefined;
  const otlpFile = typeof options['otlp-file'] === 'string' ? resolve(options['otlp-file']) : undefined;
  if (otlpFile && !otlp) {
    try {
      lazy.otlpConfig().resourceFromEnv(process.env);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const ruleSet = runRules((options.rule as string[] | undefined) ?? [], typeof options.rules === 'string' ? options.rules : undefined);
  for (const r of ruleSet.rules) {
    if (!r.enabled || !isWhatIf(r.action)) continue;
    // A body file is read by the program: named from here, so a relative path means the same file there.
    if (r.respond?.bodyFile !== undefined) {
      r.respond.bodyFile = resolve(r.respond.bodyFile);
      const problem = bodyFileCheck(r.respond.bodyFile);
      if (problem !== undefined)
        throw new UsageError(`rule ${JSON.stringify(r.id)}: its bodyFile ${JSON.stringify(r.respond.bodyFile)} ${problem}`);
    }
    const gap = whatIfGaps(r.action, r);
    if (gap !== undefined) process.stderr.write(`nettrace: rule ${sanitize(JSON.stringify(r.id))}: ${gap}\n`);
  }
  // --dns-trace[=NS,...] is dnsTrace and dnsServers in one; --pcap FILE turns the capture on.
  if (typeof given.dnsTrace === 'string') [given.dnsTrace, given.dnsServers] = [true, given.dnsTrace];
  if (given.pcap !== undefined) given.pcap = true;
  const tracing = resolveTracingOptions([{ values: given, cli: true, label: (d) => `--${d.cli?.flag ?? d.name}` }], (e) => {
    throw new UsageError(e.message);
  });
  const pcapMaxBytes = flagValue(optionDef('pcapMaxBytes'), options['pcap-max-bytes']) as number | undefined;
  const pcapBufferMiB = flagValue(optionDef('pcapBufferMiB'), options['pcap-buffer-mib']) as number | undefined;
  const out = resolve(typeof options.out === 'string' ? options.out : defaultOutName());
  const har = typeof options.har === 'string' ? resolve(options.har) : undefined;
  const pcap = typeof options.pcap === 'string' ? resolve(options.pcap) : undefined;
  if (pcapMaxBytes !== undefined && !pcap) throw new UsageError('--pcap-max-bytes needs --pcap FILE');
  if (pcapBufferMiB !== undefined && !pcap) throw new UsageError('--pcap-buffer-mib needs --pcap FILE');
  // --replay FILE: read now, so a file that is not a recording is refused before anything runs.
  const replay = tracing.replay ? lazy.replay().loadReplay({ ...tracing.replay, file: resolve(tracing.replay.file) }) : undefined;
  const { ipcPath: _ipcPath, ...config } = toPreloadConfig(tracing, '');
  const result = await runTraced({
    command: rest[0],
    args: rest.slice(1),
    out,
    har,
    helper: tracing.helper as HelperSetting,
    pcap,
    pcapMaxBytes,
    pcapBufferMiB,
    helperRoot: typeof options['helper-root'] === 'string' ? resolve(options['helper-root']) : undefined,
    slowThresholdMs: tracing.slowThresholdMs,
    redactQuery: tracing.redactQuery,
    config,
    rules: ruleSet.rules,
    // --default-action wins over the file's.
    defaultAction: options['default-action'] !== undefined ? tracing.defaultAction : (ruleSet.defaultAction ?? tracing.defaultAction),
    otlp,
    otlpFile,
    replay,
  });
  const err = process.stderr;
  const written = [out, ...(har ? [har] : []), ...(otlpFile ? [otlpFile] : [])];
  if (result.packetCapture) {
    const pc = result.packetCapture;
    written.push(`${pc.file} (${pc.packets} packet${pc.packets === 1 ? '' : 's'}${pc.truncated ? ', truncated at the size cap' : ''})`);
  }
  const list = written.length > 1 ? `${written.slice(0, -1).join(', ')} and ${written[written.length - 1]}` : written[0];
  const replayText = result.trace.replay ? lazy.replayLines().replayLines(result.trace, options.quiet ? 0 : 5) : '';
  if (options.quiet)
    err.write(
      `nettrace: ${renderSummary(result.trace)}; wrote ${list}\n${whatIfSummary(result.trace)}${replayText ? `nettrace: ${replayText}` : ''}`,
    );
  else {
    const [shown, extra] = tableOf(result.trace);
    err.write('\n');
    // In pieces as it is made: a 100,000-row table is neither held whole nor as lines.
    const moreHint = `\`${showCommandFor(out, process.cwd())}\` lists all`;
    writeTrace(shown, { ...extra, maxRows: RUN_TABLE_ROWS, moreHint, width: err.columns ?? 120, color: shouldUseColor(err) }, (text) =>
      err.write(text),
    );
    const rulesLine = rulesSummary(result.trace);
    if (rulesLine) err.write(rulesLine);
    if (replayText) err.write(replayText);
    err.write(`Wrote ${list}\n`);
  }
  if (result.pcapError) err.write(`nettrace: no packet capture was saved to ${pcap}: ${sanitize(result.pcapError)}\n`);
  const lost = result.trace.stats.undeliveredSpans;
  if (otlp && lost)
    err.write(
      `nettrace: ${lost} OpenTelemetry span${lost === 1 ? ' was' : 's were'} not delivered to ${sanitize(lazy.otlpConfig().shownEndpoint(otlp.url))} (stats.undeliveredSpans; see the trace's warnings)\n`,
    );
  runEnded = true;
  return result.exitCode;
}

/**
 * Set when `nettrace run` has done all its work (files written, helper and collector stopped,
 * table written): the process then exits at once (exitAtOnce) instead of letting Node end its
 * loop, which spent 6–9 ms more on V8's work on the main thread (no I/O, no handle of the run
 * left; measured by strace, issue 65) while the user waits for the prompt.
 */
let runEnded = false;

/** Exits with `code` now when a finished run's output has all reached stdout and stderr (synchronous on Linux; a pipe on macOS may still hold some: then Node's own end). */
function exitAtOnce(code: number): void {
  if (runEnded && process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
}

/** A rule's action in words: `fail reset`, `delay first-byte 200 ms` (a saved trace's parameters are untrusted: sanitized). */
function whatIfWords(r: TraceRule): string {
  if (!isWhatIf(r.action)) return r.action;
  try {
    return sanitize(describeWhatIf(r.action, r as WhatIfParams));
  } catch {
    return r.action;
  }
}

/** For --quiet: one line per enabled what-if rule, what it did and how often (`nettrace: what if "down" (fail reset): acted on 3 of 3 matching requests`), or ''. */
function whatIfSummary(trace: Trace): string {
  const rules = trace.traceRules?.rules.filter((r) => r.enabled && isWhatIf(r.action)) ?? [];
  return rules
    .map(
      (r) =>
        `nettrace: what if ${sanitize(JSON.stringify(r.id))} (${whatIfWords(r)}): acted on ${r.acted} of ${r.matched} matching ${matchedNoun(r)}${r.matched === 1 ? '' : 's'}${r.limitReached ? ` (limit ${r.limit} reached)` : ''}\n`,
    )
    .join('');
}

/** One line per enabled rule with its counters (after the table), or ''. */
function rulesSummary(trace: Trace): string {
  const rules = trace.traceRules?.rules.filter((r) => r.enabled) ?? [];
  if (rules.length === 0) return '';
  const lines = rules.map(
    (r) =>
      `  ${whatIfWords(r)} ${sanitize(r.id)}: matched ${r.matched}${matchedNoun(r) === 'request' ? '' : ` ${matchedNoun(r)}${r.matched === 1 ? '' : 's'}`}, acted on ${r.acted}${r.limitReached ? ` (limit ${r.limit} reached)` : ''}`,
  );
  return `Rules (default: ${trace.traceRules!.defaultAction}):\n${lines.join('\n')}\n`;
}

/** The trace as the table shows it: at most SHOW_MAX_ROWS requests, the totals of all. */
function tableOf(trace: Trace): [Trace, { totals?: RequestTotals }] {
  if (trace.httpRequests.length <= SHOW_MAX_ROWS) return [trace, {}];
  const totals: RequestTotals = { requests: 0, failed: 0, reused: 0 };
  for (const r of trace.httpRequests) countRequest(totals, r);
  return [{ ...trace, httpRequests: trace.httpRequests.slice(0, SHOW_MAX_ROWS) }, { totals }];
}

async function cmdShow(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, { json: 'flag', slow: 'string', summary: 'flag', all: 'flag', help: 'flag' });
  if (options.help) {
    process.stdout.write(help());
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('usage: nettrace show FILE [--summary] [--all] [--json]');
  try {
    await showTrace(positionals[0], {
      json: !!options.json,
      slowThresholdMs: parseSlow(options.slow),
      summary: !!options.summary,
      all: !!options.all,
    });
  } catch (e) {
    if (e instanceof TraceFileError) throw new CliError(e.message, 1);
    throw e;
  }
  return 0;
}

/** `nettrace diff A.json B.json`: what changed between two traces, by route. */
async function cmdDiff(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, { json: 'flag', all: 'flag', slow: 'string', 'min-ms': 'string', help: 'flag' });
  if (options.help) {
    process.stdout.write(help());
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError('usage: nettrace diff A.json B.json [--json] [--all]');
  const minMs = options['min-ms'] === undefined ? undefined : Number(options['min-ms']);
  if (minMs !== undefined && !(minMs >= 0)) throw new UsageError('--min-ms takes a number of milliseconds');
  let diff;
  try {
    diff = await lazy.diff().diffTraceFiles(positionals[0], positionals[1], { slowThresholdMs: parseSlow(options.slow), minMs });
  } catch (e) {
    if (e instanceof TraceFileError) throw new CliError(e.message, 1);
    throw e;
  }
  const out = process.stdout;
  out.write(
    options.json
      ? escapeJsonForTerminal(JSON.stringify(diff, null, 1)) + '\n'
      : lazy.diff().renderDiff(diff, [positionals[0], positionals[1]], {
          width: out.columns ?? 120,
          color: shouldUseColor(out),
          all: !!options.all,
        }),
  );
  return 0;
}

const EXPORT_USAGE = 'usage: nettrace export (--otlp[=URL] | --otlp-file FILE) TRACE.json';

/** `nettrace export --otlp URL trace.json`: sends a saved trace's spans, streaming; exit 1 when some were not delivered. */
async function cmdExport(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(joinOtlpUrl(argv), { otlp: 'optional', 'otlp-file': 'string', slow: 'string', help: 'flag' });
  if (options.help) {
    process.stdout.write(help());
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(EXPORT_USAGE);
  if (options.otlp === undefined && options['otlp-file'] === undefined) throw new UsageError(`say where the spans go: ${EXPORT_USAGE}`);
  if (options.otlp !== undefined && options['otlp-file'] !== undefined) throw new UsageError(`one destination at a time: ${EXPORT_USAGE}`);
  const config = options.otlp !== undefined ? otlpConfigOf(typeof options.otlp === 'string' ? options.otlp : undefined) : undefined;
  const { resourceFromEnv, shownEndpoint } = lazy.otlpConfig();
  const { OtlpFileSink, OtlpSink } = lazy.sink();
  let resource;
  try {
    resource = config ?? resourceFromEnv(process.env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const file = typeof options['otlp-file'] === 'string' ? resolve(options['otlp-file']) : undefined;
  if (file) checkWritable(file);
  const sink: SpanSink = config ? new OtlpSink(config) : new OtlpFileSink(file!);
  let result;
  try {
    result = await lazy.exportTrace().exportTraceFile(positionals[0], sink, {
      serviceName: resource.serviceName,
      resourceAttributes: resource.resourceAttributes,
      slowThresholdMs: parseSlow(options.slow),
    });
  } catch (e) {
    if (e instanceof TraceFileError) throw new CliError(e.message, 1);
    throw e;
  }
  const where = sanitize(config ? `${shownEndpoint(config.url)} (${config.protocol})` : file!);
  process.stderr.write(
    `nettrace: ${result.requests} request${result.requests === 1 ? '' : 's'}, ${result.delivered} of ${result.spans} spans sent to ${where}\n`,
  );
  if (result.undelivered > 0) {
    // The error may quote the backend (its status message).
    process.stderr.write(`nettrace: ${result.undelivered} spans were not delivered: ${sanitize(result.firstError ?? 'unknown error')}\n`);
    return 1;
  }
  return 0;
}

async function cmdDemo(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, { 'out-dir': 'string', help: 'flag' });
  if (options.help) {
    process.stdout.write(help());
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return lazy.demo().runDemo({ outDir: options['out-dir'] as string | undefined });
}

/** The CLI's commands by name: each runs with the arguments after its name and resolves with the exit code. */
const COMMANDS: Readonly<Record<string, (argv: string[]) => Promise<number>>> = {
  run: cmdRun,
  show: cmdShow,
  demo: cmdDemo,
  diff: cmdDiff,
  export: cmdExport,
  helper: (argv) => lazy.helperSetup().cmdHelper(argv),
  rules: cmdRules,
};

/** Runs the CLI with the given arguments; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && Object.hasOwn(COMMANDS, command)) return COMMANDS[command](rest);
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(help());
      return command === undefined ? 2 : 0;
    case '--version':
    case '-v':
      process.stdout.write('nettrace 0.1.0\n');
      return 0;
    default:
      throw new UsageError(`unknown command "${command}" (try nettrace --help)`);
  }
}

function reportAndExit(err: unknown): void {
  if (process.env.NETTRACE_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  // A message may quote a file (a rules file's ids and conditions, a JSON error's character): made inert.
  if (err instanceof CliError) {
    process.stderr.write(`nettrace: ${sanitizeLines(err.message)}\n`);
    process.exitCode = err.exitCode;
  } else if (err instanceof UsageError) {
    process.stderr.write(`nettrace: ${sanitizeLines(err.message)}\n`);
    process.exitCode = 2;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`nettrace: unexpected error: ${sanitize(message.split('\n')[0])} (NETTRACE_DEBUG=1 shows details)\n`);
    process.exitCode = 2;
  }
}

// `nettrace show x.json | head`: a closed pipe is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  exitAtOnce(code);
}, reportAndExit);
