/**
 * Maps initiator stack frames (generated JavaScript positions, as V8 reports them) to original
 * source positions through source maps, so a request points at the TypeScript line that made it.
 * Each file is read once (size-capped) and cached, including misses. Never throws.
 */

import { readFileSync, statSync } from 'node:fs';
import type { SourceMapConsumer } from 'source-map-js';
type SourceMapJs = typeof import('source-map-js');
let sourceMapJs: SourceMapJs | undefined;
/** source-map-js, loaded when the first map is read (issue 52: a run with no source maps never loads it). */
function consumerClass(): SourceMapJs['SourceMapConsumer'] {
  return (sourceMapJs ??= require('source-map-js') as SourceMapJs).SourceMapConsumer;
}
import { framePath, isWindowsAbsolute, pathOf, pathSystem, pathToUrl, urlToPath, type PathSystem } from '../trace/formats/filePath';
import { mappedFrame } from '../trace/contract/frames';
import type { StackFrame } from '../trace/contract/incoming';

/** Options of a SourceMapResolver. */
export interface SourceMapOptions {
  /** Generated files or maps larger than this are not read (default 32 MiB). */
  maxFileBytes?: number;
  /** Files whose map is kept in the cache (default 500; least recently added are evicted). */
  maxCachedFiles?: number;
  /** Path rules of the traced program's files (default: this system's). */
  system?: PathSystem;
  /**
   * Reads a generated file or a map, undefined when it cannot (default: the file system, files
   * over maxFileBytes not read). Tests give Windows paths an in-memory file system with it.
   */
  readFile?: (path: string) => string | undefined;
}

/** A raw source map's fields that name its sources. */
interface RawSources {
  sources?: unknown;
  sourceRoot?: unknown;
}

/**
 * Absolute Windows paths among a map's `sources` and its `sourceRoot` (`C:\app\src\x.ts`, as
 * some tools write them on Windows) as `file:` URLs, in place. source-map-js takes them for
 * paths relative to the map (`file:///C:/app/dist/C:\app\src\x.ts`); a URL it keeps.
 */
export function windowsSourcesToUrls(map: RawSources): void {
  const toUrl = (s: unknown) => (typeof s === 'string' && isWindowsAbsolute(s) ? pathToUrl(s, 'win32') : s);
  if (Array.isArray(map.sources)) map.sources = map.sources.map(toUrl);
  if (map.sourceRoot !== undefined) map.sourceRoot = toUrl(map.sourceRoot);
}

const SOURCE_MAPPING_URL = /\/[/*][#@]\s*sourceMappingURL=([^\s'"*]+)\s*(?:\*\/\s*)?$/;

/** Resolves stack frames through the source maps their files reference. */
export class SourceMapResolver {
  private readonly cache = new Map<string, SourceMapConsumer | null>();
  private readonly maxFileBytes: number;
  private readonly maxCachedFiles: number;
  private readonly system: PathSystem;
  private readonly readFile: (path: string) => string | undefined;

  constructor(options: SourceMapOptions = {}) {
    this.maxFileBytes = options.maxFileBytes ?? 32 * 1024 * 1024;
    this.maxCachedFiles = options.maxCachedFiles ?? 500;
    this.system = options.system ?? pathSystem();
    this.readFile = options.readFile ?? ((path) => this.readCapped(path));
  }

  /**
   * Returns the frame mapped to its original position (the generated one kept in `generated`),
   * or the frame unchanged when there is no usable source map.
   */
  mapFrame(frame: StackFrame): StackFrame {
    try {
      if (frame.generated || !frame.file || typeof frame.line !== 'number') return frame;
      const path = framePath(frame.file, this.system);
      if (!path) return frame;
      const consumer = this.consumerFor(path);
      if (!consumer) return frame;
      // V8 columns are 1-based; source-map-js columns are 0-based (lines are 1-based in both).
      const pos = consumer.originalPositionFor({
        line: frame.line,
        column: Math.max(0, (frame.column ?? 1) - 1),
        bias: consumerClass().GREATEST_LOWER_BOUND,
      });
      if (!pos.source || pos.line == null) return frame;
      return mappedFrame(frame, sourceToPath(pos.source, this.system), pos.line, pos.column, pos.name);
    } catch {
      return frame;
    }
  }

  /** Maps every frame of a list (see mapFrame). */
  mapFrames(frames: StackFrame[]): StackFrame[] {
    return frames.map((f) => this.mapFrame(f));
  }

  /** Forgets every cached map (e.g. after a rebuild of the debuggee). */
  clear(): void {
    this.cache.clear();
  }

  private consumerFor(path: string): SourceMapConsumer | null {
    const hit = this.cache.get(path);
    if (hit !== undefined) return hit;
    const consumer = this.load(path);
    if (this.cache.size >= this.maxCachedFiles) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(path, consumer);
    return consumer;
  }

  private load(path: string): SourceMapConsumer | null {
    try {
      const code = this.readFile(path);
      if (code === undefined) return null;
      // Only the last lines can carry the comment; avoid scanning a huge file line by line.
      const tail = code.slice(-Math.min(code.length, 1024 * 1024));
      const lines = tail.trimEnd().split('\n');
      let url: string | undefined;
      for (let i = lines.length - 1; i >= Math.max(0, lines.length - 5); i--) {
        const m = SOURCE_MAPPING_URL.exec(lines[i].trim());
        if (m) {
          url = m[1];
          break;
        }
      }
      if (!url) return null;
      let mapText: string | undefined;
      let mapURL: string;
      if (url.startsWith('data:')) {
        mapText = decodeDataUrl(url);
        mapURL = pathToUrl(path, this.system);
      } else {
        let mapPath: string;
        if (url.startsWith('file:')) mapPath = urlToPath(url, this.system);
        else if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) return null;
        else {
          const p = pathOf(this.system);
          mapPath = p.resolve(p.dirname(path), decodeURIComponent(url));
        }
        mapText = this.readFile(mapPath);
        mapURL = pathToUrl(mapPath, this.system);
      }
      if (mapText === undefined) return null;
      const raw = JSON.parse(mapText) as RawSources;
      if (this.system === 'win32' && raw && typeof raw === 'object') windowsSourcesToUrls(raw);
      const Consumer = consumerClass();
      return new Consumer(raw as ConstructorParameters<typeof Consumer>[0], mapURL);
    } catch {
      return null;
    }
  }

  private readCapped(path: string): string | undefined {
    try {
      const st = statSync(path);
      if (!st.isFile() || st.size > this.maxFileBytes) return undefined;
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  }
}

/** A mapped source as a path when it is a file URL; other sources (webpack://) stay as they are. */
function sourceToPath(source: string, system: PathSystem): string {
  if (source.startsWith('file:')) {
    try {
      return urlToPath(source, system);
    } catch {
      return source;
    }
  }
  return source;
}

function decodeDataUrl(url: string): string | undefined {
  const comma = url.indexOf(',');
  if (comma < 0) return undefined;
  const meta = url.slice(5, comma);
  const data = url.slice(comma + 1);
  return meta.endsWith(';base64') ? Buffer.from(data, 'base64').toString('utf8') : decodeURIComponent(data);
}
