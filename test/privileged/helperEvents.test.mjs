// covers: src/helper/, src/collector/kernelEvents.ts
// What a traced connection's end costs in kernel ring-buffer events and what the helper still says
// of it: the socket error and the end of the wire tuple travel in the connection's one close event.
// Root only (CI runs as root); skipped loudly otherwise.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, fixtures, gatedClient, ofType, root, skipLoudly, skipReason } from './lib.mjs';

// Connects COUNT times, one after the other, to HOST:PORT; prints "CONN <localPort>" once
// connected, sends a line, and goes on when the connection ends, whichever way it ends.
const clientSource = `import net from 'node:net';
const [host, port, count] = process.argv.slice(2);
for (let i = 0; i < Number(count); i++) {
  await new Promise((resolve) => {
    const c = net.connect(Number(port), host, () => { console.log('CONN ' + c.localPort); c.write('hi\\n'); });
    c.on('data', () => c.end());
    c.on('error', () => {});
    c.on('close', resolve);
  });
}
setTimeout(() => console.log('DONE'), 200);
`;

/** The helper's messages about the connection from local port `port`, in order. */
const about = (h, port) => h.messages.filter((m) => m.addrTuple?.srcPort === port || (m.type === 'wireClosed' && m.wire.srcPort === port));

describe('helper close events', { timeout: 60_000 }, () => {
  const reason = skipReason();
  const script = join(fixtures, '..', `events-client-${process.pid}.mjs`);
  let resetting;
  let answering;
  before(async () => {
    if (reason) return;
    writeFileSync(script, clientSource);
    // Resets every connection as soon as the request arrives (RST: the client's connect succeeded,
    // its connection then ends with ECONNRESET).
    resetting = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.resetAndDestroy());
    });
    answering = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end('ok\n'));
    });
    await Promise.all([resetting, answering].map((srv) => new Promise((r) => srv.listen(0, '127.0.0.1', r))));
  });
  after(() => {
    resetting?.close();
    answering?.close();
    rmSync(script, { force: true });
  });

  async function trace(server, count, opts = {}) {
    const client = gatedClient(undefined, ['127.0.0.1', server.address().port, count], { script });
    await client.gated;
    const h = await api().startHelper({ pid: client.child.pid, root, authority: 'root', ...opts });
    client.release();
    await client.waitFor('DONE');
    await h.exited;
    return { h, ports: client.ports() };
  }

  test('connections reset by the peer: two ring-buffer events each, and each still says its error before its final metrics', async (t) => {
    if (reason) return skipLoudly(t, reason);
    const n = 5;
    const { h, ports } = await trace(resetting, n);
    assert.equal(ports.length, n);
    for (const port of ports) {
      const seq = about(h, port).map((m) =>
        m.type === 'kernelEvent' ? `${m.kind}:${m.errno}` : m.type === 'tcpMetrics' ? `metrics:${m.final}` : m.type,
      );
      const err = seq.indexOf('socketError:104');
      assert.ok(err >= 0, `port ${port}: a socketError with ECONNRESET (${seq.join(', ')})`);
      assert.equal(seq.filter((s) => s.startsWith('socketError')).length, 1, `port ${port}: one socketError`);
      assert.ok(seq.indexOf('metrics:true') > err, `port ${port}: the error before the final metrics (${seq.join(', ')})`);
      const final = ofType(h, 'tcpMetrics').find((m) => m.final && m.addrTuple.srcPort === port);
      assert.equal(final.tcpMetrics.established, true);
      assert.ok(final.tcpMetrics.connectLatencyUs > 0);
    }
    // The connect and the close: the error rides in the close (it was an event of its own).
    const stats = ofType(h, 'stats').at(-1);
    assert.equal(stats.events, 2 * n, `ring-buffer events for ${n} connections: ${stats.events}`);
    assert.equal(stats.lostEvents, 0);
  });

  test('capturing: a closed connection still ends its wire tuple, after its final metrics', async (t) => {
    if (reason) return skipLoudly(t, reason);
    const { h, ports } = await trace(answering, 2, { pcap: true });
    try {
      assert.equal(ports.length, 2);
      for (const port of ports) {
        const msgs = about(h, port);
        const wire = msgs.find((m) => m.type === 'wireTuple');
        const closed = msgs.findIndex((m) => m.type === 'wireClosed');
        const final = msgs.findIndex((m) => m.type === 'tcpMetrics' && m.final);
        assert.ok(wire, `port ${port}: its wire tuple`);
        assert.ok(closed > final && final >= 0, `port ${port}: wireClosed after the final metrics (${msgs.map((m) => m.type).join(', ')})`);
        assert.deepEqual(msgs[closed].wire, wire.wire);
        assert.equal(msgs[closed].graceMs, 2000);
        assert.equal(msgs[closed].proto, 'tcp');
      }
    } finally {
      const spool = ofType(h, 'capture')[0]?.spool;
      if (spool) rmSync(dirname(spool), { recursive: true, force: true });
    }
  });
});
