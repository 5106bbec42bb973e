// covers: bench/
// bench/ holds the benchmarks that guard a floor, each named in bench/RESULTS.md's floors table, and
// RESULTS.md stays a page a newcomer reads (≤ 300 lines; history lives in git). Tools that guard no
// floor live in bench/tools/, one line each in its README.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bench = join(root, 'bench');
const results = readFileSync(join(bench, 'RESULTS.md'), 'utf8');

/** The rows of the Markdown table under `## <heading>` (header and separator left out). */
function tableRows(text, heading) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  assert.ok(start >= 0, `bench/RESULTS.md has a "## ${heading}" section`);
  const rows = [];
  for (const l of lines.slice(start + 1)) {
    if (/^## /.test(l)) break;
    if (l.startsWith('|')) rows.push(l);
  }
  return rows.slice(2);
}

/** The bench/…/*.mjs paths a piece of text names. */
const scriptsIn = (text) => [...text.matchAll(/\bbench\/[\w./-]+?\.mjs\b/g)].map((m) => m[0]);

test('bench/RESULTS.md is at most 300 lines', () => {
  const lines = results.replace(/\n$/, '').split('\n').length;
  assert.ok(lines <= 300, `bench/RESULTS.md has ${lines} lines (history lives in git)`);
});

test('every floor in the table names the benchmark that measures it, and that script exists', () => {
  const rows = tableRows(results, 'Where each floor stands');
  assert.ok(rows.length >= 10, `${rows.length} floors`);
  for (const row of rows) {
    const cells = row.split(' | ');
    const named = scriptsIn(cells[cells.length - 1]);
    assert.ok(named.length > 0, `the row names its benchmark: ${row.slice(0, 100)}`);
    for (const s of named) assert.ok(existsSync(join(root, s)), `${s} (named in the floors table) exists`);
  }
});

test('every script bench/RESULTS.md names exists, and every benchmark in bench/ guards a floor of the table', () => {
  for (const s of new Set(scriptsIn(results.split('## Investigations removed')[0]))) {
    assert.ok(existsSync(join(root, s)), `${s} (named in bench/RESULTS.md) exists`);
  }
  const inTable = new Set(tableRows(results, 'Where each floor stands').flatMap(scriptsIn));
  for (const f of readdirSync(bench).filter((n) => n.endsWith('.mjs'))) {
    assert.ok(inTable.has(`bench/${f}`), `bench/${f} is named in the floors table (a tool goes to bench/tools/)`);
  }
  const howTo = new Set(tableRows(results, 'How to run each benchmark').flatMap(scriptsIn));
  for (const s of inTable) if (!s.startsWith('bench/tools/')) assert.ok(howTo.has(s), `${s} has a line in "How to run each benchmark"`);
});

test('every tool in bench/tools/ has a line in its README', () => {
  const readme = readFileSync(join(bench, 'tools', 'README.md'), 'utf8');
  for (const f of readdirSync(join(bench, 'tools')).filter((n) => n.endsWith('.mjs'))) {
    assert.match(readme, new RegExp(`^- \`${f.replace(/\./g, '\\.')}\`: `, 'm'), `bench/tools/${f} in bench/tools/README.md`);
  }
});

test("package.json's bench scripts run files that exist, and every benchmark and tool parses", () => {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const [name, cmd] of Object.entries(scripts)) {
    for (const s of scriptsIn(cmd)) assert.ok(existsSync(join(root, s)), `npm run ${name}: ${s} exists`);
  }
  const files = ['', 'tools', 'lib', 'apps'].flatMap((d) =>
    readdirSync(join(bench, d))
      .filter((n) => /\.(mjs|cjs)$/.test(n))
      .map((n) => join(bench, d, n)),
  );
  for (const f of files) {
    const r = spawnSync(process.execPath, ['--check', f], { encoding: 'utf8' });
    assert.equal(r.status, 0, `node --check ${f}: ${r.stderr}`);
  }
});
