/**
 * `nettrace helper setup` and `nettrace helper check`: the CLI side of setting up the kernel
 * helper (the same core as the extension's "Net Trace: Set Up Kernel Helper": src/helper/install.ts).
 */

import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  describePlan,
  findPayload,
  inspectPayload,
  installPrefix,
  planSetup,
  privilegedCommand,
  privilegeTool,
  runPlanAsRoot,
  verifyHelper,
  type SetupPlan,
} from '../helper/install';
import { SetupRefusal } from '../helper/setupFiles';
import { parseArgs, UsageError } from './args';
import { defaultNodePath } from '../collector/helperSession';
import { CliError } from './runTraced';
import { sanitize } from './text';

/** Help text of `nettrace helper`. */
export const HELPER_HELP = `  nettrace helper setup [--prefix DIR] [--no-capture] [--from DIR] [--yes]
      Install the kernel helper (kernel TCP metrics, conntrack/NAT, packet capture) as a
      root-owned copy in DIR (default /usr/local/lib/nettrace; DIR and every folder above it
      must be root's and writable by no one else), with file capabilities and,
      for packet capture without root, a sudoers rule for you naming exactly
      \`node DIR/dist/helper.cjs *\`. Prints every privileged step, asks, then runs them
      (directly as root, else through sudo or pkexec) and checks the installed helper.
      --from DIR          where the helper's files are: a checkout with native/build, or
                          the Net Trace extension's folder (default: this package)
      --no-capture        no sudoers rule (kernel metrics and conntrack only)
      --yes               do not ask before running the steps

  nettrace helper check [--helper-root DIR] [--no-capture]
      Start the installed helper on a process of yours and say which features are on.
`;

/** Runs `nettrace helper <setup|check>`; resolves with the exit code. */
export async function cmdHelper(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'check') return check(rest);
  if (sub === 'setup') return setup(rest);
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(HELPER_HELP);
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown helper command "${sub}" (nettrace helper setup | check)`);
}

function nodeOrFail(): string {
  const node = defaultNodePath();
  if (!node) throw new CliError('no `node` on PATH to run the helper with', 1);
  return node;
}

async function check(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, { 'helper-root': 'string', 'no-capture': 'flag', help: 'flag' });
  if (options.help) {
    process.stdout.write(HELPER_HELP);
    return 0;
  }
  const root = typeof options['helper-root'] === 'string' ? resolve(options['helper-root']) : installPrefix();
  const result = await verifyHelper({ root, nodePath: nodeOrFail(), capture: !options['no-capture'] });
  process.stderr.write(`nettrace: the helper in ${root}:\n${result.lines.map((l) => `  ${sanitize(l)}\n`).join('')}`);
  return result.ok ? 0 : 1;
}

async function setup(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, { prefix: 'string', 'no-capture': 'flag', from: 'string', yes: 'flag', help: 'flag' });
  if (options.help) {
    process.stdout.write(HELPER_HELP);
    return 0;
  }
  if (process.platform !== 'linux') throw new CliError(`the kernel helper runs on Linux only (this is ${process.platform})`, 1);
  const from = typeof options.from === 'string' ? resolve(options.from) : dirname(__dirname);
  const payload = findPayload(from);
  if (!payload) {
    throw new CliError(
      `no helper files in ${from} (dist/helper.cjs): pass --from with a checkout built with \`npm run build && npm run build:native\`, or the Net Trace extension's folder (e.g. ~/.vscode/extensions/nettrace.nettrace-*)`,
      1,
    );
  }
  const nodePath = nodeOrFail();
  const err = process.stderr;
  const inspection = inspectPayload(payload, { log: (l) => err.write(`nettrace: ${l}\n`) });
  if (!inspection.nativeHelper) throw new CliError(inspection.nativeProblem ?? 'no native helper to install', 1);
  const prefix = typeof options.prefix === 'string' ? resolve(options.prefix) : installPrefix();
  const capture = !options['no-capture'];
  let plan: SetupPlan;
  try {
    plan = planSetup({ payload, inspection, nodePath, capture, prefix });
  } catch (e) {
    if (e instanceof SetupRefusal) throw new CliError(e.message, 1);
    throw e;
  }
  const tool = privilegeTool();
  if (!tool) throw new CliError('the steps need root, and neither sudo nor pkexec is installed: run this as root', 1);
  err.write(
    `nettrace: setting up the kernel helper in ${prefix} for ${plan.user.name} (uid ${plan.user.uid}).\n` +
      `These steps run as root${tool === 'root' ? '' : ` through ${tool}`}:\n\n${describePlan(plan)}\n\n` +
      (plan.notes.length ? `${plan.notes.map((n) => `note: ${n}\n`).join('')}\n` : ''),
  );
  if (!options.yes) {
    if (!process.stdin.isTTY) throw new CliError('not a terminal: pass --yes to run these steps', 2);
    const rl = createInterface({ input: process.stdin, output: err });
    const answer = await new Promise<string>((r) => rl.question('Run them? [y/N] ', r));
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      err.write('nettrace: nothing was changed\n');
      return 1;
    }
  }
  if (tool === 'root') {
    const r = runPlanAsRoot(plan, (l) => err.write(`${l}\n`));
    if (!r.ok) throw new CliError(`setup failed at "${r.failed ? r.failed.title || r.failed.argv.join(' ') : '?'}": ${r.message}`, 1);
  } else {
    const { command, args } = privilegedCommand(plan, tool);
    const code = await new Promise<number>((res) => {
      const child = spawn(command, args, { stdio: 'inherit' });
      child.on('error', () => res(127));
      child.on('exit', (c) => res(c ?? 1));
    });
    if (code !== 0) throw new CliError(`setup failed (${command} exited ${code}); nothing after the failed step ran`, 1);
  }
  err.write('nettrace: checking the installed helper...\n');
  const result = await verifyHelper({ root: prefix, nodePath, capture: capture || tool === 'root' });
  err.write(result.lines.map((l) => `  ${sanitize(l)}\n`).join(''));
  if (prefix !== installPrefix()) err.write(`nettrace: use it with \`nettrace run --helper-root ${prefix} ...\`\n`);
  return result.ok ? 0 : 1;
}
