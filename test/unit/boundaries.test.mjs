// covers: eslint.config.mjs, src/, webview/
// The boundaries `npm test` enforces (scripts/check.mjs): each kind of violation is added to a
// scratch copy of the repository and the check that `npm test` runs must fail, naming the file and
// the problem. Each check runs on the files it concerns only, to keep this test short; the injected
// files must otherwise pass (every reported problem is on an injected line).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const SKIP = new Set(['node_modules', '.git', 'dist', 'test-results', '.cache']);
let copy;

before(() => {
  copy = mkdtempSync(join(tmpdir(), 'nettrace-boundaries-'));
  cpSync(repo, copy, { recursive: true, filter: (src) => !SKIP.has(basename(src)) || src === repo });
  symlinkSync(realpathSync(join(repo, 'node_modules')), join(copy, 'node_modules'));
});
after(() => rmSync(copy, { recursive: true, force: true }));

/** Runs `node scripts/check.mjs ...args` in the copy. */
function check(...args) {
  const r = spawnSync(process.execPath, [join(copy, 'scripts', 'check.mjs'), ...args], { cwd: copy, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const originals = new Map();
/** Appends lines to a file of the copy; returns the 1-based line number of each. */
function append(file, lines) {
  const path = join(copy, file);
  const text = readFileSync(path, 'utf8');
  if (!originals.has(path)) originals.set(path, text);
  const base = text.endsWith('\n') ? text : `${text}\n`;
  const first = base.split('\n').length;
  writeFileSync(path, `${base}${lines.join('\n')}\n`);
  return lines.map((_, i) => first + i);
}
/** Puts every appended-to file back as it was. */
function restore() {
  for (const [path, text] of originals) writeFileSync(path, text);
  originals.clear();
}

/** ESLint's stylish output as { file (relative to the copy), line, message }. */
function eslintProblems(out) {
  const problems = [];
  let file = null;
  for (const line of out.split('\n')) {
    if (line.trim().startsWith(copy)) file = line.trim().slice(copy.length + 1);
    const m = /^\s+(\d+):\d+\s+error\s+(.*)$/.exec(line);
    if (m && file) problems.push({ file, line: Number(m[1]), message: m[2] });
  }
  return problems;
}

describe('lint: vscode imports, the layer table, ESLint errors', () => {
  const cases = [
    {
      name: 'a vscode import in src/trace',
      file: 'src/trace/formats/har.ts',
      code: "import 'vscode';",
      expect: /Only src\/extension\/ may import vscode/,
    },
    {
      name: 'src/trace importing src/collector',
      file: 'src/trace/formats/har.ts',
      code: "import { startCollector } from '../../collector/server'; export const layerProbe = startCollector;",
      expect: /Layer table: src\/trace\/ may import only src\/trace\//,
    },
    {
      name: 'src/trace importing a value from src/protocol',
      file: 'src/trace/formats/har.ts',
      code: "import { CONFIG_ENV } from '../../protocol/preload'; export const valueProbe = CONFIG_ENV;",
      expect: /Layer table: src\/trace\/ may import only .*, and types \(import type\) from src\/protocol\//,
    },
    {
      name: 'the trace contract importing the rest of src/trace',
      file: 'src/trace/contract/types.ts',
      code: "import { toHar } from '../formats/har'; export const contractProbe = toHar;",
      expect: /Layer table: the trace contract \(src\/trace\/contract\/\) may import only the trace contract/,
    },
    {
      name: 'the preload importing the trace model beyond the contract',
      file: 'src/preload/index.ts',
      code: "import { toHar } from '../trace/formats/har'; export const preloadProbe = toHar;",
      expect: /Layer table: src\/preload\/ may import only src\/preload\/, the trace contract/,
    },
    {
      name: 'a require of vscode in src/cli',
      file: 'src/cli/nettrace.ts',
      code: "export const requireProbe = require('vscode');",
      expect: /Only src\/extension\/ may import vscode/,
    },
    {
      name: 'a Node built-in in webview',
      file: 'webview/main.ts',
      code: "import { readFileSync } from 'node:fs'; export const fsProbe = readFileSync;",
      expect: /webview\/ is browser code: no Node built-ins/,
    },
    {
      name: 'webview importing src/collector',
      file: 'webview/main.ts',
      code: "import { startCollector } from '../src/collector/server'; export const collectorProbe = startCollector;",
      expect: /Layer table: webview\/ may import only webview\//,
    },
    {
      name: 'a package in the preload',
      file: 'src/preload/index.ts',
      code: "import 'axios';",
      expect: /src\/preload\/ runs inside the user program/,
    },
    {
      name: 'a test module using a name it only re-exports',
      file: 'test/lib/ports.mjs',
      code: "export { join } from 'node:path'; export const joinProbe = () => join('a', 'b');",
      expect: /'join' is not defined/,
    },
    {
      name: 'an ordinary ESLint error',
      file: 'src/collector/session.ts',
      code: 'const leftoverProbe = 1;',
      expect: /'leftoverProbe' is assigned a value but never used/,
    },
  ];
  let result;
  let problems;
  before(() => {
    for (const c of cases) [c.line] = append(c.file, [c.code]);
    // Allowed, so never reported: a type-only import from src/protocol into src/trace.
    append('src/trace/formats/har.ts', [
      "import type { PreloadConfig } from '../../protocol/preload'; export type TypeProbe = PreloadConfig;",
    ]);
    result = check('lint', ...new Set(cases.map((c) => c.file)));
    problems = eslintProblems(result.out);
    restore();
  });

  for (const c of cases) {
    test(`${c.name} fails lint`, () => {
      assert.equal(result.status, 1, result.out);
      const here = problems.filter((p) => p.file === c.file && p.line === c.line);
      assert.ok(
        here.some((p) => c.expect.test(p.message)),
        `${c.file}:${c.line} should report ${c.expect}\n${result.out}`,
      );
    });
  }

  test('nothing else is reported in those files: the unmodified files pass, a type-only import is allowed', () => {
    const injected = new Set(cases.map((c) => `${c.file}:${c.line}`));
    const others = problems.filter((p) => !injected.has(`${p.file}:${p.line}`));
    assert.deepEqual(others, [], result.out);
    assert.ok(problems.length >= cases.length, result.out);
  });
});

test('a type error in webview/*.ts fails the type check of its tsconfig', () => {
  const [line] = append('webview/main.ts', ["export const typeProbe: number = 'not a number';"]);
  const r = check('types', 'webview/tsconfig.json');
  restore();
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, new RegExp(`webview/main\\.ts\\(${line},\\d+\\): error TS2322`));
  // The unmodified files have no type errors: the injected one is the only one.
  assert.match(r.out, /webview\/tsconfig\.json: 1 type error\(s\)/, r.out);
});

test('the tsconfigs are found, not listed: a new one is checked, and a .ts file outside them all fails', () => {
  writeFileSync(join(copy, 'bench', 'tsconfig.probe.json'), '{ "compilerOptions": { "strict": true, "noEmit": true }, "files": [] }\n');
  let r = check('types', '--list');
  assert.equal(r.status, 0, r.out);
  for (const project of ['tsconfig.json', 'src/extension/tsconfig.json', 'webview/tsconfig.json', 'bench/tsconfig.probe.json']) {
    assert.match(r.out, new RegExp(`^  ${project.replace(/\./g, '\\.')}: \\d+ files$`, 'm'), r.out);
  }
  mkdirSync(join(copy, 'src', 'probe'));
  writeFileSync(join(copy, 'src', 'probe', 'orphan.ts'), 'export const orphan: number = 1;\n');
  r = check('types', '--list');
  rmSync(join(copy, 'src', 'probe'), { recursive: true });
  rmSync(join(copy, 'bench', 'tsconfig.probe.json'));
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /not in any tsconfig \(so never type-checked\):\n\s+src\/probe\/orphan\.ts/);
});

test('an unformatted file fails the format check', () => {
  const before = check('format', 'src/trace/contract/types.ts');
  assert.equal(before.status, 0, before.out);
  append('src/trace/contract/types.ts', ['export const  formatProbe = {a:1}']);
  const r = check('format', 'src/trace/contract/types.ts');
  restore();
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /not formatted \(run npx prettier --write on them\):\n\s+src\/trace\/contract\/types\.ts/);
});

describe('size: files over 600 lines, functions over 150 lines', () => {
  const probe = 'src/trace/sizeProbe.ts';
  const write = (text) => writeFileSync(join(copy, probe), text);
  const filler = (n) => Array.from({ length: n }, (_, i) => `export const line${i} = ${i};`).join('\n') + '\n';
  /** A function of exactly `lines` lines. */
  const fn = (lines) => `export function longProbe(): number {\n  let n = 0;\n${'  n++;\n'.repeat(lines - 4)}  return n;\n}\n`;
  after(() => rmSync(join(copy, probe), { force: true }));

  test('600 lines pass, 601 fail', () => {
    write(filler(600));
    let r = check('size', probe);
    assert.equal(r.status, 0, r.out);
    write(filler(601));
    r = check('size', probe);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /src\/trace\/sizeProbe\.ts: 601 lines \(limit 600\)/);
  });

  test('a 150-line function passes, a 151-line one fails', () => {
    write(fn(150));
    let r = check('size', probe);
    assert.equal(r.status, 0, r.out);
    write(fn(151));
    r = check('size', probe);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /src\/trace\/sizeProbe\.ts:1: function longProbe is 151 lines \(limit 150\)/);
  });

  test('the whole-tree size check (what npm test runs) reports the oversized file', () => {
    write(filler(601));
    const r = check('size');
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /src\/trace\/sizeProbe\.ts: 601 lines \(limit 600\)/);
  });
});

test('npm test runs the checks and fails when they fail', () => {
  const scripts = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')).scripts;
  assert.match(scripts.test, /node scripts\/test\.mjs/);
  // A failing stand-in for check.mjs, and no suites, so only the wiring is under test here.
  writeFileSync(join(copy, 'scripts', 'check.mjs'), "console.log('check stand-in ran'); process.exit(1);\n");
  rmSync(join(copy, 'test'), { recursive: true });
  mkdirSync(join(copy, 'test'));
  const r = spawnSync('npm', ['test'], {
    cwd: copy,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NETTRACE_SKIP_NODE_MATRIX: '1' },
  });
  const out = `${r.stdout}${r.stderr}`;
  assert.notEqual(r.status, 0, out);
  assert.match(out, /check stand-in ran/);
  assert.match(out, /test: FAILED: the static checks failed/);
});
