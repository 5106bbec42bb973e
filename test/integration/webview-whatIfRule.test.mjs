// covers: src/rules/whatIfFromRequest.ts
// needs: the build (dist/core.cjs)
// A what-if rule is named in the trace as the Rules view names it (issue 62, finding 7): the record
// of a request a rule acted on carries the rule's name (`whatIf.name`, added by the collector from
// the session's rules) beside its id, and the diagnosis and the HAR's comment say that name; a rule
// given no name (its name is its id) is named by its id, with no `name`. A real program
// (apps/whatif.cjs, node:http) traced by `nettrace run --rules FILE` against a real server. Then
// the panel (headless Chromium through the stub host; skipped without /usr/bin/chromium) shows
// each of those traces' what-if request with the rule named once, by its name: one line with what
// it did and what the program saw, no second diagnosis; screenshots in test-results/webview/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { root, runTraced } from './harness.mjs';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const why = browserUnavailable();
const results = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'webview');

/** The two traces, for the panel: the named rule's and the unnamed one's. */
const shown = {};

let server;
let port;
let served = 0;
const dir = mkdtempSync(join(tmpdir(), 'nettrace-rulename-'));
before(async () => {
  server = createServer((req, res) => {
    served++;
    res.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs apps/whatif.cjs on `path` with the rules of `rules` (a rules file); returns the run, its trace and the one request. */
async function traced(path, rules) {
  const file = join(dir, `rules-${path.replace(/\W/g, '')}.json`);
  writeFileSync(file, JSON.stringify(rules));
  const run = await runTraced(process.execPath, 'whatif.cjs', {
    env: { NT_CLIENT: 'http', NT_URL: `http://127.0.0.1:${port}${path}` },
    cliArgs: ['--rules', file],
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.trace.httpRequests.length, 1);
  return { run, trace: run.trace, req: run.trace.httpRequests[0] };
}

test('a rule with a name: the record, the diagnosis and the HAR name it by its name, its id kept', async () => {
  // As the panel's row menu makes it (src/rules/whatIfFromRequest.ts): a generated id, a title.
  const id = `fail-get-127.0.0.1-${port}-api-pay`;
  const name = `Fail GET 127.0.0.1:${port}/api/pay (an HTTP status)`;
  const before = served;
  const { run, trace, req } = await traced('/api/pay', [
    { id, name, condition: 'path == "/api/pay"', action: 'fail', fail: { kind: 'status', status: 503 }, enabled: true },
  ]);
  assert.equal(served, before, 'the server was not asked');
  assert.equal(JSON.parse(run.stdout.trim().split('\n').pop()).status, 503, 'the program got the 503');
  assert.deepEqual(req.whatIf, { rule: id, name, action: 'fail', kind: 'status', status: 503 });
  assert.equal(trace.traceRules.rules.find((r) => r.id === id)?.name, name, 'the name the Rules view shows');
  const t = core.enrichTrace(trace).httpRequests[0];
  assert.match(
    t.diagnosis,
    new RegExp(`^What if: rule ${JSON.stringify(name).replace(/[.()]/g, '\\$&')} answered 503 in the server's place`),
  );
  assert.ok(!t.diagnosis.includes(id), `the id is not in the sentence: ${t.diagnosis}`);
  const entry = core.toHar(trace).log.entries[0];
  assert.ok(entry.comment.startsWith(`What if: rule ${JSON.stringify(name)} `), entry.comment);
  assert.equal(entry._whatIf.rule, id);
  shown.named = { trace, id, name };
});

test('a rule given no name is named by its id, and the record has no name', async () => {
  const { req, trace } = await traced('/api/ship', [
    { id: 'down', condition: 'path == "/api/ship"', action: 'fail', fail: { kind: 'refused' }, enabled: true },
  ]);
  assert.deepEqual(req.whatIf, { rule: 'down', action: 'fail', kind: 'refused' });
  assert.match(core.enrichTrace(trace).httpRequests[0].diagnosis, /^What if: rule "down" made this request fail \(connection refused\)/);
  shown.unnamed = { trace, id: 'down', name: 'down' };
});

/** Waits (up to 10 s) until the first row's label names the rule `name`; the caller's assertion says what it shows otherwise. */
async function rowSays(page, name) {
  await page
    .waitForFunction(
      (n) =>
        document
          .querySelector('.list-rows .row')
          ?.getAttribute('aria-label')
          ?.includes(`rule ${JSON.stringify(n)}`),
      name,
      { timeout: 10_000 },
    )
    .catch(() => {});
}

test(
  'the panel names the rule once, by its name: one line says what it did and what the program saw',
  { skip: why ? `panel test skipped: ${why}` : false, timeout: 120_000 },
  async () => {
    assert.ok(shown.named && shown.unnamed, 'the traces of the tests above');
    mkdirSync(results, { recursive: true });
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      for (const [which, { trace, id, name }] of Object.entries(shown)) {
        for (const width of [900, 220]) {
          const { page, errors } = await openPanel(browser, server.url, { width, height: 600 });
          await page.evaluate(() =>
            window.postMessage(
              { type: 'traces', traces: [{ traceKey: 't', label: 'whatif', origin: 'file', live: false }], activeTraceKey: 't' },
              '*',
            ),
          );
          // As the host sends a trace: enriched (timings, diagnosis).
          const snapshot = core.enrichTrace(trace);
          await postAndWait(
            page,
            { type: 'reset', traceKey: 't', live: false, traceJson: JSON.stringify(snapshot) },
            '(d) => d.requests === 1',
          );
          const req = snapshot.httpRequests[0];
          if (which === 'named' && width === 900) {
            // Shown first as changed by another rule: the row's badge words stay, its name follows the rule.
            const other = { ...req, whatIf: { ...req.whatIf, rule: 'other', name: 'Another rule' } };
            await postAndWait(page, { type: 'update', traceKey: 't', httpRequests: [other] });
            // A render the reset scheduled may come before the update's on a busy machine: the row is read once it shows it.
            await rowSays(page, 'Another rule');
            const before = await page.getAttribute('.list-rows .row', 'aria-label');
            assert.ok(before.includes('What if: rule "Another rule" '), before);
            await postAndWait(page, { type: 'update', traceKey: 't', httpRequests: [req] });
            await rowSays(page, name);
          }
          const label = await page.getAttribute('.list-rows .row', 'aria-label');
          assert.ok(label.includes(`What if: rule ${JSON.stringify(name)} `), `${which}: the row's name says the rule's name: ${label}`);
          if (id !== name) assert.ok(!label.includes(id), `${which}: not its id: ${label}`);
          await page.evaluate((id) => window.postMessage({ type: 'select', traceID: id }, '*'), req.traceID);
          await page.waitForSelector('.detail-head .detail-whatif');
          const head = await page.$eval('.detail-head', (h) => ({
            text: h.textContent,
            line: h.querySelector('.detail-whatif').textContent,
            diagnoses: h.querySelectorAll('.diagnosis').length,
          }));
          const times = head.text.split(JSON.stringify(name)).length - 1;
          assert.equal(times, 1, `${which} at ${width} px: the rule is named once in the detail's head: ${head.text}`);
          if (id !== name) assert.ok(!head.text.includes(id), `${which}: its id is not shown: ${head.text}`);
          assert.equal(head.diagnoses, 0, `${which}: no second sentence beside the what-if line`);
          assert.equal(
            head.line,
            `${req.diagnosis}${/[.]$/.test(req.diagnosis) ? '' : '.'} Turn the rule off in the Rules view to get the real behaviour back.`,
          );
          assert.match(head.line, /The program saw: /, 'with what the program saw');
          await page.screenshot({ path: join(results, `whatif-rule-${which}-${width}.png`) });
          assert.deepEqual(errors, []);
          await page.close();
        }
      }
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);
