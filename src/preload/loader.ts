/**
 * dist/preload.cjs, what `NODE_OPTIONS=--require` names: loads the preload's body
 * (dist/preload-body.cjs, built from index.ts) with V8's code cache, so a process does not parse
 * and compile the body's ≈ 400 KB again (issue 52: every process of a traced program pays the
 * preload's start; parsing alone was ≈ 53 M instructions of it).
 *
 * The cache is V8's cached data for the body's script, made in the first process that finds none
 * (after the body's start ran, so the functions compiled by then are in it), made again after
 * a process's first request, its 16th and its 64th (a `.warm.bin`, read first: a request's functions too, and
 * those of the paths its later requests took; index.ts, WARM_AT) and kept in the user's
 * cache folder (`$NETTRACE_CACHE/v8`, else `$XDG_CACHE_HOME/nettrace/v8`, else
 * `~/.cache/nettrace/v8`; folder 0700, files 0600, written whole by a rename; per install and Node
 * version the files of the last KEPT_KEYS keys, a new one replacing the oldest; in all at most
 * MAX_FOLDER_BYTES, the oldest-written going first). Its name holds what the data depends on: the
 * body's path, size and modification time, Node's version, the architecture and the process's
 * flags (V8 refuses data made under other flags; it then compiles as without, and this process
 * writes the data anew). The same for every Node the preload runs
 * on: Node's own compile cache (`module.enableCompileCache`, 22.1+) would cache the program's
 * modules too, which is not the preload's to decide.
 *
 * Without NETTRACE_CONFIG the body would do nothing, so it is not loaded. Any failure of the
 * cache falls back to a plain `require` of the body; nothing is thrown into the program.
 */

// Not namespace imports: the bundle would copy each module's properties, running their getters
// (`fs.Dir` loads internal/fs/dir on Node 22+), in every process, the body run or not.
const fs = require('node:fs') as typeof import('node:fs');
const path = require('node:path') as typeof import('node:path');

import { CONFIG_ENV, FIRST_USE, PRELOAD_BODY_FILE, PRELOAD_GUARD, nettraceCacheDir } from '../protocol/preload';
import { runOnFirstUse, type PreloadBody } from './firstUse';

const BODY = PRELOAD_BODY_FILE;

/** The folder of the code cache, or undefined when the user has no cache folder. */
function cacheDir(): string | undefined {
  const root = nettraceCacheDir(process.env);
  return root === undefined ? undefined : path.join(root, 'v8');
}

/** FNV-1a of `text`, 8 hex digits: a file name, not a check (V8 checks the data itself). */
function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * Keys (what the data depends on besides the install and Node's version: a build, the process's
 * flags) whose files are kept per install and Node version. More than one: the processes of one
 * program often differ in their flags (`npm test` and the test runner's workers it starts, each
 * with options of its own), and with one key kept each kind's write removed the other's, so every
 * run compiled the body again and wrote its data anew, in every process (issue 65: the vitest
 * suite's workers and npm, each run).
 */
const KEPT_KEYS = 4;

/** Age past which a temporary file in the folder (any install's) is one a killed process left, not one being written. */
const STALE_TMP_MS = 60_000;

/**
 * Bytes the folder's data files may take in all, every install and Node version together: the
 * files of an install that is gone (the extension's folder changes at each update) or of a Node
 * no longer used are never written again, so the oldest-written go when the folder holds more.
 * A file still in use that goes is written again by its next process. Room for some 60 of the
 * preload's files (≈ 250–550 KB each).
 */
const MAX_FOLDER_BYTES = 32 * 1024 * 1024;

/** Removes a file another process may have removed first (two write at once). */
function remove(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // gone already
  }
}

/** A file's status, undefined when another process removed it meanwhile (see remove). */
function statOf(file: string): import('node:fs').Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Writes `data` to `file` whole (a temporary file renamed), 0600 in a 0700 folder, and removes the
 * other file of its key (the warm data replaces the first; new first data, made when the warm
 * one was refused, replaces it), the files of this install's keys (their names start with
 * `prefix`) but the KEPT_KEYS − 1 written last, and, while the folder's data files take more than
 * MAX_FOLDER_BYTES, the oldest-written of any install; never throws.
 */
function writeCache(file: string, prefix: string, data: Buffer): void {
  try {
    const dir = path.dirname(file);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data, { mode: 0o600 });
    fs.renameSync(tmp, file);
    const base = path.basename(file);
    const keyOf = (name: string): string => name.slice(prefix.length, name.indexOf('.', prefix.length));
    const own = keyOf(base);
    const others: Array<{ name: string; key: string; at: number }> = [];
    /** Every other data file in the folder, whatever its install: what MAX_FOLDER_BYTES counts. */
    const all: Array<{ name: string; at: number; size: number }> = [];
    let bytes = data.length;
    for (const name of fs.readdirSync(dir)) {
      // A temporary file a process left, killed while it wrote (a test runner ends its workers so).
      if (name.endsWith('.tmp')) {
        const left = statOf(path.join(dir, name));
        if (left && left.mtimeMs < Date.now() - STALE_TMP_MS) remove(path.join(dir, name));
        continue;
      }
      if (!name.endsWith('.bin') || name === base) continue;
      if (name.startsWith(prefix) && keyOf(name) === own) {
        remove(path.join(dir, name));
        continue;
      }
      const st = statOf(path.join(dir, name));
      if (!st) continue;
      all.push({ name, at: st.mtimeMs, size: st.size });
      bytes += st.size;
      if (name.startsWith(prefix)) others.push({ name, key: keyOf(name), at: st.mtimeMs });
    }
    // The other keys, the last written first: those past the kept ones go.
    others.sort((a, b) => b.at - a.at);
    const kept = new Set<string>();
    const gone = new Set<string>();
    for (const o of others) {
      if (kept.has(o.key) || kept.size < KEPT_KEYS - 1) kept.add(o.key);
      else {
        remove(path.join(dir, o.name));
        gone.add(o.name);
      }
    }
    // Then the folder's oldest-written files, any install's, while it holds too much.
    all.sort((a, b) => a.at - b.at);
    for (const f of all) if (gone.has(f.name)) bytes -= f.size;
    for (let i = 0; i < all.length && bytes > MAX_FOLDER_BYTES; i++) {
      if (gone.has(all[i].name)) continue;
      remove(path.join(dir, all[i].name));
      bytes -= all[i].size;
    }
  } catch {
    // No cache this time; the next process tries again.
  }
}

/**
 * The process's options that can change V8's flags: its own options without the code or modules
 * they name (`-e 0` and `app.js` runs share one cache; execArgv holds `-e`'s code).
 */
function flagsOf(argv: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^(-e|-p|-pe|--eval|--print|-r|--require|--import|--loader|--experimental-loader)$/.test(a)) i++;
    else if (!/^--(eval|print|require|import|loader|experimental-loader)=/.test(a)) out.push(a);
  }
  return out.join(' ');
}

/**
 * The body's text: read as Latin-1 when it is ASCII, as the build makes it (scripts/build.mjs,
 * asciiBody), which V8 keeps as a one-byte string; decoding ≈ 440 KB as UTF-8 cost ≈ 9 M
 * instructions more per process (issue 52). As UTF-8 otherwise.
 */
function readSource(file: string): string {
  const bytes = fs.readFileSync(file);
  // Not a namespace import: copying the module's properties runs its getters (`File` loads internal/file on Node 22+).
  const isAscii = (require('node:buffer') as { isAscii?: (b: Uint8Array) => boolean }).isAscii;
  return bytes.toString(typeof isAscii === 'function' && isAscii(bytes) ? 'latin1' : 'utf8');
}

/** What runCached() may be asked besides. */
interface RunCachedOptions {
  /** Make the data when the process exits (the CLI: every function its run compiled). */
  atExit?: boolean;
  /**
   * Given the file's exports and a function that makes the data anew: the file calls it once it
   * is warm (the preload's body: after its first request, its 16th and its 64th, index.ts `whenWarm`); it
   * may call it more than once, each time with the data made anew. Not asked when
   * the data read was made so already.
   */
  whenWarm?: (exports: unknown, save: () => void) => void;
}

/**
 * Runs the CommonJS file `file` with V8's code cache for it (made and kept as described above,
 * under the name `name`): the preload's body, and the CLI's bundle (bin/nettrace.cjs, issue 52:
 * `nettrace run` pays its start once per run). Any failure of the cache falls back to a plain
 * `require` of the file; what the file throws is thrown. Returns the file's exports.
 *
 * The data is made when the file's top level has run (then it holds the functions compiled so
 * far; one missing is compiled from source when first called, in every process), again when the
 * file says it is warm (kept under a name of its own, read first, and made by the processes that found
 * none), or with
 * `atExit` when the process exits.
 */
export function runCached(file: string, name: string, { atExit = false, whenWarm }: RunCachedOptions = {}): unknown {
  let run: (() => unknown) | undefined;
  try {
    const source = readSource(file);
    const st = fs.statSync(file);
    const dir = cacheDir();
    const flags = `${flagsOf(process.execArgv)}|${process.env.NODE_OPTIONS ?? ''}`;
    // This install and Node version, then what the data depends on besides.
    const prefix = `${name}-${fnv(file)}-${process.version}-`;
    const key = fnv(`${st.size}|${st.mtimeMs}|${process.arch}|${flags}`);
    const cacheFile = dir ? path.join(dir, `${prefix}${key}.bin`) : undefined;
    const warmFile = dir ? path.join(dir, `${prefix}${key}.warm.bin`) : undefined;
    const read = (f: string | undefined): Buffer | undefined => {
      try {
        return f === undefined ? undefined : fs.readFileSync(f);
      } catch {
        return undefined; // None yet.
      }
    };
    // The warm data first.
    let cachedData = read(warmFile);
    const warm = cachedData !== undefined;
    cachedData ??= read(cacheFile);
    // CommonJS's own wrapper, on the source's first line so its lines keep their numbers.
    const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
    // Required here: a process whose body never runs (firstUse.ts) does not load `vm` (≈ 1.7 M instructions).
    const vm = require('node:vm') as typeof import('node:vm');
    const script = new vm.Script(wrapper, { filename: file, cachedData });
    const fn = script.runInThisContext() as (e: unknown, r: NodeRequire, m: unknown, f: string, d: string) => void;
    const rejected = !cachedData || script.cachedDataRejected === true;
    run = () => {
      const mod: { exports: unknown } = { exports: {} };
      // This loader's require resolves as the file's would: both are in dist/ (the bundles load
      // their siblings there: rules.cjs, otlp-wire.cjs).
      fn.call(mod.exports, mod.exports, require, mod, file, path.dirname(file));
      const save = cacheFile && rejected ? () => writeCache(cacheFile, prefix, script.createCachedData()) : undefined;
      if (save && atExit) process.once('exit', save);
      else if (save) save();
      if (whenWarm && warmFile && (rejected || !warm)) whenWarm(mod.exports, () => writeCache(warmFile, prefix, script.createCachedData()));
      return mod.exports;
    };
  } catch {
    run = undefined;
  }
  // It runs once, by one path or the other.
  return run ? run() : (require(file) as unknown);
}

function load(): void {
  // Without NETTRACE_CONFIG the body would do nothing (a CLI loading runCached from here, too).
  const raw = process.env[CONFIG_ENV];
  if (!raw) return;
  const g = globalThis as Record<symbol, unknown>;
  const guard = Symbol.for(PRELOAD_GUARD);
  // Loaded twice (NODE_OPTIONS naming it twice, a child's copy of the variable): the first one traces.
  if (g[guard]) return;
  // Loaded through the debugger, or unusable (the body says why at once): the body runs now.
  let now = true;
  try {
    now = (JSON.parse(raw) as { attached?: unknown }).attached === true;
  } catch {
    /* now */
  }
  // Configurable: the body replaces it (index.ts), a detach takes it away.
  Object.defineProperty(globalThis, guard, { value: FIRST_USE, enumerable: false, configurable: true });
  // The body catches its own failures (index.ts).
  runOnFirstUse(
    () =>
      runCached(path.join(__dirname, BODY), 'preload', {
        whenWarm: (body, save) => (body as PreloadBody | undefined)?.whenWarm?.(save),
      }) as PreloadBody | undefined,
    now,
  );
}

try {
  load();
} catch {
  // The body reports why tracing is off; nothing is thrown into the program.
}
