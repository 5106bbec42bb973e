/**
 * `nettrace`: run a command traced, show a saved trace, or run the offline demo.
 * Errors reach the user as one line ("nettrace: ..."); stacks only with NETTRACE_DEBUG=1.
 */

import { resolve } from 'node:path';
import type { HeaderCaptureMode, Trace } from '../trace/types';
import { INITIATOR_MODES, type InitiatorMode } from '../protocol/preload';
import { countRequest, renderSummary, renderTrace, shouldUseColor, type RequestTotals } from './render';
import { TraceFileError } from '../trace/traceFile';
import { parseArgs, UsageError } from './args';
import { runDemo } from './demo';
import type { HelperSetting } from '../collector/helperSession';
import { CliError, defaultOutName, runTraced } from './runTraced';
import { SHOW_MAX_ROWS, showTrace } from './show';

const HELP = `nettrace — trace every outgoing HTTP request of a Node.js program

Usage:
  nettrace run [options] -- <command> [args...]
      Run the command with tracing injected into it (and every Node child process),
      write the trace, print a summary to stderr, exit with the command's exit code.
      --out FILE          trace file (default ./nettrace-<timestamp>.json)
      --har FILE          also write a HAR 1.2 file
      --headers MODE      none | names | values (default values; secrets are redacted)
      --redact NAME,...   more header names to redact
      --redact-query NAME,...
                          more URL query parameter names to redact (api_key, token,
                          access_token, sig, password, secret, key, ... always are)
      --slow MS           diagnose successful requests slower than this (default 1000)
      --initiator MODE    sampled | all | off: which requests get the stack that made them;
                          sampled (default): the first 100 per thread, then as many as 1% of
                          the program's time allows (the rest are counted)
      --bodies[=BYTES]    keep request/response bodies, up to BYTES each (default 65536)
      --sock-trace[=N]    record every socket read/write, up to N per connection (default 1000)
      --dns-trace[=NS,..] resolve with the in-process resolver and record every DNS message;
                          NS overrides /etc/resolv.conf's nameservers (ip or ip:port)
      --helper MODE       auto | off | required: the privileged helper adds kernel TCP metrics
                          (RTT, retransmits, cwnd), conntrack/NAT and packet capture; auto (the
                          default) uses it when it can start and says why not otherwise
      --pcap FILE         save the traced connections' packets as pcapng (needs the helper as
                          root, through sudo or pkexec; see native/README.md). Not redacted:
                          whatever is sent in clear (plain-HTTP credentials, cookies, query
                          tokens, bodies) is in the file as sent
      --pcap-max-bytes N  size cap of the packet capture (default 100 MiB)
      --pcap-buffer-mib N kernel capture buffer per network device (default 16, 1 to 1024)
      --helper-root DIR   an installed copy of the helper (sudo -n / pkexec rules name
                          its path; see native/README.md), instead of this checkout's
      --quiet             print only the summary line

  nettrace show FILE [--json] [--slow MS]
      Print a saved trace: request table, waterfall, diagnosis of each failure.
      --json prints the trace with timings and diagnoses as JSON.

  nettrace demo [--out-dir DIR]
      Trace a demo app against local servers (no internet needed) and write
      nettrace-demo.json and nettrace-demo.har.

  nettrace --help | --version
`;

function parseSlow(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--slow needs a number of milliseconds, not "${String(value)}"`);
  return n;
}

/** The count of a `--flag[=N]` option: undefined when absent or given without a value. */
function optionalCount(value: string | boolean | undefined, flag: string): number | undefined {
  if (value === undefined || value === true) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} takes a whole number, not "${String(value)}"`);
  return n;
}

async function cmdRun(argv: string[]): Promise<number> {
  const { options, rest } = parseArgs(
    argv,
    {
      out: 'string',
      har: 'string',
      headers: 'string',
      redact: 'string',
      'redact-query': 'string',
      quiet: 'flag',
      slow: 'string',
      initiator: 'string',
      bodies: 'optional',
      'sock-trace': 'optional',
      'dns-trace': 'optional',
      helper: 'string',
      pcap: 'string',
      'pcap-max-bytes': 'string',
      'pcap-buffer-mib': 'string',
      'helper-root': 'string',
      help: 'flag',
    },
    true,
  );
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (rest.length === 0) throw new UsageError('no command given: nettrace run [options] -- <command> [args...]');
  const headers = options.headers as string | undefined;
  if (headers !== undefined && !['none', 'names', 'values'].includes(headers)) {
    throw new UsageError(`--headers must be none, names or values, not "${headers}"`);
  }
  const initiator = options.initiator as string | undefined;
  if (initiator !== undefined && !INITIATOR_MODES.includes(initiator as InitiatorMode)) {
    throw new UsageError(`--initiator must be sampled, all or off, not "${initiator}"`);
  }
  const redact =
    typeof options.redact === 'string'
      ? options.redact
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  const redactQuery =
    typeof options['redact-query'] === 'string'
      ? options['redact-query']
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  const helper = (options.helper as string | undefined) ?? 'auto';
  if (!['auto', 'off', 'required'].includes(helper)) throw new UsageError(`--helper must be auto, off or required, not "${helper}"`);
  let pcapMaxBytes: number | undefined;
  if (options['pcap-max-bytes'] !== undefined) {
    pcapMaxBytes = Number(options['pcap-max-bytes']);
    if (!Number.isSafeInteger(pcapMaxBytes) || pcapMaxBytes < 1024) {
      throw new UsageError(`--pcap-max-bytes takes a number of bytes (at least 1024), not "${String(options['pcap-max-bytes'])}"`);
    }
  }
  const out = resolve(typeof options.out === 'string' ? options.out : defaultOutName());
  const har = typeof options.har === 'string' ? resolve(options.har) : undefined;
  const pcap = typeof options.pcap === 'string' ? resolve(options.pcap) : undefined;
  if (pcapMaxBytes !== undefined && !pcap) throw new UsageError('--pcap-max-bytes needs --pcap FILE');
  let pcapBufferMiB: number | undefined;
  if (options['pcap-buffer-mib'] !== undefined) {
    pcapBufferMiB = Number(options['pcap-buffer-mib']);
    if (!Number.isInteger(pcapBufferMiB) || pcapBufferMiB < 1 || pcapBufferMiB > 1024) {
      throw new UsageError(`--pcap-buffer-mib takes a whole number of MiB from 1 to 1024, not "${String(options['pcap-buffer-mib'])}"`);
    }
    if (!pcap) throw new UsageError('--pcap-buffer-mib needs --pcap FILE');
  }
  const result = await runTraced({
    command: rest[0],
    args: rest.slice(1),
    out,
    har,
    helper: helper as HelperSetting,
    pcap,
    pcapMaxBytes,
    pcapBufferMiB,
    helperRoot: typeof options['helper-root'] === 'string' ? resolve(options['helper-root']) : undefined,
    slowThresholdMs: parseSlow(options.slow),
    redactQuery,
    config: {
      headers: headers as HeaderCaptureMode | undefined,
      initiator: initiator as InitiatorMode | undefined,
      redact,
      bodies: options.bodies !== undefined ? true : undefined,
      bodyMaxBytes: optionalCount(options.bodies, '--bodies'),
      sockTrace: options['sock-trace'] !== undefined ? true : undefined,
      sockTraceMaxOps: optionalCount(options['sock-trace'], '--sock-trace'),
      dnsTrace: options['dns-trace'] !== undefined ? true : undefined,
      dnsServers:
        typeof options['dns-trace'] === 'string'
          ? options['dns-trace']
              .split(',')
              .map((x) => x.trim())
              .filter(Boolean)
          : undefined,
    },
  });
  const err = process.stderr;
  const written = [out, ...(har ? [har] : [])];
  if (result.packetCapture) {
    const pc = result.packetCapture;
    written.push(`${pc.file} (${pc.packets} packet${pc.packets === 1 ? '' : 's'}${pc.truncated ? ', truncated at the size cap' : ''})`);
  }
  const list = written.length > 1 ? `${written.slice(0, -1).join(', ')} and ${written[written.length - 1]}` : written[0];
  if (options.quiet) err.write(`nettrace: ${renderSummary(result.trace)}; wrote ${list}\n`);
  else {
    const [shown, extra] = tableOf(result.trace);
    err.write('\n' + renderTrace(shown, { ...extra, width: err.columns ?? 120, color: shouldUseColor(err) }));
    err.write(`Wrote ${list}\n`);
  }
  if (result.pcapError) err.write(`nettrace: no packet capture was saved to ${pcap}: ${result.pcapError}\n`);
  return result.exitCode;
}

/** The trace as the table shows it: at most SHOW_MAX_ROWS requests, the totals of all. */
function tableOf(trace: Trace): [Trace, { totals?: RequestTotals }] {
  if (trace.httpRequests.length <= SHOW_MAX_ROWS) return [trace, {}];
  const totals: RequestTotals = { requests: 0, failed: 0, reused: 0 };
  for (const r of trace.httpRequests) countRequest(totals, r);
  return [{ ...trace, httpRequests: trace.httpRequests.slice(0, SHOW_MAX_ROWS) }, { totals }];
}

async function cmdShow(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, { json: 'flag', slow: 'string', help: 'flag' });
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('usage: nettrace show FILE [--json]');
  try {
    await showTrace(positionals[0], { json: !!options.json, slowThresholdMs: parseSlow(options.slow) });
  } catch (e) {
    if (e instanceof TraceFileError) throw new CliError(e.message, 1);
    throw e;
  }
  return 0;
}

async function cmdDemo(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, { 'out-dir': 'string', help: 'flag' });
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return runDemo({ outDir: options['out-dir'] as string | undefined });
}

/** Runs the CLI with the given arguments; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return cmdRun(rest);
    case 'show':
      return cmdShow(rest);
    case 'demo':
      return cmdDemo(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
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
  if (err instanceof CliError) {
    process.stderr.write(`nettrace: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else if (err instanceof UsageError) {
    process.stderr.write(`nettrace: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`nettrace: unexpected error: ${message.split('\n')[0]} (NETTRACE_DEBUG=1 shows details)\n`);
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
}, reportAndExit);
