/**
 * What the parts of the extension share (extension.ts builds it once in `activate`): the trace
 * store, the panel, the helpers of the sessions, the log and the settings.
 */

import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import type { OptionError } from '../protocol/options';
import type { SessionHelpers } from './helpers';
import { TRACING_SETTINGS, type TracingDefaults } from './launchConfig';
import type { TraceNodeSessions } from './nodeSessions';
import type { PanelHost } from './panel';
import type { RuleService } from './ruleService';
import { guardedSetting } from './settingsGuard';
import type { TraceStore } from './traceStore';

/** The extension's shared state, handed to each `register…` function. */
export interface Services {
  context: vscode.ExtensionContext;
  traces: TraceStore;
  panel: PanelHost;
  helpers: SessionHelpers;
  /** The trace rules set in VS Code (the workspace's and the live sessions'). */
  rules: RuleService;
  /** `nettrace.traceNodeSessions`: whether every Node debug session is traced, and why the last one was not. */
  nodeSessions: NodeSessionState;
  /** Appends a timestamped line to the Net Trace output channel. */
  log: (line: string) => void;
}

/** `nettrace.traceNodeSessions` as the debug provider sees it (traceAllNode.ts NodeSessionSwitch). */
export interface NodeSessionState {
  /** The setting's value now. */
  mode(): TraceNodeSessions;
  /** Why the last Node session was not traced (undefined once one was). */
  readonly lastNotTraced: string | undefined;
  /** Records why a session was not traced (undefined: the last one was traced). */
  noteNotTraced(reason: string | undefined): void;
}

/** Absolute path of this extension's preload bundle (dist/preload.cjs). */
export function preloadPathOf(s: Pick<Services, 'context'>): string {
  return join(s.context.extensionPath, 'dist', 'preload.cjs');
}

/** The `nettrace.*` configuration. */
export function settings(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('nettrace');
}

/**
 * The settings that supply the tracing options' defaults, as set (launchConfig validates them) and
 * as a workspace may set them (settingsGuard.ts: a workspace value that sends, un-redacts or
 * records more than the user's own needs the user's consent).
 */
export function tracingDefaults(): TracingDefaults {
  return Object.fromEntries(TRACING_SETTINGS.map((name) => [name, guardedSetting(name)]));
}

/** An installed copy of the helper (nettrace.helperRoot, machine scope, never a workspace's unless allowed), else this extension's. */
export function helperRoot(extensionPath: string): string {
  const configured = guardedSetting<string>('helperRoot') ?? '';
  return typeof configured === 'string' && isAbsolute(configured) ? configured : extensionPath;
}

/** Says that an invalid option value was ignored (the launch still starts, with the next source's value). */
export function reportOptionError(err: OptionError, log: (line: string) => void): void {
  log(`ignored an invalid option: ${err.message}`);
  void vscode.window.showWarningMessage(`Net Trace: ${err.message} (ignored: the setting or the default applies).`);
}
