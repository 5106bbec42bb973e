// covers: src/, webview/, eslint.config.mjs
// The layers of src/ and webview/: which folder may import which (the layer table: ROOMS in
// eslint.config.mjs, the one place it is written down), no import cycle between files, and
// packages only where they can run (vscode in the extension alone; the preload bundles nothing but
// dns-packet; the webview and the protocol none). Imports are read with the TypeScript parser, so
// type-only imports, multi-line imports, `import x = require(...)`, `require(...)`, `import(...)`
// and `typeof import(...)` all count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ROOMS } from '../../eslint.config.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The layer table, lowest first, derived from the one in eslint.config.mjs (ROOMS). A file belongs
 * to the room with the longest matching path. `mayImport`: the other rooms its files may import
 * from; `room:type` allows type-only imports alone, `room:pure` only the files that (transitively)
 * use no Node built-in and no package (they run in the browser too). `builtins`: Node built-ins
 * allowed; `packages`: npm packages allowed ('*': any but vscode).
 */
const PACKAGES = { none: [], builtins: [], browser: [], preload: ['dns-packet'], any: '*', vscode: ['*', 'vscode'] };
const LAYERS = Object.entries(ROOMS).map(([room, r]) => ({
  room,
  paths: r.files.map((f) => f.replace(/\*\*$/, '')),
  mayImport: [...r.values.map((v) => ((r.browserSafe ?? []).includes(v) ? `${v}:pure` : v)), ...r.types.map((t) => `${t}:type`)],
  builtins: !['none', 'browser'].includes(r.packages),
  packages: PACKAGES[r.packages],
}));

/** Source files under the given folders (TypeScript; declaration files included). */
function sourceFiles(dirs) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(join(root, dir))) {
      const rel = posix.join(dir, name);
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (rel.endsWith('.ts')) out.push(rel);
    }
  };
  for (const d of dirs) walk(d);
  return out.sort();
}

/** Every import of one file: { spec, typeOnly }. */
function importsOf(file, text) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out = [];
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      let typeOnly = clause?.isTypeOnly === true;
      if (clause && !typeOnly && !clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings)) {
        const els = clause.namedBindings.elements;
        typeOnly = els.length > 0 && els.every((e) => e.isTypeOnly);
      }
      out.push({ spec: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      let typeOnly = node.isTypeOnly;
      if (!typeOnly && node.exportClause && ts.isNamedExports(node.exportClause)) {
        const els = node.exportClause.elements;
        typeOnly = els.length > 0 && els.every((e) => e.isTypeOnly);
      }
      out.push({ spec: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) out.push({ spec: e.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) {
        out.push({ spec: node.arguments[0].text, typeOnly: false });
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push({ spec: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/**
 * The repository path a relative import names (a .ts file, a folder's index.ts, or an asset such
 * as the webview's stylesheet): one of the scanned `files`, else a file on disk.
 */
function resolve(files, from, spec) {
  const base = posix.normalize(posix.join(posix.dirname(from), spec));
  const candidates = [`${base}.ts`, `${base}.d.ts`, posix.join(base, 'index.ts'), base];
  return (
    candidates.find((c) => files[c] !== undefined) ?? candidates.find((c) => existsSync(join(root, c)) && statSync(join(root, c)).isFile())
  );
}

const isBuiltin = (spec) => spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]);
const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** The room of a repository path (longest matching path of the table), or undefined. */
function roomOf(layers, path) {
  let best;
  let bestLen = -1;
  for (const l of layers) {
    for (const p of l.paths) {
      const hit = p.endsWith('/') ? path.startsWith(p) : path === p;
      if (hit && p.length > bestLen) {
        best = l;
        bestLen = p.length;
      }
    }
  }
  return best;
}

/**
 * Reads the import graph of `files` ({ path: text }) and checks it against `layers`. Returns
 * { violations: string[], cycles: string[][] }.
 */
function checkLayers(layers, files) {
  const violations = [];
  const edges = new Map(); // file → [{ to, typeOnly }]
  const bare = new Map(); // file → [spec]
  for (const [file, text] of Object.entries(files)) {
    const list = [];
    const pkgs = [];
    for (const { spec, typeOnly } of importsOf(file, text)) {
      if (spec.startsWith('.')) {
        const to = resolve(files, file, spec);
        if (!to) violations.push(`${file}: cannot resolve '${spec}'`);
        else list.push({ to, typeOnly, spec });
      } else pkgs.push(spec);
    }
    edges.set(file, list);
    bare.set(file, pkgs);
  }

  // Trace files usable in the browser: no built-in, no package, and only such files imported.
  const pureMemo = new Map();
  const pure = (file, seen = new Set()) => {
    if (pureMemo.has(file)) return pureMemo.get(file);
    if (seen.has(file)) return true;
    seen.add(file);
    const ok = (bare.get(file) ?? []).length === 0 && (edges.get(file) ?? []).every((e) => e.typeOnly || pure(e.to, seen));
    pureMemo.set(file, ok);
    return ok;
  };

  for (const [file, list] of edges) {
    const from = roomOf(layers, file);
    if (!from) {
      violations.push(`${file}: in no room of the layer table`);
      continue;
    }
    for (const { to, typeOnly, spec } of list) {
      const target = roomOf(layers, to);
      if (!target) {
        violations.push(`${file}: imports '${spec}', which is in no room of the layer table`);
        continue;
      }
      if (target === from) continue;
      const allowed = from.mayImport.some((entry) => {
        const [room, how] = entry.split(':');
        if (room !== target.room) return false;
        if (how === 'type') return typeOnly;
        if (how === 'pure') return typeOnly || pure(to);
        return true;
      });
      if (!allowed) {
        violations.push(`${file}: ${from.room} may not import ${typeOnly ? 'types from ' : ''}${to} (${target.room})`);
      }
    }
    for (const spec of bare.get(file) ?? []) {
      const name = packageName(spec);
      const ok = isBuiltin(spec)
        ? from.builtins
        : from.packages === '*'
          ? name !== 'vscode'
          : from.packages.includes(name) || (from.packages.includes('*') && name !== 'vscode');
      if (!ok) violations.push(`${file}: ${from.room} may not import '${spec}'`);
    }
  }

  // Cycles between files, type-only imports included (Tarjan's strongly connected components).
  const cycles = [];
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  let n = 0;
  const strong = (v) => {
    index.set(v, n);
    low.set(v, n);
    n++;
    stack.push(v);
    onStack.add(v);
    for (const { to } of edges.get(v) ?? []) {
      if (!edges.has(to)) continue;
      if (!index.has(to)) {
        strong(to);
        low.set(v, Math.min(low.get(v), low.get(to)));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v), index.get(to)));
    }
    if (low.get(v) === index.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      const selfLoop = (edges.get(v) ?? []).some((e) => e.to === v);
      if (comp.length > 1 || selfLoop) cycles.push(comp.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) strong(v);
  return { violations, cycles };
}

const files = Object.fromEntries(sourceFiles(['src', 'webview']).map((f) => [f, readFileSync(join(root, f), 'utf8')]));

test('the layer table itself: known rooms, lowest first (a room imports only rooms listed before it)', () => {
  const names = LAYERS.map((l) => l.room);
  LAYERS.forEach((l, i) => {
    for (const entry of l.mayImport) {
      const room = entry.split(':')[0];
      assert.ok(names.includes(room), `${l.room}: unknown room ${room}`);
      assert.ok(names.indexOf(room) < i, `${l.room} may import ${room}, which is not below it`);
    }
  });
});

test('every import in src/ and webview/ follows the layer table', () => {
  assert.ok(Object.keys(files).length > 50, 'the scan found the sources');
  const { violations } = checkLayers(LAYERS, files);
  assert.deepEqual(violations, []);
});

test('no import cycle between files of src/ and webview/ (type-only imports included)', () => {
  const { cycles } = checkLayers(LAYERS, files);
  assert.deepEqual(cycles, []);
});

test('the checker sees what it must: a wrong-way import, a value import where types are allowed, a cycle, vscode outside the extension', () => {
  const fake = {
    'src/trace/a.ts': "import { x } from '../collector/b';\nimport { CONFIG_ENV } from '../protocol/p';\nexport const a = 1;",
    'src/collector/b.ts': "import { a } from '../trace/a';\nexport const x = a;",
    'src/protocol/p.ts': "export const CONFIG_ENV = 'X';",
    'src/cli/c.ts': "import * as vscode from 'vscode';\nimport type {\n  Y,\n} from '../extension/e';",
    'src/extension/e.ts': 'export type Y = number;',
    'webview/w.ts': "import { t } from '../src/trace/t';",
    'src/trace/t.ts': "import { readFileSync } from 'node:fs';\nexport const t = readFileSync;",
  };
  const { violations, cycles } = checkLayers(LAYERS, fake);
  assert.deepEqual(violations.sort(), [
    "src/cli/c.ts: cli may not import 'vscode'",
    'src/cli/c.ts: cli may not import types from src/extension/e.ts (extension)',
    'src/trace/a.ts: trace may not import src/collector/b.ts (collector)',
    'src/trace/a.ts: trace may not import src/protocol/p.ts (protocol)',
    'webview/w.ts: webview may not import src/trace/t.ts (trace)',
  ]);
  assert.deepEqual(cycles, [['src/collector/b.ts', 'src/trace/a.ts']]);
});
