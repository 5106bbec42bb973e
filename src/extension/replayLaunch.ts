/**
 * Replay and recording in the editor (docs/replay.md, "In VS Code"), the parts without `vscode`
 * (unit-tested in plain Node, test/unit/replayEditor.test.mjs): the recording a launch's `replay`
 * names read into the collector's replay, the record and replay attributes of a plain Node
 * configuration, whether a trace holds what a replay needs, and the launch that replays a run.
 * The editor's side (the toolbar's toggle and Replay This Run, the prompts): replayCommands.ts.
 */

import { open } from 'node:fs/promises';
import { basename, isAbsolute, resolve as resolvePath } from 'node:path';
import { MAX_RECORDING_BYTES, replaySetupOf, unreadableWhy, type ReplaySetup } from '../collector/replay';
import type { ReplaySettings } from '../protocol/options';
import { OPTIONS } from '../protocol/optionTable';
import { ReplayInputError } from '../replay';
import type { Trace } from '../trace/contract/types';
import { launchTracing, type LaunchTracing, type NodeLaunchConfig } from './launchConfig';

/** A recording that cannot be replayed: the sentence says why (shown as it is). */
export class ReplayFileError extends Error {}

/** The path a launch's `replay` names: as given when absolute, else from the launch's `cwd`, else its workspace folder. */
export function replayPath(file: string, cwd: unknown, folder: string | undefined): string {
  if (isAbsolute(file)) return file;
  const base = typeof cwd === 'string' && cwd !== '' ? cwd : (folder ?? process.cwd());
  return resolvePath(base, file);
}

/**
 * Reads the recording `settings.file` (resolved with replayPath) into the collector's replay, off
 * the extension host's thread (an async read): a ReplayFileError says why it cannot be replayed
 * (no such file, not a recording, no exchange a replay could answer with).
 */
export async function loadReplayFile(settings: ReplaySettings, cwd: unknown, folder: string | undefined): Promise<ReplaySetup> {
  const path = replayPath(settings.file, cwd, folder);
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const st = await handle.stat();
      if (st.isDirectory()) throw new ReplayFileError(`${path} is a folder, not a recording`);
      if (st.size > MAX_RECORDING_BYTES)
        throw new ReplayFileError(`${path} is ${Math.round(st.size / 1048576)} MiB, larger than the 512 MiB a replay reads`);
      text = (await handle.readFile()).toString('utf8').replace(/^\uFEFF/, '');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof ReplayFileError) throw err;
    throw new ReplayFileError(`cannot read the recording ${path}: ${unreadableWhy(err)}`);
  }
  try {
    return replaySetupOf(text, basename(path), settings);
  } catch (err) {
    if (err instanceof ReplayInputError) throw new ReplayFileError(err.message);
    throw err;
  }
}

/** The launch attributes of recording and replay (`record`, `recordMaxBody`, …, `replay`, `replayUnmatched`, …). */
export const RECORD_REPLAY_ATTRIBUTES: readonly string[] = OPTIONS.filter((o) => o.launch && /^(record|replay)/.test(o.name)).map(
  (o) => o.name,
);

/**
 * The record and replay attributes a plain Node configuration (`node`, `pwa-node`,
 * `node-terminal`) carries, for its tracing under `nettrace.traceNodeSessions`: the user's own
 * launch configuration may say `"record": true` or `"replay": "run.json"` as a `nettrace` one does
 * (js-debug ignores attributes it does not know).
 */
export function recordReplayAttributes(config: { [key: string]: unknown }): Record<string, unknown> {
  const own: Record<string, unknown> = {};
  for (const name of RECORD_REPLAY_ATTRIBUTES) if (config[name] !== undefined) own[name] = config[name];
  return own;
}

/** True when a trace holds what a replay needs: it was recorded with `record` and kept at least one exchange. */
export function isRecorded(trace: Pick<Trace, 'exchanges'> | undefined): boolean {
  return (trace?.exchanges?.length ?? 0) > 0;
}

/** What the panel and the prompt say of a trace that was not recorded for replay. */
export const NOT_RECORDED =
  'This run was not recorded for replay: its trace has no recorded exchanges (request bodies, answers as received). Turn on "Record the next run for replay" in the panel’s toolbar (or `"record": true` in the launch configuration, or the nettrace.record setting), run the program again, then replay that run.';

/**
 * A launch's tracing with the panel's "Record the next run for replay" applied: on, a launch that
 * does not replay records (with its own caps, else the defaults); a replay is never recorded over.
 */
export function withRecordNext(tracing: LaunchTracing, recordNext: boolean): LaunchTracing {
  if (!recordNext || tracing.record.enabled || tracing.replay) return tracing;
  return { ...tracing, record: { ...tracing.record, enabled: true } };
}

/** A replay's settings for the recording at `file` with the default options (docs/replay.md), or those a launch gave. */
export function replaySettingsFor(file: string, given?: ReplaySettings): ReplaySettings {
  if (given) return { ...given, file };
  return launchTracing({ replay: file }, {}).replay!;
}

/**
 * The launch that replays a run: the run's own launch (as it was handed to the tracing, before the
 * preload went into its environment), its js-debug and Net Trace markers taken out but its tracing
 * options, with `replay` naming the saved recording and recording off. Started again, it goes
 * through the same providers as the first time (debugProviders.ts startTracedLaunch).
 */
export function replayLaunchOf(launched: NodeLaunchConfig, file: string): NodeLaunchConfig {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(launched)) if (!k.startsWith('__')) out[k] = v;
  const tracing = launched.__nettrace;
  return {
    ...(out as Omit<NodeLaunchConfig, '__nettrace'>),
    type: launched.type,
    request: launched.request,
    name: launched.name,
    __nettrace: {
      ...tracing,
      record: { ...tracing.record, enabled: false },
      replay: replaySettingsFor(file, tracing.replay),
    },
  };
}

/** True when two launches are one launch started again (a restart): equal but for the `__` markers js-debug and Net Trace add (the tracing options, `__nettrace`, compared too). */
export function sameLaunch(a: NodeLaunchConfig, b: NodeLaunchConfig): boolean {
  const plain = (c: NodeLaunchConfig) => JSON.stringify(Object.entries(c).filter(([k]) => k === '__nettrace' || !k.startsWith('__')));
  return plain(a) === plain(b);
}

/**
 * A launch configuration of launch.json (as written) set to replay `file`: for a file the user
 * opened, or a run of an earlier window, whose own launch is not known. A `nettrace` or Node launch
 * becomes a `nettrace` one with `replay` (so it is traced whatever `nettrace.traceNodeSessions`
 * says); anything else (an attach, a `node-terminal`, another debugger): undefined.
 */
export function replayConfigOf(config: { [key: string]: unknown }, file: string): { [key: string]: unknown } | undefined {
  const type = String(config.type ?? '');
  if (config.request !== 'launch' || !['nettrace', 'node', 'pwa-node'].includes(type)) return undefined;
  return { ...config, type: 'nettrace', replay: file, record: false };
}

/**
 * The launch configurations of launch.json that may have made a trace whose description is
 * `description` (describeLaunch's "name: program.ts", several joined by " + "), those that match
 * first; only the ones replayConfigOf can replay.
 */
export function launchCandidates<T extends { [key: string]: unknown }>(
  configs: readonly T[],
  description: string,
  describe: (c: T) => string,
): T[] {
  const usable = configs.filter((c) => replayConfigOf(c, '') !== undefined);
  const parts = description.split(' + ');
  const matches = usable.filter((c) => parts.includes(describe(c)));
  return [...matches, ...usable.filter((c) => !matches.includes(c))];
}

/**
 * The launch configurations a trace's description names, one for each of its launches
 * (describeLaunch's "name: program.ts", several joined by " + ": a compound's services), when
 * each is named by exactly one of `configs`; else those named when just one is, else none (the
 * user picks).
 */
export function namedLaunches<T>(configs: readonly T[], description: string, describe: (c: T) => string): T[] {
  const parts = description.split(' + ');
  const named = configs.filter((c) => parts.includes(describe(c)));
  if (named.length === 1) return named;
  const each = parts.every((p) => named.filter((c) => describe(c) === p).length === 1);
  return each && named.length === parts.length ? named : [];
}
