// covers: src/replay/fromHar.ts, src/replay/harBody.ts, src/replay/harFailure.ts, src/collector/replay.ts, src/preload/playback/
// A HAR exported by Chromium replays a Node program (issue 64's acceptance, docs/replay.md "HAR
// files"): Chromium (Debian's /usr/bin/chromium, driven by playwright-core's `recordHar` with
// `content: 'embed'`; test/fixtures/replay/make-chromium-har.mjs) runs a page whose script fetches
// from a local server: numbered answers, a query, a JSON and a form POST, a gzip answer, a binary
// one, a refused port, a name that does not resolve, a reset. With that server stopped, a Node
// program making the same requests (the global fetch, and node:http) under `nettrace run --replay`
// of the HAR gets what the page got: each status and body byte for byte (the gzip one decoded, as
// the HAR holds it), and for each failure the error Node gives for that cause. Skipped, with the
// reason, on a machine without Chromium.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, nodeBinaries, readTraced, root, run } from './harness.mjs';
import { makeChromiumHar } from '../fixtures/replay/make-chromium-har.mjs';

const chromium = process.env.NETTRACE_CHROMIUM || '/usr/bin/chromium';
const skip = existsSync(chromium) ? false : `no Chromium at ${chromium} (set NETTRACE_CHROMIUM to one)`;
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-replay-chromium-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const har = join(tmp, 'chromium.har');

/** What Node gives for the cause of each failure the page met (docs/replay.md's table of Chromium's names). */
const FAILURES = { '/down': 'ECONNREFUSED', '/nothing': 'ENOTFOUND', '/reset': 'ECONNRESET' };

let made;
before(async () => {
  if (!skip) made = await makeChromiumHar({ out: har, executablePath: chromium });
});

/** The page's requests, as a Node program makes them. */
function callsOf({ origin, closed }) {
  return [
    { url: `${origin}/jobs/7` },
    { url: `${origin}/jobs/7` },
    { url: `${origin}/search?q=net%20trace&page=2&tag=a&tag=b` },
    {
      method: 'POST',
      url: `${origin}/orders`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: 'c-1', items: [{ sku: 'x', qty: 4 }], note: 'é' }),
    },
    {
      method: 'POST',
      url: `${origin}/form`,
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      body: new URLSearchParams({ name: 'Ada Lovelace', lang: 'en' }).toString(),
    },
    { url: `${origin}/gzip` },
    { url: `${origin}/image.bin` },
    { url: `${origin}/jobs/7` },
    { url: `http://127.0.0.1:${closed}/down` },
    { url: 'http://nx.test/nothing' },
    { url: `${origin}/reset` },
  ];
}

for (const { label, bin } of nodeBinaries()) {
  describe(`${label}: a HAR Chromium exported replays a Node program making the same requests`, { skip }, () => {
    for (const client of ['fetch', 'http']) {
      test(client, async () => {
        const calls = callsOf(made);
        assert.equal(made.results.length, calls.length, 'the page made every request');
        const out = join(tmp, `${client}-${label.replace(/\W/g, '')}.json`);
        const r = await run(
          process.execPath,
          [cli, 'run', '--quiet', '--helper', 'off', '--out', out, '--replay', har, '--', bin, join(apps, 'replay-observe.mjs')],
          {
            env: { NT_CLIENT: client, NT_CALLS: JSON.stringify(calls), NODE_PATH: join(root, 'node_modules') },
          },
        );
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        calls.forEach((c, i) => {
          const page = made.results[i];
          const node = lines[i];
          if (page.error === undefined) {
            assert.equal(node.status, page.status, `${c.url}: the status the page got`);
            assert.equal(node.body, page.body, `${c.url}: the body the page got, byte for byte`);
          } else {
            const code = FAILURES[new URL(c.url).pathname];
            const e = node.error;
            assert.ok(e, `${c.url}: failed as for the page (${page.error}): ${JSON.stringify(node)}`);
            assert.equal(client === 'fetch' ? e.cause?.code : e.code, code, `${c.url}: ${JSON.stringify(e)}`);
            if (client === 'fetch') assert.equal(e.message, 'fetch failed');
          }
        });
        const numbered = lines
          .filter((_, i) => calls[i].url.endsWith('/jobs/7'))
          .map((l) => JSON.parse(Buffer.from(l.body, 'base64')).answer);
        assert.deepEqual(numbered, [1, 2, 3], 'the numbered answers in their order');
        const trace = readTraced(out);
        assert.equal(trace.replay.source, 'har');
        assert.deepEqual(trace.replay.counts, { replayed: calls.length, unmatched: 0, passed: 0 });
        for (const q of trace.httpRequests) assert.equal(q.replay?.outcome, 'replayed', `${q.reqURL}: ${JSON.stringify(q.replay)}`);
      });
    }
  });
}
