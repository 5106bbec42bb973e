/**
 * The debug side of the extension: the `nettrace` configuration provider (phase 1, see
 * launchConfig.ts), the `pwa-node`/`node` provider that starts a collector per session and
 * injects the preload (phase 2), and the session lifecycle (start, pause, end).
 */

import { isAbsolute, join, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import {
  DEBUG_TYPE,
  defaultLaunchConfig,
  describeLaunch,
  EnvFileError,
  injectTracing,
  isEmptyConfig,
  needsTracing,
  toNodeLaunchConfig,
  type NettraceLaunchConfig,
} from './launchConfig';
import { registerPauseFlush } from './pauseFlush';
import { reportOptionError, tracingDefaults, type Services } from './services';

/** Registers the configuration providers and the session listeners; `onSessions` runs when sessions start or end. */
export function registerDebugProviders(s: Services, onSessions: () => void): void {
  const { context, traces, panel, log } = s;
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, {
      provideDebugConfigurations: (folder) => [defaultLaunchConfig(guessProgram(folder))],
      resolveDebugConfiguration: (_folder, config) => resolveNettrace(config as NettraceLaunchConfig, log),
    }),
    vscode.debug.registerDebugConfigurationProvider(
      DEBUG_TYPE,
      { provideDebugConfigurations: () => [{ ...defaultLaunchConfig('${file}'), name: 'Net Trace: Current File' }] },
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
  );
  const inject = injectProvider(s);
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider('pwa-node', inject),
    vscode.debug.registerDebugConfigurationProvider('node', inject),
  );

  context.subscriptions.push(
    vscode.debug.onDidStartDebugSession((session) => {
      const entry = traces.attach(session.configuration.__nettraceSession, session.id);
      if (!entry) return;
      if (entry.openPanel !== false) panel.show({ preserveFocus: true });
      panel.showTrace(entry.key);
      onSessions();
    }),
    vscode.debug.onDidTerminateDebugSession((session) => {
      const entry = traces.byDebugSession(session.id);
      if (!entry || entry.origin !== 'current') return;
      // A session that ends stopped at a breakpoint ends its pause.
      entry.session?.debuggerContinued();
      // The helper's last readings go into the trace first.
      void s.helpers
        .finish(entry.key, 2000)
        .then(() => traces.end(entry.key))
        .then(() => s.helpers.prune());
    }),
  );

  // Paused at a breakpoint, the program's flush timer cannot fire: ask it to flush through the
  // debugger, so the panel lists what completed before the pause.
  // The same tracker records the pauses (the trace's `debuggerPauses`, a gap in the waterfall).
  context.subscriptions.push(
    registerPauseFlush((c) => {
      const entry = traces.bySessionMarker(c.__nettraceSession);
      return entry?.origin === 'current' ? entry.session : undefined;
    }, log),
  );
}

/**
 * Phase 1 (before variables are substituted): the type becomes js-debug's, which VS Code resolves
 * next; F5 without a launch.json runs the active JS/TS file. Invalid tracing options are reported
 * and replaced by their settings or defaults.
 */
function resolveNettrace(config: NettraceLaunchConfig, log: (line: string) => void): vscode.DebugConfiguration | undefined {
  let c = config;
  if (isEmptyConfig(c)) {
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc || !/^(javascript|typescript)(react)?$/.test(doc.languageId)) {
      void vscode.window.showErrorMessage(
        'Net Trace: open the JavaScript or TypeScript file to run, or add a "Net Trace" launch configuration.',
      );
      return undefined;
    }
    c = defaultLaunchConfig('${file}');
  }
  return toNodeLaunchConfig(c, tracingDefaults(), (err) => reportOptionError(err, log)) as unknown as vscode.DebugConfiguration;
}

/**
 * Phase 2, after js-debug's own resolution and variable substitution: only for configurations
 * that came from a Net Trace launch (they carry `__nettrace`). Starts the session's collector,
 * puts the preload into the environment and starts the helper.
 */
function injectProvider(s: Services): vscode.DebugConfigurationProvider {
  const { traces, log } = s;
  const preload = join(s.context.extensionPath, 'dist', 'preload.cjs');
  return {
    async resolveDebugConfigurationWithSubstitutedVariables(folder, config) {
      if (!needsTracing(config) || config.__nettraceSession) return config;
      const tracing = config.__nettrace;
      let prepared: Awaited<ReturnType<typeof traces.prepare>>;
      // The workspace's rules (added in the panel or the palette) first, then launch.json's and the setting's.
      const launchRules = s.rules.rulesForLaunch(tracing.rules);
      try {
        prepared = await traces.prepare(describeLaunch(config), {
          openPanel: tracing.openPanel,
          slowThresholdMs: tracing.slowThresholdMs,
          redactQuery: tracing.redactQuery,
          rules: launchRules.rules,
          defaultAction: tracing.defaultAction,
          otlp: tracing.otlp,
        });
      } catch (err) {
        // An invalid rule (src/rules: RuleValidationError / RuleSyntaxError, with its position): say so, start nothing.
        void vscode.window.showErrorMessage(`Net Trace: the trace rules are not valid — ${(err as Error).message}`);
        return undefined;
      }
      const { key, ipcPath, rulesConfig } = prepared;
      s.rules.noteSession(key, launchRules.workspaceIds);
      try {
        const resolved = injectTracing(config, {
          preloadPath: preload,
          ipcPath,
          sessionId: key,
          workspaceFolder: folder?.uri.fsPath,
          rulesConfig,
        });
        if (tracing.helper === 'off') {
          s.helpers.off(key, 'turned off ("helper": "off" in the launch configuration, or the nettrace.helper setting)');
        } else s.helpers.startFor(key, tracing.pcap);
        log(
          `${key}: launching ${JSON.stringify(resolved.program ?? resolved.runtimeExecutable ?? '')} with NODE_OPTIONS=${resolved.env?.NODE_OPTIONS ?? ''}`,
        );
        return resolved as unknown as vscode.DebugConfiguration;
      } catch (err) {
        void traces.end(key);
        if (err instanceof EnvFileError) {
          void vscode.window.showErrorMessage(`Net Trace: ${err.message}`);
          return undefined;
        }
        throw err;
      }
    },
  };
}

/** The program of the initial configuration: the active JS/TS file of the folder, else index.js. */
function guessProgram(folder: vscode.WorkspaceFolder | undefined): string {
  const doc = vscode.window.activeTextEditor?.document;
  if (folder && doc && doc.uri.scheme === 'file' && /^(javascript|typescript)/.test(doc.languageId)) {
    const rel = relative(folder.uri.fsPath, doc.uri.fsPath);
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return `\${workspaceFolder}/${rel.split(sep).join('/')}`;
  }
  return '${workspaceFolder}/index.js';
}
