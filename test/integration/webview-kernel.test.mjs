// covers: webview/detail/connection.ts, src/trace/derive/kernel.ts
// The panel's Connection tab shows what the privileged helper learned (a "Kernel" block: RTT ±
// variance, retransmits with SYN ones apart, cwnd, segments, conntrack state, the NAT mapping,
// packet counts) as plain text, hostile values included; the toolbar's Save PCAP button asks the
// host for `savePcap`. Headless Chromium through the stub host; skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';
import { HOSTILE } from '../webview-harness/synthetic.mjs';

const why = browserUnavailable();
const skip = why ? `webview kernel test skipped: ${why}` : false;

function kernelTrace() {
  const req = (traceID, tcpConn, path) => ({
    traceID,
    pid: 7,
    client: 'fetch',
    reqMethod: 'GET',
    reqURL: `http://10.0.0.100${path}`,
    tcpConn,
    reqStartAt: 1,
    reqSentAt: 2,
    respRecvAt: 3,
    respDoneAt: 4,
    respStatusCode: 200,
    timings: { blocked: 0, dns: -1, connect: 1, ssl: -1, send: 0, wait: 1, receive: 1 },
  });
  return {
    formatVersion: 1,
    description: 'kernel',
    traceBeginAt: '2026-11-21T10:00:00.000Z',
    traceEndAt: 10,
    processes: [],
    httpRequests: [req('req-nat', 'tcp-1', '/nat'), req('req-hostile', 'tcp-2', '/hostile'), req('req-plain', 'tcp-3', '/plain')],
    dials: [],
    tcpConns: [
      {
        traceID: 'tcp-1',
        pid: 7,
        connected: true,
        addrTuple: { srcIP: '10.0.0.1', srcPort: 40000, dstIP: '10.0.0.100', dstPort: 80 },
        tcpMetrics: { source: 'bpf', rttUs: 9800, rttVarUs: 1200, retransmits: 2, synRetransmits: 1, sndCwnd: 10, segsOut: 24, segsIn: 17 },
        conntrack: {
          capturedAt: 9,
          status: 'assured|seen-reply|src-nat|dst-nat',
          tcpState: 'time-wait',
          mark: 0,
          addrOrig: { srcIP: '10.0.0.1', srcPort: 40000, dstIP: '10.0.0.100', dstPort: 80 },
          addrReply: { srcIP: '10.0.0.2', srcPort: 8080, dstIP: '10.0.0.3', dstPort: 40000 },
          packetsSent: 24,
          packetsRecv: 17,
          bytesSent: 1991,
          bytesRecv: 13549,
        },
      },
      {
        traceID: 'tcp-2',
        pid: 7,
        connected: true,
        addrTuple: { srcIP: '10.0.0.1', srcPort: 40001, dstIP: '10.0.0.100', dstPort: 80 },
        tcpMetrics: { source: HOSTILE[0], rttUs: HOSTILE[1], sndCwnd: 3 },
        conntrack: { status: HOSTILE[2], tcpState: HOSTILE[0], addrOrig: HOSTILE[1], packetsSent: 1 },
      },
      { traceID: 'tcp-3', pid: 7, connected: true, addrTuple: { srcIP: '10.0.0.1', srcPort: 40002, dstIP: '10.0.0.100', dstPort: 80 } },
    ],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
}

test("panel: the Connection tab's Kernel block; Save PCAP in the toolbar", { skip, timeout: 120_000 }, async () => {
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    const { page, errors } = await openPanel(browser, server.url, { width: 1000, height: 900 });
    const trace = kernelTrace();
    await page.evaluate(() =>
      window.postMessage(
        { type: 'traces', traces: [{ traceKey: 't', label: 'kernel', origin: 'file', live: false }], activeTraceKey: 't' },
        '*',
      ),
    );
    await postAndWait(page, { type: 'reset', traceKey: 't', live: false, traceJson: JSON.stringify(trace) }, '(d) => d.requests === 3');
    const select = async (traceID) => {
      await page.evaluate((id) => window.postMessage({ type: 'select', traceID: id }, '*'), traceID);
      await page.waitForFunction((id) => window.__host.posted.some((m) => m.type === 'selected' && m.traceID === id), traceID);
      await page.click('.tab[data-tab="connection"]');
      await page.waitForTimeout(30);
      return page.innerText('.detail-content');
    };

    let text = await select('req-nat');
    assert.match(text, /KERNEL \(BPF\)|Kernel \(bpf\)/);
    assert.match(text, /RTT ± variance\s+9\.8 ms ± 1\.2 ms/);
    assert.match(text, /Retransmits\s+2 \(1 SYN\)/);
    assert.match(text, /Congestion window\s+10/);
    assert.match(text, /Segments\s+24 out \/ 17 in/);
    assert.match(text, /Conntrack\s+time-wait, assured\|seen-reply\|src-nat\|dst-nat/);
    assert.match(text, /NAT\s+orig 10\.0\.0\.1:40000 → 10\.0\.0\.100:80, reply 10\.0\.0\.2:8080 → 10\.0\.0\.3:40000/);
    assert.match(text, /Packets\s+24 out \/ 17 in \(2\.0 kB \/ 13\.5 kB\)/);

    // Untrusted values from a trace file: text, never markup; nonsense numbers left out.
    text = await select('req-hostile');
    assert.ok(text.includes(HOSTILE[0]), 'the hostile source is shown as text');
    assert.ok(text.includes(HOSTILE[2]), 'the hostile status is shown as text');
    assert.match(text, /RTT ± variance\s+—/);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.$$eval('.detail-content img, .detail-content script, .detail-content svg', (n) => n.length), 0);

    // Without the helper's data there is no Kernel block.
    text = await select('req-plain');
    assert.doesNotMatch(text, /Kernel|RTT ± variance/i);

    await page.click('.icon-button[title^="Save PCAP"]');
    assert.deepEqual((await page.evaluate(() => window.__host.posted)).at(-1), { type: 'command', command: 'savePcap', traceKey: 't' });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
