/**
 * File paths of the traced program as the collector and the editor see them, for the system they
 * run on. Stack frames carry what V8 reports: a path (`/app/x.js`, `C:\app\x.js`,
 * `\\server\share\x.js`) or, for ES modules, a `file://` URL (`file:///C:/app/x.mjs`). The system
 * is a parameter (default: this process's), so the Windows and POSIX rules are one definition each
 * and can be tested on any system.
 */

import * as nodePath from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Which path rules apply: Windows (drive letters, UNC, `\`) or POSIX (everything else). */
export type PathSystem = 'win32' | 'posix';

/** The path rules of a platform (`process.platform` by default). */
export function pathSystem(platform: NodeJS.Platform | PathSystem = process.platform): PathSystem {
  return platform === 'win32' ? 'win32' : 'posix';
}

/** `node:path` for a system: path.win32 or path.posix. */
export function pathOf(system: PathSystem): nodePath.PlatformPath {
  return system === 'win32' ? nodePath.win32 : nodePath.posix;
}

/** An absolute Windows path: `C:\x`, `C:/x` or a UNC path `\\server\share\x` (never `\x`, relative to the current drive). */
export function isWindowsAbsolute(path: string): boolean {
  return /^[a-z]:[\\/]/i.test(path) || /^[\\/]{2}[^\\/]+[\\/][^\\/]+/.test(path);
}

/** A `file:` URL as a path of `system` (Node's conversion: percent-decoded, UNC from the host on Windows). Throws on a URL that is no file path there. */
export function urlToPath(url: string, system: PathSystem = pathSystem()): string {
  return fileURLToPath(url, { windows: system === 'win32' });
}

/** A path of `system` as a `file:` URL (`C:\a b\x.ts` → `file:///C:/a%20b/x.ts`). */
export function pathToUrl(path: string, system: PathSystem = pathSystem()): string {
  return pathToFileURL(path, { windows: system === 'win32' }).href;
}

/**
 * A stack frame's file as an absolute path of `system`: `file://` URLs (ES modules) are
 * converted; `node:` internals, other URLs and relative names give undefined.
 */
export function framePath(file: string, system: PathSystem = pathSystem()): string | undefined {
  if (/^file:/i.test(file)) {
    try {
      return urlToPath(file, system);
    } catch {
      return undefined;
    }
  }
  if (system === 'win32') return isWindowsAbsolute(file) ? nodePath.win32.normalize(file) : undefined;
  return file.startsWith('/') ? file : undefined;
}

/**
 * The key under which two paths of the same file compare equal. On Windows the file system
 * ignores case and the editor lower-cases the drive letter of a document's path (`c:\app\x.ts`)
 * while Node's stack frames keep it as typed (`C:\app\x.ts`), and `/` and `\` are the same
 * separator: the key is the normalized path in lower case. Elsewhere it is the path itself
 * (macOS volumes are case-insensitive by default but may not be: no guess is made there).
 */
export function fileKey(path: string, system: PathSystem = pathSystem()): string {
  return system === 'win32' ? nodePath.win32.normalize(path).toLowerCase() : path;
}
