/**
 * Replay and recording in the editor (docs/replay.md, "In VS Code"): the panel's "Record the next
 * run for replay" toggle, a launch's recording and replay as they start (the recording read, the
 * workspace-trust gate), **Replay This Run** on a finished or opened trace (the same launch
 * started again with the saved recording), and what the status bar says while a replay runs. The
 * parts without `vscode`: replayLaunch.ts.
 *
 * A replay changes what the program receives, so it starts only from the user's own launch
 * configuration, command or panel: never from settings (the replay options are no settings), and
 * not in an untrusted workspace (settingsGuard.ts replayIfTrusted, the what-if rules' gate).
 */

import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ReplaySetup } from '../collector/replay';
import type { ReplayCounts } from '../trace/contract/replayMark';
import { describeLaunch, type LaunchTracing, type NodeLaunchConfig } from './launchConfig';
import {
  isRecorded,
  launchCandidates,
  loadReplayFile,
  namedLaunches,
  NOT_RECORDED,
  ReplayFileError,
  replayConfigOf,
  replayLaunchOf,
  sameLaunch,
  withRecordNext,
} from './replayLaunch';
import type { Services } from './services';
import { replayIfTrusted } from './settingsGuard';
import type { TraceEntry } from './traceStore';

/** The button of the "not recorded" message that turns the toolbar's toggle on. */
export const RECORD_NEXT_BUTTON = 'Record the Next Run';

/** A traced launch as it was handed to the tracing (before the preload went into its environment), by trace key. */
interface Launched {
  folder: vscode.WorkspaceFolder | undefined;
  config: NodeLaunchConfig;
}

/** The editor's replay state, for the window: the toolbar's toggle, each trace's launch, each replay's recording. */
export const replayState = {
  /** "Record the next run for replay": while on, each launch started records (withRecordNext). */
  recordNext: false,
  /** Called when `recordNext` changed (the panel's toolbar follows). */
  onRecordNext: undefined as ((on: boolean) => void) | undefined,
  /** The launches that recorded into each trace, in the order they started (a compound's services: several). */
  launches: new Map<string, Launched[]>(),
  /** The recording each replaying trace answers from (its file name), by trace key. */
  files: new Map<string, string>(),
};

/** Turns the toolbar's "Record the next run for replay" on or off (undefined: the other way). */
export function setRecordNext(s: Pick<Services, 'log'>, on = !replayState.recordNext): void {
  replayState.recordNext = on;
  s.log(`record the next run for replay: ${on ? 'on (each launch started records what a replay needs)' : 'off'}`);
  replayState.onRecordNext?.(on);
}

/** What a launch starts with: its tracing (the toggle applied, a replay left out where not trusted) and the recording its replay reads. */
export interface LaunchStart {
  tracing: LaunchTracing;
  replay?: ReplaySetup;
}

/**
 * The tracing a launch starts with, and its replay read: the toolbar's toggle makes it record; its
 * `replay` is off in an untrusted workspace (said once), and read from its file (relative to the
 * launch's `cwd`, else its folder). A recording that cannot be read stops the launch (undefined,
 * after an error that says why): a replay never falls back to the network by surprise.
 */
export async function launchStart(
  s: Services,
  folder: vscode.WorkspaceFolder | undefined,
  config: NodeLaunchConfig,
): Promise<LaunchStart | undefined> {
  let tracing = withRecordNext(replayIfTrusted(config.__nettrace), replayState.recordNext);
  if (!tracing.replay) return { tracing };
  // A launch.json's replay is shown to the user before it acts, as its what-if rules are; the panel's Replay This Run is the user's own.
  if (config[FROM_PANEL] !== PANEL_TOKEN && !(await confirmLaunchReplay(s, String(config.name), tracing.replay.file))) {
    const { replay: _replay, ...rest } = tracing;
    tracing = withRecordNext(rest as LaunchTracing, replayState.recordNext);
    return { tracing };
  }
  try {
    const replay = await loadReplayFile(
      tracing.replay,
      config.cwd,
      folder?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    );
    s.log(
      `replay of ${replay.file}: ${replay.table.calls.length} recorded calls${replay.table.warnings.length ? ` (${replay.table.warnings.map((w) => w.message).join(' ')})` : ''}`,
    );
    return { tracing, replay };
  } catch (err) {
    if (!(err instanceof ReplayFileError)) throw err;
    s.log(`replay not started: ${err.message}`);
    void vscode.window.showErrorMessage(
      `Net Trace: "${config.name}" was not started: its replay cannot be read — ${err.message}. (A replay never falls back to the network.)`,
    );
    return undefined;
  }
}

/** The workspaceState key of the launch configurations' replays the user allowed (`name` and file, as JSON). */
export const ALLOWED_LAUNCH_REPLAY_KEY = 'nettrace.allowedLaunchReplay';
/** The prompt's buttons (launchWhatIf.ts's words). */
export const LAUNCH_REPLAY_BUTTONS = { allow: 'Allow', notNow: 'Not now' } as const;
/**
 * The mark of a launch Replay This Run started (the user's own click: not asked again), with a
 * value made for this window: a launch.json that writes the attribute itself does not have it.
 */
export const FROM_PANEL = '__nettraceReplayFromPanel';
const PANEL_TOKEN = randomUUID();

/**
 * Whether a launch configuration's replay may act: a cloned repository's launch.json is read as it
 * is, so before its replay changes what the program receives on the first F5 the user is shown it
 * (a modal, as for its what-if rules, launchWhatIf.ts): **Allow** (remembered in this workspace for
 * that configuration and file) or **Not now** (this session runs without it, against the network).
 */
async function confirmLaunchReplay(s: Services, name: string, file: string): Promise<boolean> {
  const memento = s.context.workspaceState;
  const key = JSON.stringify([name, file]);
  const allowed = memento?.get<string[]>(ALLOWED_LAUNCH_REPLAY_KEY) ?? [];
  if (allowed.includes(key)) return true;
  const answer = await vscode.window.showWarningMessage(
    `Net Trace: the launch configuration "${name}" replays ${file}: every request of the program is answered from that recording instead of the network (its statuses, bodies and failures).`,
    {
      modal: true,
      detail: `Allow: it replays from this session on (asked again for another file). Not now: this session runs without the replay, against the network.`,
    },
    LAUNCH_REPLAY_BUTTONS.allow,
    LAUNCH_REPLAY_BUTTONS.notNow,
  );
  if (answer === LAUNCH_REPLAY_BUTTONS.allow) {
    await memento?.update(ALLOWED_LAUNCH_REPLAY_KEY, [...allowed, key]);
    s.log(`the replay of "${name}" (${file}) allowed in this workspace`);
    return true;
  }
  s.log(`the replay of "${name}" (${file}) left out of this session (not allowed)`);
  return false;
}

/**
 * Keeps each launch that records into a trace (for Replay This Run: every service of a compound
 * launch, each joining the trace) and the recording it replays (for the status bar). A launch
 * that joins again as it was (a restart of one of them) is kept once.
 */
export function noteLaunch(key: string, folder: vscode.WorkspaceFolder | undefined, config: NodeLaunchConfig, replay?: ReplaySetup): void {
  const kept = replayState.launches.get(key) ?? [];
  const same = (l: Launched) => l.folder?.uri.toString() === folder?.uri.toString() && sameLaunch(l.config, config);
  if (!kept.some(same)) replayState.launches.set(key, [...kept, { folder, config }]);
  if (replay) replayState.files.set(key, replay.file);
}

/** What the status bar says of a live replay: the recording and the counts so far; undefined when the trace is no live replay. */
export function liveReplay(e: TraceEntry): { file: string; counts: ReplayCounts } | undefined {
  const server = e.collector ? e.session?.replay : undefined;
  if (!server) return undefined;
  return { file: replayState.files.get(e.key) ?? 'a recording', counts: server.counts };
}

/**
 * Replay This Run: the trace's recording saved (a session's in the extension's storage, 0600; an
 * opened file as it is) and its launch started again with it. A trace that was not recorded for
 * replay is said to be so, with a button that turns recording on for the next run.
 */
export async function replayRun(s: Services, traceKey: string | undefined): Promise<void> {
  const entry = s.traces.get(traceKey) ?? s.traces.latest();
  if (!entry) return void vscode.window.showInformationMessage('Net Trace: there is no run to replay yet.');
  if (entry.origin === 'current')
    return void vscode.window.showInformationMessage('Net Trace: this run is still going: replay it once it has ended.');
  const trace = s.traces.fullTrace(entry);
  if (!isRecorded(trace)) {
    s.log(`${entry.key}: not replayed: not recorded for replay`);
    const answer = await vscode.window.showInformationMessage(`Net Trace: ${NOT_RECORDED}`, RECORD_NEXT_BUTTON);
    if (answer === RECORD_NEXT_BUTTON) setRecordNext(s, true);
    return;
  }
  let file: string;
  try {
    file = await recordingFile(s, entry);
  } catch (err) {
    return void vscode.window.showErrorMessage(`Net Trace: the recording could not be saved for the replay: ${(err as Error).message}`);
  }
  const launched = replayState.launches.get(entry.key);
  if (launched?.length) {
    s.log(`${entry.key}: replaying ${file} with ${launched.map((l) => JSON.stringify(l.config.name)).join(', ')}`);
    // Every launch at once, as VS Code starts a compound's: each prepared while the first records,
    // with the same tracing options, joins its trace (debugProviders.ts startTracedLaunch), and
    // all of them ask the one collector's replay, so a key's order holds across the services.
    await Promise.all(
      launched.map((l) =>
        start(l.folder, { ...replayLaunchOf(l.config, file), [FROM_PANEL]: PANEL_TOKEN } as unknown as vscode.DebugConfiguration),
      ),
    );
    return;
  }
  const picked = await pickLaunch(trace.description, file);
  if (!picked.length) return;
  s.log(`${entry.key}: replaying ${file} with ${picked.map((p) => JSON.stringify(String(p.config.name))).join(', ')} of launch.json`);
  await Promise.all(picked.map((p) => start(p.folder, { ...p.config, [FROM_PANEL]: PANEL_TOKEN } as unknown as vscode.DebugConfiguration)));
}

/** Starts a debug session; says when VS Code did not start it. */
async function start(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<void> {
  const ok = await vscode.debug.startDebugging(folder ?? vscode.workspace.workspaceFolders?.[0], config);
  if (!ok)
    void vscode.window.showErrorMessage(
      `Net Trace: the replay of "${config.name}" did not start (the Debug Console or the Output may say why).`,
    );
}

/**
 * The file the replay reads: an opened trace's own file; a session's copy kept for later windows
 * (0600), else one written now in the extension's storage (0600, in a 0700 folder).
 */
async function recordingFile(s: Services, entry: TraceEntry): Promise<string> {
  if (entry.filePath) return entry.filePath;
  if (entry.savedPath && !entry.session) return entry.savedPath;
  if (!entry.session) throw new Error('the run’s trace is no longer held');
  const base = s.context.storageUri?.scheme === 'file' ? s.context.storageUri.fsPath : s.context.globalStorageUri.fsPath;
  const dir = join(base, 'recordings');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `recording-${entry.createdAt.getTime()}-${entry.key}.json`);
  await entry.session.saveJson(file);
  return file;
}

/**
 * The launch configurations of launch.json to replay a trace whose own launches are not known (an
 * opened file, a run of an earlier window): those the trace's description names (namedLaunches:
 * each service of a compound's trace, when each is found once), else the user's pick. None (said)
 * when there is none.
 */
async function pickLaunch(
  description: string,
  file: string,
): Promise<Array<{ folder: vscode.WorkspaceFolder | undefined; config: { [key: string]: unknown } }>> {
  const all: Array<{ folder: vscode.WorkspaceFolder | undefined; config: { [key: string]: unknown } }> = [];
  for (const folder of vscode.workspace.workspaceFolders ?? [undefined]) {
    const configs = vscode.workspace.getConfiguration('launch', folder?.uri).get<Array<{ [key: string]: unknown }>>('configurations') ?? [];
    for (const config of Array.isArray(configs) ? configs : []) all.push({ folder, config });
  }
  const describe = (c: { [key: string]: unknown }) => describeLaunch(c as { name?: string; program?: unknown });
  const ordered = launchCandidates(
    all.map((a) => a.config),
    description,
    describe,
  ).map((c) => all.find((a) => a.config === c)!);
  if (ordered.length === 0) {
    void vscode.window.showInformationMessage(
      `Net Trace: no launch configuration of this workspace can replay it: add a "Net Trace" launch configuration with "replay": ${JSON.stringify(file)}.`,
    );
    return [];
  }
  let chosen = namedLaunches(ordered, description, (a) => describe(a.config));
  if (!chosen.length) {
    const items = ordered.map((a) => ({ label: String(a.config.name ?? 'launch'), description: describe(a.config), a }));
    const pick = await vscode.window.showQuickPick(items, { title: `Replay ${file} with which launch configuration?` });
    chosen = pick ? [pick.a] : [];
  }
  return chosen.map((a) => ({ folder: a.folder, config: replayConfigOf(a.config, file)! }));
}

/** Wires the toggle to the panel's toolbar and forgets a trace's launch when the trace goes. */
export function registerReplay(s: Services): void {
  replayState.onRecordNext = (on) => s.panel.setRecordNext(on);
  const forget = (e: TraceEntry): void => {
    replayState.launches.delete(e.key);
    replayState.files.delete(e.key);
  };
  s.traces.on('cleared', forget);
  s.context.subscriptions.push({
    dispose: () => {
      s.traces.off('cleared', forget);
      replayState.onRecordNext = undefined;
    },
  });
}
