// `npm run check`: the static checks `npm test` runs before the tests.
//   types   tsc --noEmit for every tsconfig*.json in the repository (found, not listed), and every
//           .ts file under src/ and webview/ belongs to one of them
//   lint    ESLint over the repository (eslint.config.mjs: recommended rules + the layer table)
//   format  prettier --check (.prettierrc.json, .prettierignore)
//   size    no file in src/ or webview/ over 600 lines, no function over 150 lines (a function
//           counts from its first token to its closing brace, nested functions included)
// Usage: node scripts/check.mjs [step...]        all steps, or the named ones
//        node scripts/check.mjs <step> <path...>  one step on some paths (tsconfigs for `types`)
//        node scripts/check.mjs types --list     the tsconfigs found and the coverage, no checking
// Exits 1 when any step fails; each failure names the file and the problem.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/** The size limits of the issue "House in order": a file or function beyond them is split. */
const MAX_FILE_LINES = 600;
const MAX_FUNCTION_LINES = 150;
/** Folders whose files the size rule measures. */
const SIZE_ROOTS = ['src', 'webview'];
const SIZE_EXTENSIONS = /\.(ts|tsx|mts|cts|js|mjs|cjs|css|html)$/;
/** Never searched for tsconfigs or measured: installs, outputs, VCS data. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'test-results', '.cache', '.vscode-test']);

const rel = (p) => relative(root, p).split(sep).join('/');

/** Every file under `dir` (skipping SKIP_DIRS) whose name matches `pattern`. */
function walk(dir, pattern, out = []) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(path, pattern, out);
    } else if (e.isFile() && pattern.test(e.name)) {
      out.push(path);
    }
  }
  return out.sort();
}

/** The repository's tsconfig*.json files, found by walking it. */
function findTsconfigs() {
  return walk(root, /^tsconfig.*\.json$/);
}

/**
 * The projects to type-check and the TypeScript files under src/ and webview/ that none of them
 * includes (a new folder left out of the root tsconfig would otherwise never be checked).
 */
function projects(ts) {
  const configs = [];
  const problems = [];
  const covered = new Set();
  for (const project of findTsconfigs()) {
    const read = ts.readConfigFile(project, ts.sys.readFile);
    if (read.error) {
      problems.push(ts.formatDiagnostics([read.error], formatHost));
      continue;
    }
    const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(project), undefined, project);
    for (const f of parsed.fileNames) covered.add(resolve(f));
    configs.push({ project, parsed });
  }
  const orphans = SIZE_ROOTS.flatMap((d) => walk(join(root, d), /\.(ts|tsx|mts|cts)$/)).filter((f) => !covered.has(f));
  if (orphans.length) problems.push(`not in any tsconfig (so never type-checked):\n${orphans.map((f) => `  ${rel(f)}`).join('\n')}`);
  return { configs, problems };
}

const formatHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };

/**
 * tsc --noEmit for each project, through the compiler API (one Node process for all of them).
 * With paths: those tsconfigs only; with `--list`: the projects found and the coverage, no checking.
 */
function checkTypes(paths, notes, flags) {
  const ts = require('typescript');
  const found = projects(ts);
  let { configs } = found;
  const problems = paths.length ? [] : found.problems;
  if (flags.includes('--list')) {
    notes.push(...configs.map(({ project, parsed }) => `${rel(project)}: ${parsed.fileNames.length} files`));
    return problems;
  }
  if (paths.length) {
    const wanted = new Set(paths.map((p) => resolve(p)));
    configs = configs.filter(({ project }) => wanted.delete(project));
    for (const missing of wanted) problems.push(`${rel(missing)}: not a tsconfig*.json of this repository`);
  }
  for (const { project, parsed } of configs) {
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, noEmit: true } });
    const diagnostics = [...parsed.errors, ...ts.getPreEmitDiagnostics(program)];
    if (diagnostics.length) {
      problems.push(`${rel(project)}: ${diagnostics.length} type error(s)\n${ts.formatDiagnostics(diagnostics, formatHost)}`);
    } else {
      notes.push(`${rel(project)}: ${parsed.fileNames.length} files, no type errors`);
    }
  }
  return problems;
}

/** Lines as an editor numbers them: a final newline does not start another line. */
function lineCount(text) {
  if (text === '') return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

/** A readable name for a function node: its own name, or the variable/property it is assigned to. */
function functionName(ts, node, source) {
  if (node.name) return node.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name) {
    return p.name.getText(source);
  }
  if (p && ts.isBinaryExpression(p)) return p.left.getText(source);
  return '<anonymous>';
}

/** The size rule: files over MAX_FILE_LINES, functions over MAX_FUNCTION_LINES. */
function checkSize(paths, notes) {
  const ts = require('typescript');
  const files = paths.length
    ? paths.map((p) => resolve(p))
    : SIZE_ROOTS.flatMap((d) => walk(join(root, d), SIZE_EXTENSIONS)).filter((f) => !f.endsWith('.d.ts'));
  const problems = [];
  let functions = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const lines = lineCount(text);
    if (lines > MAX_FILE_LINES) problems.push(`${rel(file)}: ${lines} lines (limit ${MAX_FILE_LINES})`);
    if (!/\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(file)) continue;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        functions++;
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const length = end - start + 1;
        if (length > MAX_FUNCTION_LINES) {
          problems.push(
            `${rel(file)}:${start + 1}: function ${functionName(ts, node, source)} is ${length} lines (limit ${MAX_FUNCTION_LINES})`,
          );
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  notes.push(`${files.length} file(s), ${functions} functions measured`);
  return problems;
}

/** The path of a package's command-line script (its package.json `bin`), which `exports` may hide. */
function binPath(pkg) {
  const dir = join(root, 'node_modules', pkg);
  const { bin } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return join(dir, typeof bin === 'string' ? bin : bin[pkg]);
}

/** The environment without colour: the output is parsed, and shown inside our own. */
function plainEnv() {
  const env = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  return env;
}

/** Runs a Node CLI from node_modules with its output captured; resolves with [status, output]. */
function runTool(pkg, args) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [binPath(pkg), ...args], { cwd: root, env: plainEnv() });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (err) => done([1, String(err)]));
    // Strip ANSI colour codes, in case a tool forces colour anyway.
    child.on('close', (code) => done([code, out.replace(/\x1b\[[0-9;]*m/g, '')]));
  });
}

async function checkLint(paths) {
  const [code, out] = await runTool('eslint', ['--max-warnings', '0', ...(paths.length ? paths : ['.'])]);
  if (code === 0) return [];
  return [`ESLint found problems (the layer table and its reasons are in eslint.config.mjs):\n${out.trim()}`];
}

async function checkFormat(paths) {
  const [code, out] = await runTool('prettier', ['--check', ...(paths.length ? paths : ['.'])]);
  if (code === 0) return [];
  const files = [...out.matchAll(/^\[warn\] (.+)$/gm)].map((m) => m[1]).filter((f) => !/^Code style issues/.test(f));
  if (!files.length) return [`prettier --check failed:\n${out.trim()}`];
  return [`not formatted (run npx prettier --write on them):\n${files.map((f) => `  ${f}`).join('\n')}`];
}

const STEPS = { types: checkTypes, lint: checkLint, format: checkFormat, size: checkSize };

async function main(argv) {
  const steps = argv.filter((a) => a in STEPS);
  const paths = argv.filter((a) => !(a in STEPS) && !a.startsWith('--'));
  const flags = argv.filter((a) => a.startsWith('--'));
  if (paths.length && steps.length !== 1) {
    console.error('check: paths need exactly one step, e.g. `node scripts/check.mjs lint src/trace`');
    return 2;
  }
  const chosen = steps.length ? steps : Object.keys(STEPS);
  const started = Date.now();
  // ESLint and Prettier start first, as child processes, and run beside the in-process (blocking)
  // type and size checks.
  const order = [...chosen].sort((a, b) => Number(a === 'types' || a === 'size') - Number(b === 'types' || b === 'size'));
  const results = new Map();
  for (const name of order) {
    const notes = [];
    results.set(
      name,
      Promise.resolve(STEPS[name](paths, notes, flags)).then((problems) => ({ problems, notes })),
    );
  }
  const failed = [];
  for (const name of chosen) {
    const { problems, notes } = await results.get(name);
    console.log(problems.length ? `check ${name}: FAILED` : `check ${name}: ok`);
    for (const line of [...notes, ...problems]) console.log(line.replace(/^/gm, '  ').trimEnd());
    if (problems.length) failed.push(name);
  }
  const total = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  if (failed.length) {
    console.log(`check: FAILED: ${failed.join(', ')} (${total})`);
    return 1;
  }
  console.log(`check: all passed: ${chosen.join(', ')} (${total})`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
