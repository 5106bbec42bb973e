/**
 * The environment a traced program is started with, for `nettrace run` and the extension alike:
 * the preload first in NODE_OPTIONS (quoted, the user's own options kept after it, as js-debug's
 * nodeLauncherBase does) and the preload's configuration as JSON in NETTRACE_CONFIG.
 */

import { join } from 'node:path';
import { CONFIG_ENV, PRELOAD_LOADER_FILE, type PreloadConfig } from '../protocol/preload';

/** Options of buildPreloadEnv(). */
export interface PreloadEnvOptions {
  /** Absolute path of dist/preload.cjs. */
  preloadPath: string;
  /** The preload's configuration (at least the collector's ipcPath). */
  config: PreloadConfig;
}

/**
 * Quotes a path for NODE_OPTIONS. Node splits NODE_OPTIONS on spaces except inside double quotes,
 * where a backslash escapes the next character (src/node_options.cc ParseNodeOptionsEnvVar), so
 * `\` and `"` are escaped and the whole path is wrapped in double quotes (paths with spaces:
 * httptoolkit/httptoolkit#120).
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

/** The key of `name` in `env`: on Windows found case-insensitively (`Node_Options` is the same variable), else `name`. */
export function envKey(env: object, name: string, platform: NodeJS.Platform = process.platform): string {
  if (platform !== 'win32') return name;
  return Object.keys(env).find((k) => k.toUpperCase() === name) ?? name;
}

/**
 * Sets NODE_OPTIONS (the preload first, the existing options kept) and NETTRACE_CONFIG in `env`,
 * in place. `env` is a process environment or a launch configuration's (`null` removes a variable).
 */
export function addPreloadEnv(
  env: Record<string, string | null | undefined>,
  options: PreloadEnvOptions,
  platform: NodeJS.Platform = process.platform,
): void {
  const key = envKey(env, 'NODE_OPTIONS', platform);
  env[key] = mergeNodeOptions(options.preloadPath, env[key]);
  // The collector runs in this process (the CLI's, the extension host's) unless the caller says.
  env[envKey(env, CONFIG_ENV, platform)] = JSON.stringify({ ...options.config, collectorPid: options.config.collectorPid ?? process.pid });
}

/**
 * Returns a copy of `baseEnv` that loads the preload: `NODE_OPTIONS` = `--require "<path>"`
 * followed by the existing NODE_OPTIONS, and `NETTRACE_CONFIG` = the JSON configuration.
 */
export function buildPreloadEnv(baseEnv: NodeJS.ProcessEnv, options: PreloadEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  addPreloadEnv(env, options);
  return env;
}

/** Path of the preload bundle: dist/preload.cjs next to the running bundle (dist/*.cjs). */
export function preloadPath(): string {
  return join(__dirname, PRELOAD_LOADER_FILE);
}
