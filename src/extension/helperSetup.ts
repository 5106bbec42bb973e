/**
 * "Net Trace: Set Up Kernel Helper": installs the helper the .vsix carries (helper/, see
 * scripts/package.sh) as a root-owned copy, with file capabilities and (packet capture) a sudoers
 * rule for this user, then checks it and points `nettrace.helperRoot` at it. The logic is
 * src/helper/install.ts (shared with `nettrace helper setup`); this file is the VS Code side:
 * the choice, the modal that lists every privileged step before it runs, a terminal for sudo's
 * or pkexec's password prompt, and the report.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { defaultNodePath } from '../collector/helperSession';
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
import { shellQuote } from '../helper/setupFiles';
import { SETUP_COMMAND_TITLE } from '../helper/setupHint';

/** The command's id (package.json contributes.commands). */
export const SET_UP_HELPER_COMMAND = 'nettrace.setUpKernelHelper';

/** Registers "Net Trace: Set Up Kernel Helper". */
export function registerHelperSetup(context: vscode.ExtensionContext): void {
  let output: vscode.OutputChannel | undefined;
  const log = (line: string) => {
    output ??= vscode.window.createOutputChannel('Net Trace: Kernel Helper');
    output.appendLine(line);
  };
  let running = false;
  context.subscriptions.push(
    { dispose: () => output?.dispose() },
    vscode.commands.registerCommand(SET_UP_HELPER_COMMAND, async () => {
      if (running) return;
      running = true;
      try {
        await setUp(context, log, () => output?.show(true));
      } catch (err) {
        log(`setup failed: ${(err as Error).stack ?? String(err)}`);
        void vscode.window.showErrorMessage(`Net Trace: setting up the kernel helper failed: ${(err as Error).message}`);
      } finally {
        running = false;
      }
    }),
  );
}

async function setUp(context: vscode.ExtensionContext, log: (line: string) => void, showLog: () => void): Promise<void> {
  const fail = (message: string) => void vscode.window.showErrorMessage(`Net Trace: ${message}`, { modal: true });
  if (process.platform !== 'linux') return fail(`the kernel helper runs on Linux only (this is ${process.platform}).`);
  const payload = findPayload(context.extensionPath);
  if (!payload) {
    return fail('this build of the extension carries no kernel helper (a universal .vsix): install the linux-x64 one.');
  }
  const nodePath = defaultNodePath();
  if (!nodePath) return fail('the helper runs its Node side with `node`, and there is none on PATH: install Node.js and run this again.');
  const tool = privilegeTool();
  if (!tool) return fail('setting up needs root once, and neither sudo nor pkexec is installed here.');

  let capture = true;
  if (tool !== 'root') {
    const pick = await vscode.window.showQuickPick(
      [
        {
          label: 'Kernel metrics and packet capture',
          description: 'file capabilities + a sudoers rule for you',
          detail: `eBPF TCP metrics and conntrack as you; Save PCAP through \`sudo -n\` for exactly \`${nodePath} ${installPrefix()}/dist/helper.cjs *\``,
          capture: true,
        },
        {
          label: 'Kernel metrics only',
          description: 'file capabilities',
          detail: 'eBPF TCP metrics (RTT, retransmits, cwnd) and conntrack/NAT; no packet capture',
          capture: false,
        },
      ],
      { title: SETUP_COMMAND_TITLE, placeHolder: 'What should the helper be able to do without root?' },
    );
    if (!pick) return;
    capture = pick.capture;
  }

  log(`${SETUP_COMMAND_TITLE}: payload ${payload.dir}, Node ${nodePath}, privileges through ${tool}`);
  const staging = mkdtempSync(join(tmpdir(), 'nettrace-setup-'));
  try {
    const inspection = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Net Trace: checking the kernel helper files…' },
      async () => inspectPayload(payload, { buildDir: staging, log }),
    );
    for (const note of inspection.notes) log(`note: ${note}`);
    if (!inspection.nativeHelper) return fail(inspection.nativeProblem ?? 'no native helper to install.');
    const plan = planSetup({ payload, inspection, nodePath, capture });
    const detail = `${describePlan(plan)}` + (plan.notes.length ? `\n\nNote:\n${plan.notes.map((n) => `• ${n}`).join('\n')}` : '');
    log(`the steps, as root:\n${describePlan(plan)}`);
    const how =
      tool === 'root'
        ? 'as root'
        : tool === 'sudo'
          ? 'as root through sudo (in a terminal, asking your password)'
          : 'as root through pkexec';
    const answer = await vscode.window.showWarningMessage(
      `Net Trace will run these ${plan.steps.length} steps ${how}, installing the kernel helper in ${plan.prefix}:`,
      { modal: true, detail },
      'Run',
    );
    if (answer !== 'Run') return;

    if (tool === 'root') {
      showLog();
      const r = runPlanAsRoot(plan, log);
      if (!r.ok)
        return fail(
          `setting up the kernel helper failed at "${r.failed?.title || r.failed?.argv.join(' ')}": ${r.message} (the output is in "Net Trace: Kernel Helper").`,
        );
    } else {
      const code = await runInTerminal(plan, tool, staging);
      log(`the privileged steps ended with exit status ${code ?? 'unknown (terminal closed)'}`);
      if (code !== 0)
        return fail(`setting up the kernel helper did not finish (exit status ${code ?? 'unknown'}); its terminal shows why.`);
    }

    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Net Trace: checking the installed kernel helper…' },
      () => verifyHelper({ root: plan.prefix, nodePath, capture: capture || tool === 'root' }),
    );
    for (const line of result.lines) log(line);
    const settings = vscode.workspace.getConfiguration('nettrace');
    if (settings.get<string>('helperRoot', '') !== plan.prefix) {
      await settings.update('helperRoot', plan.prefix, vscode.ConfigurationTarget.Global);
      log(`nettrace.helperRoot is now ${plan.prefix}`);
    }
    report(plan, result.ok, result.lines, settings.get<boolean>('pcap', false), showLog);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The outcome, with what to do next (turn capture on for sessions, or read the log). */
function report(plan: SetupPlan, ok: boolean, lines: string[], pcapOn: boolean, showLog: () => void): void {
  const summary = lines.join('; ');
  if (!ok) {
    void vscode.window
      .showWarningMessage(
        `Net Trace: the kernel helper is installed in ${plan.prefix}, but not every feature works: ${summary}`,
        'Show Log',
      )
      .then((b) => b && showLog());
    return;
  }
  const capturing = lines.some((l) => /^packet capture .*: on/.test(l));
  if (capturing && !pcapOn) {
    void vscode.window
      .showInformationMessage(
        `Net Trace: the kernel helper is set up in ${plan.prefix}: ${summary}. Save PCAP needs packet capture turned on for a session (the nettrace.pcap setting, or "pcap": true in the launch configuration).`,
        'Turn On Packet Capture',
      )
      .then((b) => b && vscode.workspace.getConfiguration('nettrace').update('pcap', true, vscode.ConfigurationTarget.Global));
    return;
  }
  void vscode.window.showInformationMessage(
    `Net Trace: the kernel helper is set up in ${plan.prefix}: ${summary}. It is used from the next debug session on.`,
  );
}

/**
 * Runs the plan through sudo or pkexec in a terminal (their password prompt needs one), each step
 * echoed before it runs; resolves with its exit status, read from a file the terminal's shell
 * writes when done (undefined if the terminal was closed first).
 */
async function runInTerminal(plan: SetupPlan, tool: 'sudo' | 'pkexec', staging: string): Promise<number | undefined> {
  const statusFile = join(staging, 'status');
  const { command, args } = privilegedCommand(plan, tool);
  const script = [
    `printf '%s\\n\\n' ${shellQuote(`${SETUP_COMMAND_TITLE}: ${plan.steps.length} steps run as root through ${tool}.`)}`,
    `${[command, ...args].map(shellQuote).join(' ')}`,
    `s=$?`,
    `echo "$s" > ${shellQuote(statusFile)}`,
    `if [ "$s" = 0 ]; then printf '\\nDone: this terminal can be closed.\\n'; else printf '\\nFailed (exit status %s): nothing after the failed step ran.\\n' "$s"; fi`,
  ].join('\n');
  const terminal = vscode.window.createTerminal({ name: SETUP_COMMAND_TITLE, shellPath: '/bin/sh', shellArgs: ['-c', script] });
  terminal.show();
  return new Promise((resolve) => {
    const done = (code: number | undefined) => {
      clearInterval(timer);
      closed.dispose();
      resolve(code);
    };
    const read = (): number | undefined => {
      if (!existsSync(statusFile)) return undefined;
      const n = Number(readFileSync(statusFile, 'utf8').trim());
      return Number.isInteger(n) ? n : undefined;
    };
    const timer = setInterval(() => {
      const code = read();
      if (code !== undefined) done(code);
    }, 500);
    const closed = vscode.window.onDidCloseTerminal((t) => {
      if (t === terminal) done(read());
    });
  });
}
