// covers: src/trace/formats/jsonStream.ts, src/cli/
// needs: the build (dist/core.cjs, dist/cli.cjs)
// A trace file nested 200,000 levels deep (issue 48, item 8a): valid JSON that every recursive
// reader and JSON.stringify end with "Maximum call stack size exceeded". Wherever the nesting is
// (an unknown member, a request, a warning, a record), `nettrace show`, `show --json`, `export`
// and the readers refuse the file with one clear line.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const { parseTraceFile, readTraceFile, readTraceFileAsync, emptyTrace, TraceFileError } = createRequire(import.meta.url)(
  '../../dist/core.cjs',
);
const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nettrace-deep-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const N = 200_000;
const DEEP = '['.repeat(N) + ']'.repeat(N);
const request = { traceID: 'req-1', pid: 1, client: 'http', reqMethod: 'GET', reqURL: 'http://a/' };
const text = JSON.stringify({ ...emptyTrace('t'), httpRequests: [request] });

const where = {
  'an unknown member': text.replace(/^\{"formatVersion":\d+/, (head) => `${head},"extra":${DEEP}`),
  'a request': text.replace('"httpRequests":[{', `"httpRequests":[{"extra":${DEEP},`),
  'a warning': text.replace('"warnings":[', `"warnings":[${DEEP}`),
  'a record list': text.replace('"tcpConns":[', `"tcpConns":[${DEEP}`),
};
const MESSAGE = /is not a nettrace trace: a value is nested more than \d+ levels deep \(at byte \d+\)$/;

for (const [name, content] of Object.entries(where)) {
  test(`nested 200,000 levels deep in ${name}: a clear error, not a stack overflow`, async () => {
    assert.ok(content.length > N * 2, 'the deep value is in the file');
    const file = join(dir, `${name.replace(/ /g, '-')}.json`);
    writeFileSync(file, content);
    for (const args of [
      ['show', file],
      ['show', '--json', file],
      ['export', '--otlp-file', join(dir, 'spans.jsonl'), file],
    ]) {
      const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /Maximum call stack|unexpected error/);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], MESSAGE);
      assert.equal(r.stdout, '');
    }
    assert.throws(
      () => readTraceFile(file),
      (e) => e instanceof TraceFileError && MESSAGE.test(e.message),
    );
    await assert.rejects(readTraceFileAsync(file), (e) => e instanceof TraceFileError && MESSAGE.test(e.message));
    assert.throws(
      () => parseTraceFile(content, 'F'),
      (e) => e instanceof TraceFileError && MESSAGE.test(e.message),
    );
  });
}

test('a trace nested as deep as the limit allows is read', () => {
  const ok = text.replace('"httpRequests":[{', `"httpRequests":[{"extra":${'['.repeat(200)}${']'.repeat(200)},`);
  const file = join(dir, 'fine.json');
  writeFileSync(file, ok);
  const r = spawnSync(process.execPath, [cli, 'show', '--json', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).httpRequests.length, 1);
});
