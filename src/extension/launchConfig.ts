/**
 * Turning a `"type": "nettrace"` launch configuration into a session of VS Code's built-in
 * JavaScript debugger (js-debug, type `pwa-node`) with the Net Trace preload injected. Pure: no
 * `vscode` import, so it is unit-tested in plain Node (test/unit/launchConfig.test.mjs).
 *
 * Resolution happens in two steps, because VS Code resolves a configuration in two phases:
 *   1. `toNodeLaunchConfig` (our provider's `resolveDebugConfiguration`, before variables are
 *      substituted): the type becomes `pwa-node` and the tracing options move under
 *      `__nettrace`. VS Code then hands the configuration to js-debug's own resolver, which fills
 *      its defaults (cwd, source map locations, ...), exactly as for a plain Node launch.
 *   2. `injectTracing` (our `pwa-node` provider's `resolveDebugConfigurationWithSubstitutedVariables`,
 *      which only touches configurations carrying `__nettrace`): variables are substituted now, so
 *      the envFile can be read; the env gets the preload in NODE_OPTIONS and NETTRACE_CONFIG.
 */

import { readFileSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { addPreloadEnv } from '../collector/launchEnv';
import { LAUNCH_ENV } from '../collector/processTree';
import { OptionError, parseOption, resolveTracingOptions, settingName, toPreloadConfig, type TracingOptions } from '../protocol/options';
import { OPTIONS } from '../protocol/optionTable';
import type { HelperMode, OptionDef } from '../protocol/optionBase';
import type { InitiatorMode } from '../protocol/preload';
import { PRELOAD_BODY_FILE, type PreloadConfig } from '../protocol/preload';
import type { HeaderCaptureMode } from '../trace/contract/types';

/** The debugger type Net Trace contributes. */
export const DEBUG_TYPE = 'nettrace';
/** js-debug's Node debugger type (built into VS Code and code-server). */
export const NODE_DEBUG_TYPE = 'pwa-node';
/** Name of the configuration snippet and initial configuration. */
export const CONFIG_NAME = 'Net Trace';

/** Environment of a launch configuration: `null` removes a variable (js-debug semantics). */
export type LaunchEnv = Record<string, string | null>;

/**
 * Tracing options of a Net Trace launch, carried to phase 2 under `__nettrace`: the normalized
 * options (src/protocol/options.ts) and whether to open the panel.
 */
export interface LaunchTracing extends TracingOptions {
  /** Open the panel when the session starts. */
  openPanel: boolean;
}

/** The Node launch attributes both configurations share (anything else passes through). */
export interface NodeLaunchAttributes {
  name?: string;
  program?: string;
  args?: string[] | string;
  cwd?: string;
  env?: LaunchEnv;
  envFile?: string;
  runtimeExecutable?: string;
  runtimeArgs?: string[];
  console?: 'internalConsole' | 'integratedTerminal' | 'externalTerminal';
  skipFiles?: string[];
  outFiles?: string[];
  sourceMaps?: boolean;
  preLaunchTask?: string;
  [key: string]: unknown;
}

/**
 * A `nettrace` launch configuration as written in launch.json. The tracing attributes are
 * described (and validated) by OPTIONS in src/protocol/options.ts.
 */
export interface NettraceLaunchConfig extends NodeLaunchAttributes {
  type?: string;
  request?: string;
  headers?: HeaderCaptureMode;
  redact?: string[];
  redactQuery?: string[];
  openPanel?: boolean;
  dnsTrace?: boolean;
  dnsServers?: string[];
  addTraceparent?: boolean;
  sockTrace?: boolean | number;
  bodies?: boolean | number;
  record?: boolean;
  recordMaxBody?: number;
  recordMaxRun?: number;
  slowThresholdMs?: number;
  initiator?: InitiatorMode;
  helper?: Exclude<HelperMode, 'required'>;
  pcap?: boolean;
}

/**
 * The `nettrace.*` settings that supply defaults for the tracing options, by setting name without
 * the prefix (`headers`, `openPanelOnStart`, ...), as read from the configuration (unvalidated).
 */
export type TracingDefaults = Record<string, unknown>;

/** A js-debug launch configuration produced by phase 1 (still unresolved by js-debug). */
export interface NodeLaunchConfig extends NodeLaunchAttributes {
  /** `pwa-node` from a Net Trace launch; `node`, `pwa-node` or `node-terminal` when `nettrace.traceNodeSessions` is "all". */
  type: string;
  request: 'launch';
  name: string;
  __nettrace: LaunchTracing;
  /** Set by phase 2: the id of the trace this debug session records into. */
  __nettraceSession?: string;
}

/** Receives an invalid option value that was ignored (the next source decides). */
export type OptionErrorHandler = (err: OptionError) => void;

/** The tracing options a launch configuration takes (they do not reach js-debug). */
const LAUNCH_OPTIONS = OPTIONS.filter((o) => o.launch);

/** The `nettrace.*` settings of the launch options, read with `get(name)` (without the prefix). */
export const TRACING_SETTINGS: readonly string[] = LAUNCH_OPTIONS.map((o) => settingName(o)?.slice('nettrace.'.length)).filter(
  (n): n is string => n !== undefined,
);

/** The configuration offered as initial configuration, snippet, and for F5 without launch.json. */
export function defaultLaunchConfig(program = '${file}'): NettraceLaunchConfig & { type: string; request: string; name: string } {
  return { type: DEBUG_TYPE, request: 'launch', name: CONFIG_NAME, program, skipFiles: ['<node_internals>/**'] };
}

/** True for an empty configuration (F5 with no launch.json): the caller offers the default. */
export function isEmptyConfig(config: NettraceLaunchConfig): boolean {
  return !config.type && !config.request && !config.name;
}

/**
 * Phase 1: a `nettrace` configuration becomes a js-debug `pwa-node` launch. Everything js-debug
 * understands passes through untouched; the tracing options (from the configuration, else the
 * settings, else their defaults) move to `__nettrace`. An invalid value is passed to `onError`
 * (its message names the attribute or setting and the valid values) and the next source decides.
 */
export function toNodeLaunchConfig(
  config: NettraceLaunchConfig,
  defaults: TracingDefaults,
  onError: (err: OptionError) => void = () => {},
): NodeLaunchConfig {
  const rest: Record<string, unknown> = {};
  const own: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'type' || k === 'request') continue;
    if (LAUNCH_OPTIONS.some((o) => o.name === k)) own[k] = v;
    else rest[k] = v;
  }
  return {
    ...rest,
    type: NODE_DEBUG_TYPE,
    request: 'launch',
    name: config.name || CONFIG_NAME,
    __nettrace: launchTracing(own, defaults, onError),
  };
}

/**
 * The tracing options of a launch: the configuration's own values (`own`, by attribute name; none
 * for a plain Node configuration traced by `nettrace.traceNodeSessions`), else the settings, else
 * the defaults. An invalid value goes to `onError` and the next source decides.
 */
export function launchTracing(
  own: Record<string, unknown>,
  defaults: TracingDefaults,
  onError: (err: OptionError) => void = () => {},
): LaunchTracing {
  const settings: Record<string, unknown> = {};
  for (const def of LAUNCH_OPTIONS) {
    const key = settingName(def)?.slice('nettrace.'.length);
    if (key !== undefined) settings[def.name] = defaults[key];
  }
  const options = resolveTracingOptions(
    [
      { values: own, label: (d) => `"${d.name}"` },
      { values: settings, label: (d: OptionDef) => settingName(d) ?? d.name },
    ],
    onError,
  );
  const openPanel = firstValid('openPanel', [own.openPanel, settings.openPanel], onError) ?? true;
  return { ...options, openPanel: openPanel as boolean };
}

/** The first valid value of a boolean option among the sources; errors reported, undefined when none. */
function firstValid(name: string, values: unknown[], onError: (err: OptionError) => void): unknown {
  const def = OPTIONS.find((o) => o.name === name)!;
  for (const [i, v] of values.entries()) {
    if (v === undefined || v === null) continue;
    try {
      return parseOption(def, v, { label: i === 0 ? `"${name}"` : (settingName(def) ?? name) });
    } catch (err) {
      if (err instanceof OptionError) onError(err);
      else throw err;
    }
  }
  return undefined;
}

/** True when a (pwa-node) configuration came from a Net Trace launch and still needs phase 2. */
export function needsTracing(config: { [key: string]: unknown }): config is NodeLaunchConfig {
  return typeof config.__nettrace === 'object' && config.__nettrace !== null && config.request === 'launch';
}

/**
 * Parses a dotenv file the way js-debug reads `envFile`: `KEY=VALUE` lines, optional `export `
 * prefix, `#` comments, values in single quotes (literal), double quotes (`\n` expands to a
 * newline) or bare (trimmed, a ` #` starts a comment).
 */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const rawLine of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([\w.-]+)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, rawValue] = m;
    let value = rawValue;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.lastIndexOf(quote) > 0) {
      value = value.slice(1, value.lastIndexOf(quote));
      if (quote === '"')
        value = value
          .replace(/\\n/g, '\n')
          .replace(/\\r/g, '\r')
          .replace(/\\(["\\])/g, '$1');
    } else {
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash);
      value = value.trim();
    }
    env[key] = value;
  }
  return env;
}

/** Inputs of injectTracing(). */
export interface InjectOptions {
  /** Absolute path of dist/preload.cjs. */
  preloadPath: string;
  /** The collector's IPC path for this session. */
  ipcPath: string;
  /** Id of the trace this session records into (becomes `__nettraceSession`). */
  sessionId: string;
  /** Reads the envFile (default: fs.readFileSync utf8); throws when it cannot. */
  readFile?: (path: string) => string;
  /** Folder to resolve a relative envFile against when there is no cwd. */
  workspaceFolder?: string;
  /** Platform, for case-insensitive env keys (default process.platform). */
  platform?: NodeJS.Platform;
  /** The session's trace rules for NETTRACE_CONFIG (Session.rules.preloadConfig()), so the program applies them from its first request. */
  rulesConfig?: Partial<PreloadConfig>;
  /** Names this launch among those recording into the trace (LAUNCH_ENV in its environment; SessionHelpers gives each its helper). */
  launch?: string;
}

/** Thrown when the envFile of a configuration cannot be read. */
export class EnvFileError extends Error {}

/**
 * Phase 2: merges `envFile` and `env` (env wins, as in js-debug, which ignores the host's own
 * NODE_OPTIONS for a launch) and puts the preload first in NODE_OPTIONS and the preload
 * configuration in NETTRACE_CONFIG. The envFile is consumed here (removed from the result), so
 * js-debug does not apply it a second time over our NODE_OPTIONS.
 */
export function injectTracing(config: NodeLaunchConfig, options: InjectOptions): NodeLaunchConfig {
  const platform = options.platform ?? process.platform;
  let fileEnv: LaunchEnv = {};
  if (typeof config.envFile === 'string' && config.envFile !== '') {
    const base = typeof config.cwd === 'string' && config.cwd ? config.cwd : (options.workspaceFolder ?? process.cwd());
    const path = isAbsolute(config.envFile) ? config.envFile : resolvePath(base, config.envFile);
    let text: string;
    try {
      text = (options.readFile ?? defaultReadFile)(path);
    } catch (err) {
      throw new EnvFileError(`cannot read envFile ${path}: ${(err as Error).message}`);
    }
    fileEnv = parseEnvFile(text);
  }
  const env: LaunchEnv = { ...fileEnv };
  for (const [k, v] of Object.entries(config.env ?? {})) {
    // On Windows the same variable spelled in another case replaces the envFile's.
    if (platform === 'win32') for (const old of Object.keys(env)) if (old !== k && old.toUpperCase() === k.toUpperCase()) delete env[old];
    env[k] = v === null || v === undefined ? null : String(v);
  }
  addPreloadEnv(
    env,
    { preloadPath: options.preloadPath, config: { ...preloadConfigOf(config.__nettrace, options.ipcPath), ...options.rulesConfig } },
    platform,
  );
  if (options.launch !== undefined) env[LAUNCH_ENV] = options.launch;
  const { envFile: _envFile, ...rest } = config;
  return { ...rest, env, skipFiles: withPreloadSkipped(config.skipFiles, options.preloadPath), __nettraceSession: options.sessionId };
}

/** js-debug's `skipFiles` for Node when a configuration gives none. */
export const DEFAULT_SKIP_FILES: readonly string[] = ['<node_internals>/**'];

/**
 * The launch's `skipFiles` with the preload bundle added (after the user's patterns, so a `!`
 * negation of theirs does not bring it back; js-debug's default when they gave none). A `break`
 * trace rule pauses in a script of the preload's (docs/rules.md): js-debug deemphasizes skipped
 * frames in the call stack and steps through them, so the program's line that made the request is
 * the first frame shown in full under the pause. js-debug reads an absolute path as that one file.
 * The preload is two files: the loader `--require` names and its body beside it, where the
 * hooks' frames are.
 */
export function withPreloadSkipped(skipFiles: unknown, preloadPath: string): string[] {
  const list = Array.isArray(skipFiles) ? skipFiles.filter((p): p is string => typeof p === 'string') : [...DEFAULT_SKIP_FILES];
  const slash = (p: string) => p.replace(/\\/g, '/');
  const body = preloadPath.replace(/[^\\/]*$/, PRELOAD_BODY_FILE);
  const missing = [preloadPath, body].filter((f) => !list.some((p) => slash(p) === slash(f)));
  return [...list, ...missing];
}

/** The preload's configuration (NETTRACE_CONFIG) for a launch's tracing options. */
export function preloadConfigOf(tracing: TracingOptions, ipcPath: string): PreloadConfig {
  // The panel offers Send Again: the preload keeps the last requests for it (docs/security.md).
  return { ...toPreloadConfig(tracing, ipcPath), sendAgain: true };
}

function defaultReadFile(path: string): string {
  return readFileSync(path, 'utf8');
}

/** A short description of the traced program for labels: "app.js" or the configuration name. */
export function describeLaunch(config: { name?: string; program?: unknown; runtimeExecutable?: unknown }): string {
  const program = typeof config.program === 'string' ? config.program.split(/[\\/]/).pop() : undefined;
  const name = config.name || CONFIG_NAME;
  return program ? `${name}: ${program}` : name;
}
