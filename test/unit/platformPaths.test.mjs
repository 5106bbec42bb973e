// covers: src/trace/formats/filePath.ts, src/collector/server.ts, src/collector/launchEnv.ts,
//   src/collector/sourceMaps.ts, src/extension/annotations.ts,
//   src/preload/initiator/stackCapture.ts
// The platform-dependent pieces, tested on Linux with the Windows and POSIX rules as parameters
// (path.win32 / path.posix, Node's file URL conversion for each, Node's NODE_OPTIONS parsing):
// the collector's named pipe or unix socket, NODE_OPTIONS quoting of a Windows preload path,
// drive letters, backslashes, `file:///C:/` URLs and UNC paths in initiator frames, source maps
// and the editor annotations (CodeLens / hover, the jump to a line).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, win32 } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-platform-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(
  [
    "export * from './src/trace/formats/filePath';",
    "export { ipcPathFor, maxSocketPathBytes, socketPathProblem, startCollector } from './src/collector/server';",
    "export { mergeNodeOptions, quoteNodeOption, buildPreloadEnv } from './src/collector/launchEnv';",
    "export { SourceMapResolver, windowsSourcesToUrls } from './src/collector/sourceMaps';",
    "export { AnnotationIndex } from './src/extension/annotations';",
    "export { formatSites, isProgramFile } from './src/preload/initiator/stackCapture';",
  ],
  { dir: tmp },
);
const { SourceMapGenerator } = await import('source-map-js');

// ---- paths of frames ---------------------------------------------------------------------------

test('framePath: Windows drive letters, file:///C:/ URLs, UNC paths; POSIX paths; the rest is no file', () => {
  const w = (f) => m.framePath(f, 'win32');
  assert.equal(w('C:\\app\\src\\x.ts'), 'C:\\app\\src\\x.ts');
  assert.equal(w('C:/app/src/x.ts'), 'C:\\app\\src\\x.ts');
  assert.equal(w('file:///C:/app/x.ts'), 'C:\\app\\x.ts');
  assert.equal(w('file:///c:/Users/Jane%20Doe/app/x.mjs'), 'c:\\Users\\Jane Doe\\app\\x.mjs');
  assert.equal(w('\\\\server\\share\\app\\x.js'), '\\\\server\\share\\app\\x.js');
  assert.equal(w('file://server/share/app/x.js'), '\\\\server\\share\\app\\x.js');
  // Relative to the current drive, relative, internals, other URLs: not a file the editor can open.
  for (const f of ['\\app\\x.js', 'app\\x.js', 'x.js', 'node:internal/x', 'https://h/x.js', 'webpack:///src/x.ts']) {
    assert.equal(w(f), undefined, f);
  }
  const p = (f) => m.framePath(f, 'posix');
  assert.equal(p('/home/jane/app/x.ts'), '/home/jane/app/x.ts');
  assert.equal(p('file:///Users/Jane%20Doe/app/x.mjs'), '/Users/Jane Doe/app/x.mjs');
  for (const f of ['C:\\app\\x.ts', 'app/x.js', 'node:fs', 'https://h/x.js']) assert.equal(p(f), undefined, f);
  // The default is this process's system (Linux here): unchanged.
  assert.equal(m.framePath('/w/a.js'), '/w/a.js');
  assert.equal(m.pathSystem('win32'), 'win32');
  for (const os of ['linux', 'darwin', 'freebsd']) assert.equal(m.pathSystem(os), 'posix');
  assert.equal(m.pathOf('win32'), win32);
  assert.equal(m.pathOf('posix'), posix);
});

test('isWindowsAbsolute agrees with path.win32.isAbsolute except for drive-relative \\x', () => {
  for (const f of ['C:\\a', 'c:/a', '\\\\srv\\share\\a', '//srv/share/a', 'C:a', 'a\\b', '\\a', '/a']) {
    const expected = win32.isAbsolute(f) && !/^[\\/](?![\\/])/.test(f);
    assert.equal(m.isWindowsAbsolute(f), expected, f);
  }
});

test('fileKey: on Windows case and separators do not tell files apart; elsewhere they do', () => {
  const key = (p) => m.fileKey(p, 'win32');
  assert.equal(key('C:\\App\\src\\x.ts'), key('c:\\app\\src\\x.ts'));
  assert.equal(key('C:/App/src/x.ts'), key('c:\\app\\src\\x.ts'));
  assert.equal(key('\\\\Server\\Share\\x.js'), key('\\\\server\\share\\x.js'));
  assert.notEqual(key('C:\\app\\x.ts'), key('D:\\app\\x.ts'));
  assert.notEqual(m.fileKey('/app/X.ts', 'posix'), m.fileKey('/app/x.ts', 'posix'));
  assert.equal(m.fileKey('/app/x.ts', 'posix'), '/app/x.ts');
});

test('file URLs round-trip for each system (CodeLens and jumps open what the frame names)', () => {
  const cases = [
    ['win32', 'C:\\Users\\Jane Doe\\app\\src\\x.ts', 'file:///C:/Users/Jane%20Doe/app/src/x.ts'],
    ['win32', '\\\\server\\share\\app\\x.js', 'file://server/share/app/x.js'],
    ['posix', '/Users/Jane Doe/app/#x.ts', 'file:///Users/Jane%20Doe/app/%23x.ts'],
  ];
  for (const [system, path, url] of cases) {
    assert.equal(m.pathToUrl(path, system), url);
    assert.equal(m.urlToPath(url, system), path);
  }
});

// ---- editor annotations ------------------------------------------------------------------------

function request(id, file, line = 14) {
  return {
    traceID: id,
    pid: 1,
    client: 'fetch',
    reqMethod: 'GET',
    reqURL: 'http://127.0.0.1:8080/api/users',
    reqStartAt: Number(id.split('-')[1]),
    respStatusCode: 200,
    reqEndAt: 130,
    timings: { blocked: 1, dns: -1, connect: 3, ssl: -1, send: 0, wait: 100, receive: 20 },
    initiator: {
      frames: [
        { file: 'C:\\app\\node_modules\\axios\\lib\\adapters\\http.js', line: 3, column: 1, library: true },
        { file, line, column: 5 },
      ],
    },
  };
}

test("annotations on Windows: the frame's C:\\ path or file:///C:/ URL finds the editor's c:\\ document", () => {
  const idx = new m.AnnotationIndex('win32');
  assert.equal(idx.upsert(request('req-1', 'C:\\app\\src\\users.ts')), 'C:\\app\\src\\users.ts');
  idx.upsert(request('req-2', 'file:///C:/app/src/users.ts'));
  idx.upsert(request('req-3', '\\\\server\\share\\app\\x.js', 2));
  // What vscode.Uri#fsPath gives on Windows: the drive letter in lower case.
  const lines = idx.lines('c:\\app\\src\\users.ts');
  assert.equal(lines.length, 1);
  assert.equal(lines[0].line, 13);
  assert.deepEqual(
    lines[0].requests.map((r) => r.traceID),
    ['req-1', 'req-2'],
  );
  assert.equal(idx.lines('\\\\server\\share\\app\\x.js')[0].line, 1);
  assert.deepEqual(idx.files(), ['C:\\app\\src\\users.ts', '\\\\server\\share\\app\\x.js']);
  // A library-only stack has no line, on Windows too.
  const lib = request('req-4', 'C:\\app\\node_modules\\got\\x.js');
  lib.initiator.frames[1].library = true;
  assert.equal(idx.upsert(lib), undefined);
});

test('annotations on Linux and macOS: paths compare as they are', () => {
  const idx = new m.AnnotationIndex('posix');
  idx.upsert(request('req-1', '/Users/jane/app/src/Users.ts'));
  idx.upsert(request('req-2', 'file:///Users/jane/app/src/x.mjs'));
  assert.equal(idx.lines('/Users/jane/app/src/Users.ts').length, 1);
  assert.equal(idx.lines('/Users/jane/app/src/users.ts').length, 0);
  assert.equal(idx.lines('/Users/jane/app/src/x.mjs').length, 1);
});

// ---- the collector's socket ----------------------------------------------------------------------

test('ipcPathFor: a named pipe on Windows, a unix socket in the private directory elsewhere', () => {
  const pipe = m.ipcPathFor('C:\\Users\\Jane\\AppData\\Local\\Temp\\nettrace-abc', 'win32', () => '0123456789abcdef01234567');
  assert.equal(pipe, '\\\\.\\pipe\\nettrace-0123456789abcdef01234567');
  assert.match(m.ipcPathFor('C:\\t\\nettrace-x', 'win32'), /^\\\\\.\\pipe\\nettrace-[0-9a-f]{24}$/);
  assert.notEqual(m.ipcPathFor('d', 'win32'), m.ipcPathFor('d', 'win32'));
  assert.equal(m.ipcPathFor('/var/folders/zz/T/nettrace-abc', 'posix'), '/var/folders/zz/T/nettrace-abc/ipc.sock');
  assert.equal(m.ipcPathFor('/tmp/nettrace-abc'), '/tmp/nettrace-abc/ipc.sock');
});

test('socketPathProblem: the sun_path limit of Linux (107 bytes) and macOS (103); none for pipes', () => {
  const of = (n) => '/' + 'x'.repeat(n - 1);
  assert.equal(m.maxSocketPathBytes('linux'), 107);
  assert.equal(m.maxSocketPathBytes('darwin'), 103);
  assert.equal(m.socketPathProblem(of(107), 'linux'), undefined);
  assert.match(m.socketPathProblem(of(108), 'linux'), /is 108 bytes, over the 107 .*set TMPDIR to a shorter directory/);
  assert.equal(m.socketPathProblem(of(103), 'darwin'), undefined);
  assert.match(m.socketPathProblem(of(104), 'darwin'), /over the 103/);
  assert.equal(m.socketPathProblem(`\\\\.\\pipe\\${'x'.repeat(200)}`, 'win32'), undefined);
});

test('a collector whose socket path would be cut short refuses to start, leaving nothing behind', async () => {
  // Node cuts a unix socket path over the limit short, silently: the socket would land in the
  // (shared) parent of the private directory under a cut-off name.
  const parent = join(tmp, 'long-'.padEnd(100, 'x'));
  mkdirSync(parent);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = parent;
  let started;
  try {
    started = await m.startCollector({}).catch((err) => err);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  // Closed when it did start (the old behaviour), so the test ends either way.
  if (!(started instanceof Error)) await started.close();
  assert.ok(started instanceof Error, 'the collector started');
  assert.match(started.message, /socket path .* bytes, over the 107 this system allows: set TMPDIR/);
  assert.deepEqual(readdirSync(parent), []);
  assert.deepEqual(
    readdirSync(tmp).filter((n) => n !== parent.slice(tmp.length + 1) && !n.endsWith('.cjs') && !n.endsWith('.map')),
    [],
  );
});

// ---- NODE_OPTIONS --------------------------------------------------------------------------------

const winPreload = 'C:\\Users\\Jane Doe\\.vscode\\extensions\\nettrace.nettrace-0.1.0\\dist\\preload.cjs';

test('NODE_OPTIONS for a Windows preload path: quoted, backslashes escaped', () => {
  assert.equal(
    m.mergeNodeOptions(winPreload, '--max-old-space-size=200'),
    '--require "C:\\\\Users\\\\Jane Doe\\\\.vscode\\\\extensions\\\\nettrace.nettrace-0.1.0\\\\dist\\\\preload.cjs" --max-old-space-size=200',
  );
});

test("Node's own NODE_OPTIONS parser reads the Windows path back exactly (it is the same on every system)", () => {
  // Node looks the module up under the name it parsed and names it in the error: on Linux a
  // Windows path is not found, which shows what Node made of the quoting.
  const r = spawnSync(process.execPath, ['-e', '0'], {
    env: { ...process.env, NODE_OPTIONS: m.mergeNodeOptions(winPreload, '') },
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0);
  assert.ok(r.stderr.includes(`Cannot find module '${winPreload}'`), r.stderr);
});

test(
  'node really loads a preload whose path holds a whole Windows path with spaces and a quote',
  { skip: process.platform === 'win32' },
  () => {
    // On Linux `\`, `:` and `"` are file name characters: the Windows path becomes folder names.
    const dir = join(tmp, 'C:\\Users\\Jane "JD" Doe\\.vscode\\extensions\\nettrace\\dist');
    mkdirSync(dir, { recursive: true });
    const preload = join(dir, 'pre load.cjs');
    writeFileSync(preload, "process.stdout.write('preloaded ' + __filename + '\\n');\n");
    const env = m.buildPreloadEnv({ ...process.env, NODE_OPTIONS: '--no-warnings' }, { preloadPath: preload, config: { ipcPath: 'x' } });
    const r = spawnSync(process.execPath, ['-e', 'console.log("main")'], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `preloaded ${preload}\nmain\n`);
    assert.ok(existsSync(preload));
  },
);

// ---- source maps ---------------------------------------------------------------------------------

/** generated line 2, column 10 (0-based) -> line 14, column 8 of `source`. */
function mapOf(source, sourceRoot) {
  const g = new SourceMapGenerator({ file: 'users.js', sourceRoot });
  g.addMapping({ generated: { line: 2, column: 10 }, original: { line: 14, column: 8 }, source, name: 'loadUsers' });
  return g.toString();
}

/** A SourceMapResolver of `system` over an in-memory file system `files` (exact paths). */
function resolver(system, files) {
  return new m.SourceMapResolver({ system, readFile: (p) => files[p] });
}

const generated = 'x\nconst a = fetch(u);\n//# sourceMappingURL=users.js.map\n';

test('source maps on Windows: drive letters, spaces, file:///C:/ frames and UNC paths', () => {
  const cases = [
    ['C:\\app\\dist\\users.js', 'C:\\app\\dist\\users.js', 'C:\\app\\src\\users.ts'],
    ['file:///C:/app/dist/users.js', 'C:\\app\\dist\\users.js', 'C:\\app\\src\\users.ts'],
    ['C:\\Users\\Jane Doe\\app\\dist\\users.js', 'C:\\Users\\Jane Doe\\app\\dist\\users.js', 'C:\\Users\\Jane Doe\\app\\src\\users.ts'],
    ['\\\\server\\share\\app\\dist\\users.js', '\\\\server\\share\\app\\dist\\users.js', '\\\\server\\share\\app\\src\\users.ts'],
  ];
  for (const [file, onDisk, expected] of cases) {
    const r = resolver('win32', { [onDisk]: generated, [`${onDisk}.map`]: mapOf('../src/users.ts') });
    const mapped = r.mapFrame({ file, line: 2, column: 11 });
    assert.equal(mapped.file, expected, file);
    assert.equal(mapped.line, 14);
    assert.equal(mapped.column, 9);
    assert.deepEqual(mapped.generated, { file, line: 2, column: 11 });
  }
});

test('source maps on Windows: absolute C:\\ sources and sourceRoot, and a map named by a C:\\ path', () => {
  const files = {
    'C:\\app\\dist\\a.js': generated.replace('users.js.map', 'a.js.map'),
    'C:\\app\\dist\\a.js.map': mapOf('C:\\app\\src\\users.ts'),
    'C:\\app\\dist\\b.js': generated.replace('users.js.map', 'b.js.map'),
    'C:\\app\\dist\\b.js.map': mapOf('users.ts', 'C:\\app\\src'),
    'C:\\app\\dist\\c.js': generated.replace('users.js.map', 'C:\\maps\\c.js.map'),
    'C:\\maps\\c.js.map': mapOf('file:///C:/app/src/users.ts'),
  };
  const r = resolver('win32', files);
  for (const f of ['a', 'b', 'c'])
    assert.equal(r.mapFrame({ file: `C:\\app\\dist\\${f}.js`, line: 2, column: 11 }).file, 'C:\\app\\src\\users.ts', f);
  const raw = { sources: ['C:\\a\\x.ts', '../y.ts', 'webpack:///z.ts'], sourceRoot: '\\\\srv\\share\\' };
  m.windowsSourcesToUrls(raw);
  assert.deepEqual(raw, { sources: ['file:///C:/a/x.ts', '../y.ts', 'webpack:///z.ts'], sourceRoot: 'file://srv/share/' });
});

test('source maps on Linux and macOS: the same through POSIX paths; drive-letter frames are no files there', () => {
  const r = resolver('posix', {
    '/Users/jane/app/dist/users.js': generated,
    '/Users/jane/app/dist/users.js.map': mapOf('../src/users.ts'),
  });
  assert.equal(r.mapFrame({ file: 'file:///Users/jane/app/dist/users.js', line: 2, column: 11 }).file, '/Users/jane/app/src/users.ts');
  const frame = { file: 'C:\\app\\dist\\users.js', line: 2, column: 11 };
  assert.equal(r.mapFrame(frame), frame);
});

// ---- the preload's initiator capture -------------------------------------------------------------

/** A V8 CallSite stand-in. */
function site(file, line = 1, fn = null) {
  return {
    getFileName: () => file,
    getFunctionName: () => fn,
    getMethodName: () => null,
    getTypeName: () => null,
    getLineNumber: () => line,
    getColumnNumber: () => 3,
  };
}

test("the preload's frames from Windows paths: program vs library vs Node's own", () => {
  const own = 'C:\\Users\\Jane Doe\\.vscode\\extensions\\nettrace\\dist\\preload.cjs';
  const sites = [
    site(own, 9),
    site('node:internal/http', 2),
    site('C:\\app\\node_modules\\axios\\lib\\http.js', 5),
    site('file:///C:/app/node_modules/got/dist/index.js', 6),
    site('C:\\app\\src\\users.ts', 14, 'loadUsers'),
    site('file:///C:/app/src/main.mjs', 3),
    site('\\\\server\\share\\app\\x.js', 4),
    site('evalmachine.<anonymous>', 1),
  ];
  const init = m.formatSites(sites, 10, own);
  assert.deepEqual(
    init.frames.map((f) => [f.file, f.line, !!f.library]),
    [
      ['C:\\app\\src\\users.ts', 14, false],
      ['file:///C:/app/src/main.mjs', 3, false],
      ['\\\\server\\share\\app\\x.js', 4, false],
      ['C:\\app\\node_modules\\axios\\lib\\http.js', 5, true],
      ['file:///C:/app/node_modules/got/dist/index.js', 6, true],
    ],
  );
  assert.equal(m.isProgramFile('C:\\app\\src\\users.ts', own), true);
  assert.equal(m.isProgramFile('\\\\server\\share\\x.js', own), true);
  assert.equal(m.isProgramFile('C:\\app\\node_modules\\axios\\index.js', own), false);
  assert.equal(m.isProgramFile(own, own), false);
  // The line the editor opens for the first program frame.
  assert.equal(m.framePath(init.frames[1].file, 'win32'), 'C:\\app\\src\\main.mjs');
});
