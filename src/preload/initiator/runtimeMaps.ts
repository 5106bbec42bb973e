/**
 * Maps a captured stack frame to the line the program's author wrote, with what the running
 * program holds in memory: the source maps Node keeps (tsx, type stripping, `--enable-source-maps`)
 * and, for code a test runner compiled itself, the runner's own stack formatter.
 */

import { mappedFrame } from '../../trace/contract/frames';
import type { StackFrame } from '../../trace/contract/incoming';

/** What the preload reads of a V8 CallSite (a captured stack's frame). */
export interface CallSiteLike {
  getPosition?(): number;
  getFunctionName(): string | null;
  getMethodName(): string | null;
  getTypeName(): string | null;
  getFileName(): string | null | undefined;
  getScriptNameOrSourceURL?(): string | null | undefined;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  /** An `await` frame (`at async fn`): the function awaiting the one above, not on the stack. */
  isAsync?(): boolean;
}

/** What `module.findSourceMap` returns that we use (Node 20+). */
interface NodeSourceMap {
  findEntry(line: number, column: number): { originalSource?: string; originalLine?: number; originalColumn?: number; name?: string };
}

/** How many files' source-map lookups are remembered (cleared when full). */
const MAX_MAP_FILES = 2000;

/** The error handed to the program's stack formatter: an Error without a captured stack of its own. */
let probe: Error | undefined;

/**
 * Source maps the runtime holds in memory: tsx (`--import tsx`), ts-node, esbuild-register, SWC
 * and the like transpile in memory and register each file's map with Node (which keeps it when
 * source maps are enabled: `--enable-source-maps` or `process.setSourceMapsEnabled(true)`, which
 * these runners call). There is no map on disk for the collector to find, so frames are mapped
 * here, with `module.findSourceMap`, when a stack is first formatted (once per distinct stack);
 * the lookup is cached per file, and a file without a map costs one Map lookup after the first.
 * Mapped frames keep their generated position in `generated` (the collector then leaves them as
 * they are; frames of files with a map on disk only are still mapped there).
 *
 * Test runners compile each test file in memory, with a source map Node never sees: vitest
 * (vite-node) runs the transformed module through `vm.runInThisContext` with an inline map, Jest
 * compiles babel-jest's or ts-jest's output into a `vm.Script` and keeps the map in its cache
 * folder. The frame keeps the test file's name and the transformed code's line. Each runner
 * installs a stack formatter (`Error.prepareStackTrace`) that maps through those maps, so that a
 * failing test points at the line its author wrote; a program frame Node holds no map for is
 * handed, alone, to the formatter in place when the stack is formatted, and its position is
 * read back from the one frame line it returns (see formatterFrame).
 */
export class RuntimeSourceMaps {
  private readonly byFile = new Map<string, NodeSourceMap | null>();
  private find: ((file: string) => NodeSourceMap | undefined) | null | undefined;

  private mapFor(file: string): NodeSourceMap | null {
    let map = this.byFile.get(file);
    if (map !== undefined) return map;
    if (this.find === undefined) {
      const mod = require('node:module') as { findSourceMap?: (file: string) => NodeSourceMap | undefined };
      this.find = typeof mod.findSourceMap === 'function' ? mod.findSourceMap : null;
    }
    map = null;
    try {
      map = this.find?.(file) ?? null;
    } catch {
      map = null;
    }
    if (this.byFile.size >= MAX_MAP_FILES) this.byFile.clear();
    this.byFile.set(file, map);
    return map;
  }

  /**
   * The frame at its original position when the runtime holds a map for its file, else, given
   * its call site (`site`: the program's frames), where the program's stack formatter puts it,
   * else the frame.
   */
  map(frame: StackFrame, site?: CallSiteLike): StackFrame {
    const map = this.mapFor(frame.file);
    if (!map || frame.line < 1) return site ? formatterFrame(frame, site) : frame;
    try {
      // findEntry takes and returns 0-based lines and columns; V8's are 1-based.
      const e = map.findEntry(frame.line - 1, Math.max(0, frame.column - 1));
      if (typeof e?.originalSource !== 'string' || typeof e.originalLine !== 'number') return frame;
      return mappedFrame(frame, sourceFile(e.originalSource, frame.file), e.originalLine + 1, e.originalColumn, e.name);
    } catch {
      return frame;
    }
  }
}

/** A mapped source as a path when the frame's file was one and the source is a file URL. */
function sourceFile(source: string, generatedFile: string): string {
  if (source.startsWith('file:') && !generatedFile.startsWith('file:')) {
    try {
      return (require('node:url') as typeof import('node:url')).fileURLToPath(source);
    } catch {
      return source;
    }
  }
  return source;
}

/** The name of Node's own `Error.prepareStackTrace` (lib/internal/errors.js, Node 20–26). */
const NODE_FORMATTER = 'ErrorPrepareStackTrace';

/** `file:line:column` at the end of a stack line's location. */
const LOCATION = /^(.+):(\d+):(\d+)$/;

/**
 * `frame` where the program's stack formatter (`Error.prepareStackTrace` as the program left it:
 * vite-node's, Jest's, source-map-support's) puts its call site, when that is somewhere else:
 * the formatter is called with that one call site and an empty error, as V8 would call it for an
 * error thrown there, and the location is read from the one `at …` line it returns, after the
 * function part V8 itself writes for the site. Anything else (no formatter, Node's own, an
 * exception, a result that is not such a line) leaves the frame as it is.
 */
export function formatterFrame(frame: StackFrame, site: CallSiteLike): StackFrame {
  const format: unknown = Error.prepareStackTrace;
  // Node's own (20+) maps through the maps RuntimeSourceMaps already asked Node for.
  if (typeof format !== 'function' || format.name === NODE_FORMATTER || frame.line < 1) return frame;
  try {
    probe ??= Object.create(Error.prototype, { message: { value: '' } }) as Error;
    const text: unknown = format.call(Error, probe, [site]);
    if (typeof text !== 'string') return frame;
    const at = text.indexOf('\n    at ');
    if (at < 0) return frame;
    let line = text.slice(at + 8);
    const nl = line.indexOf('\n');
    if (nl >= 0) line = line.slice(0, nl);
    const loc = location(line, String(site), frame);
    const m = loc === undefined ? null : LOCATION.exec(loc);
    if (!m) return frame;
    const file = m[1]!;
    const ln = Number(m[2]);
    const col = Number(m[3]);
    if (ln < 1 || col < 1 || (file === frame.file && ln === frame.line && col === frame.column)) return frame;
    if (ln === frame.line && col === frame.column && sameFile(file, frame.file)) return frame;
    return mappedFrame(frame, file, ln, col - 1, undefined);
  } catch {
    return frame;
  }
}

/**
 * The location part of a formatted frame line (`fn (file:1:2)` or `file:1:2`). `own` is V8's
 * own text for the unmapped site: its function part, when it has one, is what precedes ` (`,
 * so a path with ` (` in it is not cut there; a formatter that writes the function otherwise
 * is read up to the first ` (`.
 */
function location(line: string, own: string, frame: StackFrame): string | undefined {
  if (!line.endsWith(')')) return line;
  const ownLoc = `${frame.file}:${frame.line}:${frame.column})`;
  if (own.endsWith(ownLoc) && own.length > ownLoc.length + 2) {
    const prefix = own.slice(0, own.length - ownLoc.length);
    if (line.startsWith(prefix)) return line.slice(prefix.length, -1);
  }
  const open = line.indexOf(' (');
  return open < 0 ? undefined : line.slice(open + 2, -1);
}

/** Whether two names of a frame's file are the same file (a path and its file URL). */
function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    const { fileURLToPath } = require('node:url') as typeof import('node:url');
    return (a.startsWith('file:') ? fileURLToPath(a) : a) === (b.startsWith('file:') ? fileURLToPath(b) : b);
  } catch {
    return false;
  }
}
