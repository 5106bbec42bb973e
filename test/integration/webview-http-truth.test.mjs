// covers: webview/, src/preload/
// needs: the build (dist/core.cjs, dist/preload.cjs)
// The panel shows what the http-truth records say, from real traces of apps/http-truth.mjs: an
// event stream while open (bytes and events so far, "streaming"), a WebSocket's lifetime, close
// and traffic, and a redirect hop whose body the client never read (not an error). Headless
// Chromium through the stub host; skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';
import { startTruthServer } from './truthServers.mjs';
import { apps, root, runTraced } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const why = browserUnavailable();
const skip = why ? `webview http-truth test skipped: ${why}` : false;

/** A live snapshot taken while the event stream s1 is open with two events received. */
async function liveStreamSnapshot(server) {
  const collector = await core.startCollector({ description: 'streams' });
  try {
    const env = core.buildPreloadEnv(
      { ...process.env, NT_BASE: server.url },
      { preloadPath: join(root, 'dist', 'preload.cjs'), config: { ipcPath: collector.ipcPath } },
    );
    const child = spawn(process.execPath, [join(apps, 'http-truth.mjs'), 'streams'], { env, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('close', r));
    const deadline = Date.now() + 10000;
    let snapshot;
    for (;;) {
      const trace = collector.session.snapshot();
      const r = trace.httpRequests.find((x) => x.reqURL.endsWith('id=s1'));
      if (r?.respEvents === 2 && r.respDoneAt === undefined) {
        snapshot = JSON.parse(JSON.stringify(trace));
        break;
      }
      assert.ok(Date.now() < deadline, 'the event stream showed its progress');
      await new Promise((res) => setTimeout(res, 50));
    }
    server.open('s1');
    await new Promise((res) => setTimeout(res, 100));
    server.open('c1');
    assert.equal(await exited, 0);
    return snapshot;
  } finally {
    await collector.close();
  }
}

test('panel: streaming progress, a WebSocket, a redirect hop whose body was not read', { skip, timeout: 180_000 }, async () => {
  const server = await startTruthServer();
  const panel = await buildPanel();
  const http = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    const live = await liveStreamSnapshot(server);
    const done = await runTraced(process.execPath, 'http-truth.mjs', { env: { NT_BASE: server.url }, args: ['redirects', 'websocket'] });
    assert.equal(done.code, 0, done.stderr);
    const { page, errors } = await openPanel(browser, http.url, { width: 1100, height: 900 });
    await page.evaluate(() =>
      window.postMessage(
        { type: 'traces', traces: [{ traceKey: 't', label: 'truth', origin: 'current', live: true }], activeTraceKey: 't' },
        '*',
      ),
    );
    const show = (trace, live) =>
      postAndWait(
        page,
        { type: 'reset', traceKey: 't', live, traceJson: JSON.stringify(trace) },
        `(d) => d.requests === ${trace.httpRequests.length}`,
      );
    const select = async (traceID, tab) => {
      await page.evaluate((id) => window.postMessage({ type: 'select', traceID: id }, '*'), traceID);
      await page.waitForFunction((id) => window.__host.posted.some((m) => m.type === 'selected' && m.traceID === id), traceID);
      await page.click(`.tab[data-tab="${tab}"]`);
      await page.waitForTimeout(30);
      return page.innerText('.detail-content');
    };
    const idOf = (trace, suffix) => trace.httpRequests.find((r) => r.reqURL.endsWith(suffix)).traceID;

    await show(live, true);
    const sse = live.httpRequests.find((r) => r.reqURL.endsWith('id=s1'));
    let text = await select(sse.traceID, 'headers');
    assert.match(text, /Status\s+200 OK/);
    assert.match(text, new RegExp(`Response body\\s+${sse.respContentLen} B so far \\(streaming\\)`));
    assert.match(text, /Events\s+2 so far \(streaming\)/);
    text = await select(sse.traceID, 'timing');
    assert.match(text, /Done\s+streaming/);

    await show(done.trace, false);
    const ws = done.trace.httpRequests.find((r) => r.reqURL.endsWith('id=w1'));
    text = await select(ws.traceID, 'headers');
    assert.match(text, /Status\s+101 Switching Protocols/);
    assert.match(text, /WEBSOCKET|WebSocket/);
    assert.match(text, /Close\s+4000 "bye", by the client/);
    assert.match(text, new RegExp(`Sent\\s+2 messages, ${ws.webSocket.sentBytes} B`));
    assert.match(text, new RegExp(`Received\\s+2 messages, ${ws.webSocket.recvBytes} B`));
    assert.match(text, /Closed\s+\+[\d.]+ (ms|s) \(after /);
    text = await select(idOf(done.trace, 'id=w2'), 'headers');
    assert.match(text, /Close\s+1001 "going away", by the server/);
    text = await select(idOf(done.trace, '/redirect-body?id=a2'), 'headers');
    assert.match(text, /Status\s+302 Found/);
    assert.match(text, /Response body\s+0 B — not read to its end: the program closed the response \(not an error\)/);
    assert.match(text, /Redirects to\s+\/final\?id=a2-final/);
    assert.equal(await page.$('.detail .diagnosis.error'), null, 'no failure shown for the hop');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await http.close();
    await server.close();
  }
});
