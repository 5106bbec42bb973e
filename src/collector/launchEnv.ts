/**
 * The environment a traced program is started with: the preload first in NODE_OPTIONS (quoted,
 * the user's own options kept after it, as js-debug's nodeLauncherBase does) and the preload's
 * configuration as JSON in NETTRACE_CONFIG.
 */

import { join } from 'node:path';
import { CONFIG_ENV, type PreloadConfig } from '../protocol/preload';

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

/** Finds an environment key case-insensitively on Windows (where `Node_Options` is the same). */
function envKey(env: NodeJS.ProcessEnv, name: string): string {
  if (process.platform !== 'win32') return name;
  return Object.keys(env).find((k) => k.toUpperCase() === name) ?? name;
}

/**
 * Returns a copy of `baseEnv` that loads the preload: `NODE_OPTIONS` = `--require "<path>"`
 * followed by the existing NODE_OPTIONS, and `NETTRACE_CONFIG` = the JSON configuration.
 */
export function buildPreloadEnv(baseEnv: NodeJS.ProcessEnv, options: PreloadEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  const key = envKey(env, 'NODE_OPTIONS');
  const existing = (env[key] ?? '').trim();
  const require = `--require ${quoteNodeOption(options.preloadPath)}`;
  env[key] = existing ? `${require} ${existing}` : require;
  env[envKey(env, CONFIG_ENV)] = JSON.stringify(options.config);
  return env;
}

/** Path of the preload bundle: dist/preload.cjs next to the running bundle (dist/*.cjs). */
export function preloadPath(): string {
  return join(__dirname, 'preload.cjs');
}
