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
import { CONFIG_ENV, INITIATOR_MODES, type InitiatorMode, type PreloadConfig } from '../protocol/preload';
import type { HeaderCaptureMode } from '../trace/types';

/** The debugger type Net Trace contributes. */
export const DEBUG_TYPE = 'nettrace';
/** js-debug's Node debugger type (built into VS Code and code-server). */
export const NODE_DEBUG_TYPE = 'pwa-node';
/** Name of the configuration snippet and initial configuration. */
export const CONFIG_NAME = 'Net Trace';

/** Environment of a launch configuration: `null` removes a variable (js-debug semantics). */
export type LaunchEnv = Record<string, string | null>;

/**
 * Tracing options of a Net Trace launch, carried to phase 2 under `__nettrace`. The optional
 * recorders appear only when on, so a plain launch carries just the three basics.
 */
export interface TracingOptions {
  /** Header capture mode. */
  headers: HeaderCaptureMode;
  /** Extra header names to redact. */
  redact: string[];
  /** Extra URL query parameter names to redact (besides src/trace/redactUrl's defaults); absent: none. */
  redactQuery?: string[];
  /** Open the panel when the session starts. */
  openPanel: boolean;
  /** Record DNS query/reply messages (the in-process resolver). */
  dnsTrace?: true;
  /** Nameservers for the DNS trace, overriding /etc/resolv.conf. */
  dnsServers?: string[];
  /** Record socket operations; a number is the per-connection limit. */
  sockTrace?: true | number;
  /** Capture bodies; a number is the byte limit per body. */
  bodies?: true | number;
  /** Successful requests slower than this are diagnosed as slow (collector default 1000 ms). */
  slowThresholdMs?: number;
  /** Which requests get their initiator stack (absent: the preload's default, sampled). */
  initiator?: 'all' | 'off';
  /** The privileged helper is turned off (absent: `auto`, used when it can start without a prompt). */
  helper?: 'off';
  /** No packet capture by the helper (absent: capture when the helper runs with root). */
  pcap?: false;
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

/** A `nettrace` launch configuration as written in launch.json. */
export interface NettraceLaunchConfig extends NodeLaunchAttributes {
  type?: string;
  request?: string;
  headers?: HeaderCaptureMode;
  redact?: string[];
  /** Extra URL query parameter names whose values are redacted (the collector's redactQuery). */
  redactQuery?: string[];
  openPanel?: boolean;
  /** Record DNS messages through the in-process resolver (PreloadConfig.dnsTrace). */
  dnsTrace?: boolean;
  /** Nameservers for the DNS trace ("ip", "ip:port", "[v6]:port"); implies dnsTrace unless it is false. */
  dnsServers?: string[];
  /** Record socket operations: true, or the number of operations kept per connection. */
  sockTrace?: boolean | number;
  /** Capture request/response bodies: true, or the number of bytes kept per body. */
  bodies?: boolean | number;
  /** Threshold in ms above which a successful request gets a "slow" diagnosis. */
  slowThresholdMs?: number;
  /** Which requests get their initiator stack: "sampled" (default), "all" or "off". */
  initiator?: InitiatorMode;
  /** The privileged helper: "auto" (kernel metrics, conntrack, capture when it can start) or "off". */
  helper?: 'auto' | 'off';
  /** Capture the traced connections' packets for Save PCAP (needs the helper with root). */
  pcap?: boolean;
}

/**
 * The settings that supply defaults for the tracing options (`nettrace.*`). The optional ones
 * mirror the launch attributes of the same names; absent means off (or the collector's default).
 */
export type TracingDefaults = Pick<
  NettraceLaunchConfig,
  'dnsTrace' | 'dnsServers' | 'sockTrace' | 'bodies' | 'slowThresholdMs' | 'initiator' | 'helper' | 'pcap'
> & {
  headers: HeaderCaptureMode;
  redact: string[];
  /** The nettrace.redactQuery setting (absent: none besides the defaults). */
  redactQuery?: string[];
  openPanelOnStart: boolean;
};

/** A js-debug launch configuration produced by phase 1 (still unresolved by js-debug). */
export interface NodeLaunchConfig extends NodeLaunchAttributes {
  type: typeof NODE_DEBUG_TYPE;
  request: 'launch';
  name: string;
  __nettrace: TracingOptions;
  /** Set by phase 2: the id of the trace this debug session records into. */
  __nettraceSession?: string;
}

const HEADER_MODES: readonly HeaderCaptureMode[] = ['none', 'names', 'values'];

function isInitiatorMode(v: unknown): v is InitiatorMode {
  return INITIATOR_MODES.includes(v as InitiatorMode);
}

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
 * settings) move to `__nettrace`.
 */
export function toNodeLaunchConfig(config: NettraceLaunchConfig, defaults: TracingDefaults): NodeLaunchConfig {
  const {
    headers,
    redact,
    redactQuery,
    openPanel,
    dnsTrace,
    dnsServers,
    sockTrace,
    bodies,
    slowThresholdMs,
    initiator,
    helper,
    pcap,
    type: _type,
    request: _request,
    ...rest
  } = config;
  const tracing: TracingOptions = {
    headers: typeof headers === 'string' && HEADER_MODES.includes(headers) ? headers : defaults.headers,
    redact: uniqueStrings([...defaults.redact, ...(Array.isArray(redact) ? redact : [])]),
    openPanel: typeof openPanel === 'boolean' ? openPanel : defaults.openPanelOnStart,
  };
  const query = uniqueStrings([...(defaults.redactQuery ?? []), ...(Array.isArray(redactQuery) ? redactQuery : [])]);
  if (query.length) tracing.redactQuery = query;
  // The configuration's value wins when it is valid; otherwise the setting's.
  const servers = Array.isArray(dnsServers) ? uniqueStrings(dnsServers) : uniqueStrings(defaults.dnsServers ?? []);
  const dns =
    typeof dnsTrace === 'boolean' ? dnsTrace : Array.isArray(dnsServers) && servers.length > 0 ? true : defaults.dnsTrace === true;
  if (dns) {
    tracing.dnsTrace = true;
    if (servers.length) tracing.dnsServers = servers;
  }
  const sock = onOrLimit(sockTrace) ?? onOrLimit(defaults.sockTrace);
  if (sock !== undefined && sock !== false) tracing.sockTrace = sock;
  const body = onOrLimit(bodies) ?? onOrLimit(defaults.bodies);
  if (body !== undefined && body !== false) tracing.bodies = body;
  const slow = positive(slowThresholdMs) ?? positive(defaults.slowThresholdMs);
  if (slow !== undefined) tracing.slowThresholdMs = slow;
  const stacks = isInitiatorMode(initiator) ? initiator : isInitiatorMode(defaults.initiator) ? defaults.initiator : 'sampled';
  if (stacks !== 'sampled') tracing.initiator = stacks;
  const helperMode = helper === 'auto' || helper === 'off' ? helper : defaults.helper;
  if (helperMode === 'off') tracing.helper = 'off';
  const capture = typeof pcap === 'boolean' ? pcap : defaults.pcap;
  if (capture === false) tracing.pcap = false;
  return { ...rest, type: NODE_DEBUG_TYPE, request: 'launch', name: config.name || CONFIG_NAME, __nettrace: tracing };
}

/** `true`/`false`, or a whole number ≥ 0 (on, with that limit); undefined for anything else. */
function onOrLimit(v: unknown): boolean | number | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  return undefined;
}

/** A finite number > 0, else undefined. */
function positive(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

function uniqueStrings(values: unknown[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string' || v.trim() === '') continue;
    const key = v.trim().toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      out.push(v.trim());
    }
  }
  return out;
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

/**
 * Quotes a path for NODE_OPTIONS. Node splits NODE_OPTIONS on spaces except inside double
 * quotes, where a backslash escapes the next character (src/node_options.cc
 * ParseNodeOptionsEnvVar), so `\` and `"` are escaped and the path is wrapped in double quotes.
 * (Same rule as src/collector/launchEnv.ts#quoteNodeOption, which the CLI uses.)
 */
export function quoteNodeOption(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `--require "<preload>"` first, then the user's own NODE_OPTIONS (as js-debug does). */
export function mergeNodeOptions(preloadPath: string, userOptions: string | null | undefined): string {
  const require = `--require ${quoteNodeOption(preloadPath)}`;
  const rest = (userOptions ?? '').trim();
  return rest ? `${require} ${rest}` : require;
}

/** Finds a key case-insensitively (Windows environments), else returns `name`. */
function envKey(env: LaunchEnv, name: string, platform: NodeJS.Platform): string {
  if (platform !== 'win32') return name;
  return Object.keys(env).find((k) => k.toUpperCase() === name) ?? name;
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
  const nodeKey = envKey(env, 'NODE_OPTIONS', platform);
  env[nodeKey] = mergeNodeOptions(options.preloadPath, env[nodeKey]);
  const preloadConfig = preloadConfigOf(config.__nettrace, options.ipcPath);
  env[envKey(env, CONFIG_ENV, platform)] = JSON.stringify(preloadConfig);
  const { envFile: _envFile, ...rest } = config;
  return { ...rest, env, __nettraceSession: options.sessionId };
}

/** The preload's configuration (NETTRACE_CONFIG) for a launch's tracing options. */
export function preloadConfigOf(tracing: TracingOptions, ipcPath: string): PreloadConfig {
  const out: PreloadConfig = { ipcPath, headers: tracing.headers };
  if (tracing.redact.length > 0) out.redact = tracing.redact;
  if (tracing.dnsTrace) {
    out.dnsTrace = true;
    if (tracing.dnsServers?.length) out.dnsServers = tracing.dnsServers;
  }
  if (tracing.sockTrace !== undefined) {
    out.sockTrace = true;
    if (typeof tracing.sockTrace === 'number') out.sockTraceMaxOps = tracing.sockTrace;
  }
  if (tracing.bodies !== undefined) {
    out.bodies = true;
    if (typeof tracing.bodies === 'number') out.bodyMaxBytes = tracing.bodies;
  }
  if (tracing.initiator !== undefined) out.initiator = tracing.initiator;
  return out;
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
