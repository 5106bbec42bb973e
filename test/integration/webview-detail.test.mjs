// covers: webview/detail/, webview/noTrace.ts
// The panel's detail tabs for the optional records (bodies, DNS messages, socket operations, a
// proxy's TLS session, HTTP/2 stream fields), the empty state without any trace (with the reason
// the last Node session was not traced), and the URL
// column, in headless Chromium through the stub host. Saves screenshots of the Body and DNS tabs
// to test-results/webview/. Skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';
import { detailTrace } from '../webview-harness/synthetic.mjs';

const why = browserUnavailable();
const skip = why ? `webview detail test skipped: ${why}` : false;
const results = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'webview');

test('panel: empty state, URL column, Body / DNS / Connection / TLS details', { skip, timeout: 120_000 }, async () => {
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  mkdirSync(results, { recursive: true });
  try {
    // A narrow panel beside the editor, as VS Code opens it.
    const { page, errors } = await openPanel(browser, server.url, { width: 900, height: 900 });

    // No trace at all: say how to get one, and offer to open a file.
    await page.evaluate(() => window.postMessage({ type: 'traces', traces: [] }, '*'));
    await page.waitForSelector('.no-trace');
    const empty = await page.innerText('.waiting');
    assert.match(
      empty,
      /Start debugging with the Net Trace launch configuration, turn on Net Trace: Trace All Node Debugging to trace your own Node configurations and JavaScript Debug Terminals, or run Net Trace: Open Trace File/,
    );
    assert.doesNotMatch(empty, /Not traced/, 'no reason until a session was not traced');
    // A Node session the switch could not trace: the empty state says why, in one line.
    const reason = '"Deno app" runs Deno, which does not load Node preloads from NODE_OPTIONS: run the program with Node.js to trace it.';
    await page.evaluate((r) => window.postMessage({ type: 'traces', traces: [], notTraced: r }, '*'), reason);
    await page.waitForSelector('.no-trace .not-traced:not([hidden])');
    assert.equal(await page.innerText('.no-trace .not-traced'), `Not traced: ${reason}`);
    await page.evaluate(() => window.postMessage({ type: 'traces', traces: [] }, '*'));
    await page.waitForSelector('.no-trace .not-traced[hidden]', { state: 'attached' });
    await page.click('.waiting .no-trace .button');
    assert.deepEqual((await page.evaluate(() => window.__host.posted)).at(-1), { type: 'command', command: 'openTrace' });

    const trace = detailTrace();
    await page.evaluate(() =>
      window.postMessage(
        { type: 'traces', traces: [{ traceKey: 't', label: 'details', origin: 'file', live: false }], activeTraceKey: 't' },
        '*',
      ),
    );
    await postAndWait(
      page,
      { type: 'reset', traceKey: 't', live: false, traceJson: JSON.stringify(trace) },
      `(d) => d.requests === ${trace.httpRequests.length}`,
    );
    assert.equal(await page.$('.no-trace'), null, 'the empty state is gone once a trace is shown');

    // URL column: the path is what shows first; the host follows, quieter.
    const first = await page.$eval('.list-rows .row .c-name', (c) => ({
      path: c.querySelector('.url-path').textContent,
      host: c.querySelector('.url-host').textContent,
      title: c.getAttribute('title'),
      pathVisible: c.querySelector('.url-path').getBoundingClientRect().width > 40,
    }));
    assert.deepEqual(first, {
      path: '/v1/users?expand=roles',
      host: 'api.example.test',
      title: 'https://api.example.test/v1/users?expand=roles',
      pathVisible: true,
    });

    const select = async (traceID, tab) => {
      await page.evaluate((id) => window.postMessage({ type: 'select', traceID: id }, '*'), traceID);
      await page.waitForFunction((id) => window.__host.posted.some((m) => m.type === 'selected' && m.traceID === id), traceID);
      await page.click(`.tab[data-tab="${tab}"]`);
      await page.waitForTimeout(30);
      return page.innerText('.detail-content');
    };

    // Body: JSON re-indented with its numbers kept exactly as sent; request body too.
    let text = await select('req-json', 'body');
    assert.match(text, /Response body/i);
    assert.match(text, /"id": 12345678901234567890,/, 'big number not rounded through a double');
    assert.match(text, /\n {2}"roles": \[\n {4}"admin",/);
    assert.match(text, /"meta": \{\},/);
    assert.match(text, /Request body[\s\S]*"admin": true/i);
    assert.match(text, /application\/json; charset=utf-8/);
    await page.screenshot({ path: join(results, 'body-json.png') });

    // Binary: hex dump with offsets and ASCII, truncation stated with the byte counts.
    text = await select('req-bin', 'body');
    assert.match(text, /00000000 {2}89 50 4e 47 0d 0a 1a 0a {2}00 00 00 0d 49 48 44 52 {2}\|\.PNG\.\.\.\.\.\.\.\.IHDR\|/);
    assert.match(text, /Truncated at 205 bytes: the body is 182,044 bytes/);
    assert.match(text, /image\/png/);
    await page.screenshot({ path: join(results, 'body-hex.png') });

    // DNS: lookups, then the messages with questions, rCode, TTLs and the socket.
    text = await select('req-json', 'dns');
    assert.match(text, /api\.example\.test\s+\+1\.0\d? ms\s+3\.2\d? ms\s+10\.0\.3\.20, 2001:db8::20/);
    assert.match(text, /DNS MESSAGES — api\.example\.test via 10\.0\.0\.53:53 \(UDP\)/);
    assert.match(text, /10\.0\.0\.2:40001 → 10\.0\.0\.53:53/);
    assert.match(text, /query\s+#34311\s+api\.example\.test\. A/);
    assert.match(text, /reply\s+#34312\s+api\.example\.test\. AAAA\s+no-error/);
    assert.match(text, /edge\.example\.test\.\s+A\s+60 s\s+10\.0\.3\.20/);
    assert.match(text, /api\.example\.test\.\s+CNAME\s+300 s\s+edge\.example\.test\./);
    await page.screenshot({ path: join(results, 'dns.png') });
    text = await select('req-nx', 'dns');
    assert.match(text, /nx-domain/);
    assert.match(text, /ENOTFOUND/);

    // Connection: socket operations capped at 200 rows with the rest counted, dropped ones named.
    text = await select('req-json', 'connection');
    assert.match(text, /Socket operations \(258\)/i);
    assert.match(text, /1 writes \(212 B\), 240 reads \(246 kB\) — plaintext above TLS/);
    assert.equal(await page.$$eval('table.sockops tbody tr', (r) => r.length), 200);
    assert.match(text, /58 more not shown \(17 dropped by the recorder's per-connection limit\)/);

    // Proxy: both TLS sessions, the proxy's marked and resumed; Connection names the proxy.
    text = await select('req-proxy', 'tls');
    assert.match(text, /TLS session to the proxy[\s\S]*proxy\.corp\.test[\s\S]*resumed[\s\S]*TLS session to the origin/i);
    assert.match(text, /origin\.example\.test/);
    text = await select('req-proxy', 'connection');
    assert.match(text, /https:\/\/proxy\.corp\.test:3129/);
    assert.match(text, /tcp-2 \(10\.0\.0\.2:51300 → 10\.9\.0\.1:3129\)/);
    text = await select('req-proxy', 'body');
    assert.match(text, /Truncated at 720 bytes: the body is 5,000 bytes/);

    // TLS failure: classified.
    text = await select('req-tls', 'tls');
    assert.match(text, /certificate expired/);
    assert.match(text, /the certificate expired on 2025-02-20/);

    // HTTP/2: stream, RST_STREAM and GOAWAY by name.
    text = await select('req-h2', 'connection');
    assert.match(text, /#9/);
    // An open connection: its request count so far, its byte counts reported at close.
    assert.match(text, /Requests on connection\s*9 so far/);
    assert.match(text, /Bytes sent\s*— \(counted at close\)/);
    assert.match(text, /REFUSED_STREAM \(7\)/);
    assert.match(text, /NO_ERROR \(0\), last stream #7 \(this stream was not processed\)/);
    text = await select('req-h2', 'timing');
    assert.match(text, /HTTP\/2 stream\s+#9/);

    // No bodies anywhere in a trace: the Body tab says how to record them.
    const bare = {
      ...trace,
      httpRequests: trace.httpRequests.map(({ reqBody: _a, respBody: _b, ...r }) => r),
      dnsQueries: [],
      udpConns: [],
    };
    await postAndWait(page, { type: 'reset', traceKey: 't', live: false, trace: bare }, '() => true');
    text = await select('req-json', 'body');
    assert.match(text, /Bodies were not recorded — enable bodies in the launch configuration or run with --bodies/);
    text = await select('req-json', 'dns');
    assert.match(text, /DNS messages were not recorded — enable dnsTrace in the launch configuration or run with --dns-trace/);

    // The last trace removed: back to the empty state.
    await page.evaluate(() => window.postMessage({ type: 'traces', traces: [] }, '*'));
    await page.waitForSelector('.no-trace');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    panel.cleanup();
  }
});
