// covers: test/, src/, webview/
// Each test file says what it covers (issue 63): it opens with `// covers: ` and the paths it
// tests (files, or folders ending in "/"; a list that ends in a comma goes on on the next line), each
// of which exists; every folder of src/ and webview/ that holds TypeScript of its own is covered by
// some test (the folder or a file in it is listed); and a test that reads the build (dist/) says
// so on the next line, `// needs: the build (dist/…)` (npm test builds first), and no other does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Files under `dir` (repository paths) whose name passes `keep`. */
function filesUnder(dir, keep) {
  const out = [];
  const walk = (rel) => {
    for (const name of readdirSync(join(root, rel))) {
      const child = posix.join(rel, name);
      if (statSync(join(root, child)).isDirectory()) {
        if (name !== 'node_modules' && name !== 'fixtures' && name !== 'apps') walk(child);
      } else if (keep(name)) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

/** A test reads the build when it names a bundle of dist/ (or the folder, joined to a bundle). */
const READS_BUILD =
  /\.\.\/dist\/|'dist',\s*'[\w.-]+\.c?js'|join\(\w+, 'dist'\)|\bdist\/(?:core|cli|preload|preload-body|rules|extension|helper|helper-api|otlp-wire)\.cjs|\bdist\/webview\.(?:js|css)/;

/** What a test file's first lines say: { covers: string[], needs: boolean, body: the rest }, or a problem. */
function headerOf(text) {
  const lines = text.split('\n');
  if (!lines[0].startsWith('// covers: ')) return { problem: 'does not open with "// covers: "' };
  let list = lines[0].slice('// covers: '.length);
  let i = 1;
  while (list.trimEnd().endsWith(',') && lines[i]?.startsWith('//   ')) list += ' ' + lines[i++].slice(2).trim();
  const covers = list
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const needs = /^\/\/ needs: the build\b/.test(lines[i] ?? '');
  return { covers, needs, body: lines.slice(needs ? i + 1 : i).join('\n') };
}

/** The problems of a set of test files ({ path: text }) against the tree: a list of sentences, empty when none. */
function coverProblems(tests, folders) {
  const problems = [];
  const covered = new Set();
  for (const [file, text] of Object.entries(tests)) {
    const h = headerOf(text);
    if (h.problem) {
      problems.push(`${file} ${h.problem}`);
      continue;
    }
    if (h.covers.length === 0) problems.push(`${file} lists nothing it covers`);
    for (const p of h.covers) {
      if (!existsSync(join(root, p)) || p.endsWith('/') !== statSync(join(root, p)).isDirectory())
        problems.push(`${file}: ${p} is not in the tree`);
      covered.add(p.endsWith('/') ? p : posix.dirname(p) + '/');
    }
    const reads = READS_BUILD.test(h.body);
    if (reads && !h.needs) problems.push(`${file} reads dist/ without "// needs: the build" after its covers line`);
    if (!reads && h.needs) problems.push(`${file} says it needs the build but reads nothing of dist/`);
  }
  for (const f of folders) if (!covered.has(f)) problems.push(`${f} is covered by no test`);
  return problems.sort();
}

/** Every folder of src/ and webview/ that holds a .ts file of its own, as `src/x/`. */
function sourceFolders() {
  const ts = [...filesUnder('src', (n) => n.endsWith('.ts')), ...filesUnder('webview', (n) => n.endsWith('.ts'))];
  return [...new Set(ts.map((f) => posix.dirname(f) + '/'))].sort();
}

function testFiles() {
  const files = filesUnder('test', (n) => /\.test\.(mjs|cjs|js)$/.test(n));
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(root, f), 'utf8')]));
}

test('every test file lists what it covers, every listed path exists, every folder of src/ and webview/ is covered', () => {
  const tests = testFiles();
  assert.ok(Object.keys(tests).length > 200, `the test files are found (${Object.keys(tests).length})`);
  assert.deepEqual(coverProblems(tests, sourceFolders()), []);
});

test('the check fails on a missing covers line, a path not in the tree, an uncovered folder and an unsaid build', () => {
  const tests = {
    'test/unit/a.test.mjs': "// A test without its covers line.\nimport 'node:test';\n",
    'test/unit/b.test.mjs': '// covers: src/trace/enrich.ts, src/trace/gone.ts,\n//   src/trace/derive/\n// B.\n',
    // (The bundles' paths are cut in two here: this file reads nothing of the build.)
    'test/unit/c.test.mjs': "// covers: src/cli/\n// C.\nrequire('../../di" + "st/core.cjs');\n",
    'test/unit/d.test.mjs': '// covers: src/cli/\n// needs: the build (di' + 'st/cli.cjs)\n// D reads nothing built.\n',
  };
  assert.deepEqual(coverProblems(tests, ['src/cli/', 'src/trace/', 'src/trace/derive/', 'src/otlp/']), [
    'src/otlp/ is covered by no test',
    'test/unit/a.test.mjs does not open with "// covers: "',
    'test/unit/b.test.mjs: src/trace/gone.ts is not in the tree',
    'test/unit/c.test.mjs reads dist/ without "// needs: the build" after its covers line',
    'test/unit/d.test.mjs says it needs the build but reads nothing of dist/',
  ]);
});
