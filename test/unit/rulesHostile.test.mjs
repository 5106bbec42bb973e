// covers: src/cli/rulesCommand.ts, src/rules/
// needs: the build (dist/cli.cjs)
// A hostile rules file (issue 48, item 4): ids, tags and conditions holding an OSC 52 clipboard
// write, ESC[2J, a C1 CSI and a U+202E override, through every `nettrace rules` subcommand and
// `nettrace run --rules` / `--rule`: no ESC, C1, other control or bidirectional character reaches
// stdout or stderr (they are shown as `?`, as `nettrace show` shows them), and the rules are still
// named.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli.cjs');
const nettrace = (args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60000 });

const OSC52 = '\x1b]52;c;ZXZpbA==\x07';
const CLEAR = '\x1b[2J';
const C1_CSI = '\x9b2J';
const RLO = '\u202e';
const EVIL = `${OSC52}${CLEAR}${C1_CSI}${RLO}`;
// Everything a terminal acts on, but the line break and the tab.
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const dir = mkdtempSync(join(tmpdir(), 'nettrace-rules-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name, content) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

const valid = file('valid.json', {
  defaultAction: 'trace',
  rules: [
    { id: `mark-${EVIL}`, action: 'mark', tag: `tag-${EVIL}`, condition: `host == "x${EVIL}.example"`, enabled: true },
    { id: `skip-${EVIL}`, action: 'skip', condition: `path == "/${EVIL}"`, enabled: true },
    { id: `off-${EVIL}`, action: 'skip', condition: 'true', enabled: false },
  ],
});
const invalid = file('invalid.json', [
  { id: `bad-${EVIL}`, action: 'skip', condition: `host == "${EVIL}" &&& ${EVIL}`, enabled: true },
  { id: `dup-${EVIL}`, action: 'skip', condition: 'true', enabled: true },
  { id: `dup-${EVIL}`, action: `act-${EVIL}`, condition: 'true', enabled: true },
]);
const notJson = file('not.json', `[{"id": "${EVIL}" ${EVIL}`);

/** Checks both streams of a CLI run: nothing a terminal would act on, and `name` shown. */
function inert(res, name, what) {
  assert.equal(res.error, undefined, what);
  for (const [stream, text] of [
    ['stdout', res.stdout],
    ['stderr', res.stderr],
  ]) {
    const m = UNSAFE.exec(text);
    assert.equal(m, null, `${what}: ${stream} holds U+${m?.[0].codePointAt(0).toString(16).padStart(4, '0')}: ${JSON.stringify(text)}`);
  }
  if (name) assert.ok((res.stdout + res.stderr).includes(name), `${what}: names ${name}: ${res.stdout}${res.stderr}`);
}

test('nettrace rules check: a valid hostile file, an invalid one, one that is not JSON', () => {
  const ok = nettrace(['rules', 'check', valid]);
  assert.equal(ok.status, 0, ok.stderr);
  inert(ok, 'off-', 'check (valid)');
  const bad = nettrace(['rules', 'check', invalid]);
  assert.equal(bad.status, 1, bad.stderr);
  inert(bad, 'dup-', 'check (invalid)');
  assert.match(bad.stdout, /column \d+/);
  const broken = nettrace(['rules', 'check', notJson]);
  assert.equal(broken.status, 2);
  inert(broken, 'is not valid JSON', 'check (not JSON)');
});

test('nettrace rules explain: with and without --request, and of an invalid file', () => {
  const plain = nettrace(['rules', 'explain', valid]);
  assert.equal(plain.status, 0, plain.stderr);
  inert(plain, 'mark-', 'explain');
  assert.match(plain.stdout, /host == "x\\x1b\]52;c;ZXZpbA==\\x07/, 'the condition is shown, made inert (escaped)');
  const req = nettrace(['rules', 'explain', valid, '--request', `GET https://x.example/${EVIL}`]);
  assert.equal(req.status, 0, req.stderr);
  inert(req, 'as it starts', 'explain --request');
  const bad = nettrace(['rules', 'explain', invalid]);
  assert.equal(bad.status, 1);
  inert(bad, 'bad-', 'explain (invalid)');
});

test('nettrace run --rules and --rule: the summary and the errors', () => {
  const out = join(dir, 'trace.json');
  const program = [process.execPath, '-e', 'setTimeout(() => {}, 10)'];
  const ran = nettrace(['run', '--helper', 'off', '--out', out, '--rules', valid, '--', ...program]);
  assert.equal(ran.status, 0, ran.stderr);
  inert(ran, 'mark-', 'run --rules (the rules summary)');
  const bad = nettrace(['run', '--helper', 'off', '--out', out, '--rules', invalid, '--', ...program]);
  assert.equal(bad.status, 2);
  inert(bad, 'dup-', 'run --rules (invalid)');
  const flag = nettrace(['run', '--helper', 'off', '--out', out, '--rule', `x${EVIL}: skip host == "${EVIL}" &&&`, '--', ...program]);
  assert.equal(flag.status, 2);
  inert(flag, '--rule', 'run --rule (invalid)');
  const broken = nettrace(['run', '--helper', 'off', '--out', out, '--rules', notJson, '--', ...program]);
  assert.equal(broken.status, 2);
  inert(broken, 'is not valid JSON', 'run --rules (not JSON)');
});
