// covers: docs/architecture.md, src/
// The map in docs/architecture.md ("The map: one line per folder") against the tree: every folder
// it lists exists and holds TypeScript, and every folder of src/ that holds a .ts file is listed,
// once. Issue 50: a newcomer finds where a thing lives from the map without opening a file. And
// the "Features across rooms" table (issue 63): each file it names is in the tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The map's rows: each folder with what its row says lives there. */
function mapRows(markdown) {
  const start = markdown.indexOf('\n## The map');
  assert.ok(start >= 0, 'docs/architecture.md has a section "The map"');
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const rows = [];
  for (const line of section.split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|\s*$/.exec(line);
    if (m) {
      assert.match(m[1], /^src\/(?:[\w.-]+\/)*$/, `a map row names a folder of src/ ending in "/": ${line}`);
      assert.ok(m[2].length > 0, `the map row of ${m[1]} says what lives there`);
      rows.push({ folder: m[1], text: m[2] });
    }
  }
  return rows;
}

/** The folders the map lists, in its order: the first cell of each row of its table. */
function mapFolders(markdown) {
  return mapRows(markdown).map((r) => r.folder);
}

/** The files a row names (`timeBudget.ts`) that are not in its folder. */
function missingFiles(rows, base) {
  const missing = [];
  for (const { folder, text } of rows)
    for (const [, name] of text.matchAll(/`([\w.-]+\.ts)`/g)) if (!existsSync(join(base, folder, name))) missing.push(`${folder}${name}`);
  return missing;
}

/** Every folder under `dir` (itself included) as `src/x/`, with whether it holds a .ts file itself or below. */
function treeFolders(base, dir = 'src') {
  const out = new Map(); // 'src/x/' -> { own: boolean, below: boolean }
  const walk = (rel) => {
    let own = false;
    let below = false;
    for (const name of readdirSync(join(base, rel))) {
      const child = posix.join(rel, name);
      if (statSync(join(base, child)).isDirectory()) below = walk(child) || below;
      else if (name.endsWith('.ts')) own = true;
    }
    out.set(`${rel}/`, { own, below });
    return own || below;
  };
  walk(dir);
  return out;
}

/** What differs between the map and the tree: a list of plain sentences, empty when they agree. */
function mapDifferences(folders, tree) {
  const problems = [];
  const seen = new Set();
  for (const f of folders) {
    if (seen.has(f)) problems.push(`${f} is listed twice in the map`);
    seen.add(f);
    const t = tree.get(f);
    if (!t) problems.push(`${f} is in the map but not in the tree`);
    else if (!t.own && !t.below) problems.push(`${f} is in the map but holds no TypeScript`);
  }
  for (const [f, t] of tree) if (t.own && !seen.has(f)) problems.push(`${f} holds .ts files but is not in the map`);
  return problems.sort();
}

test("docs/architecture.md's map lists exactly the folders of src/ that hold TypeScript", () => {
  const folders = mapFolders(readFileSync(join(root, 'docs', 'architecture.md'), 'utf8'));
  assert.ok(folders.length >= 10, `the map has its rows (${folders.length})`);
  assert.deepEqual(mapDifferences(folders, treeFolders(root)), []);
});

test('the map check fails on a folder missing from the map, a listed folder that is gone, and a row twice', () => {
  const tree = treeFolders(root);
  const folders = mapFolders(readFileSync(join(root, 'docs', 'architecture.md'), 'utf8'));
  assert.ok(existsSync(join(root, 'src', 'preload', 'index.ts')));
  const withoutPreload = folders.filter((f) => f !== 'src/preload/');
  assert.deepEqual(mapDifferences(withoutPreload, tree), ['src/preload/ holds .ts files but is not in the map']);
  assert.deepEqual(mapDifferences([...folders, 'src/preload/gone/', 'src/trace/'], tree), [
    'src/preload/gone/ is in the map but not in the tree',
    'src/trace/ is listed twice in the map',
  ]);
  // A row that is not a folder of src/ is refused by the reader.
  assert.throws(() => mapFolders('x\n## The map\n\n| `src/preload/index.ts` | the entry |\n'), /names a folder of src/);
});

test('each file a row of the map names is in its folder (the time budget in src/trace/derive/ among them)', () => {
  const rows = mapRows(readFileSync(join(root, 'docs', 'architecture.md'), 'utf8'));
  const derive = rows.find((r) => r.folder === 'src/trace/derive/');
  assert.match(derive.text, /`timeBudget\.ts`/, "the derive row names the module that owns a request's time budget");
  assert.deepEqual(missingFiles(rows, root), []);
  assert.deepEqual(missingFiles([{ folder: 'src/trace/derive/', text: 'the budget (`timeBudget.ts`), `gone.ts`' }], root), [
    'src/trace/derive/gone.ts',
  ]);
});

/** The files and folders the "Features across rooms" table names that are not in the tree (a bare name: anywhere in src/ or webview/). */
function missingFeatureFiles(markdown, base) {
  const start = markdown.indexOf('\n## Features across rooms');
  assert.ok(start >= 0, 'docs/architecture.md has a section "Features across rooms"');
  const section = markdown.slice(start, markdown.indexOf('\n## ', start + 1));
  const names = new Set();
  const walk = (rel) => {
    for (const name of readdirSync(join(base, rel))) {
      if (statSync(join(base, rel, name)).isDirectory()) walk(posix.join(rel, name));
      else names.add(name);
    }
  };
  walk('src');
  walk('webview');
  const missing = [];
  for (const [, p] of section.matchAll(/`((?:src|webview)\/[\w./-]*|[\w.-]+\.ts)`/g)) {
    if (p.includes('/') ? !existsSync(join(base, p)) : !names.has(p)) missing.push(p);
  }
  return missing;
}

test('each file the "Features across rooms" table names is in the tree', () => {
  const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  assert.deepEqual(missingFeatureFiles(doc, root), []);
  assert.deepEqual(
    missingFeatureFiles('\n## Features across rooms\n| x | `src/trace/gone.ts` → `gone.ts` → `src/trace/enrich.ts` |\n', root),
    ['src/trace/gone.ts', 'gone.ts'],
  );
});
