// Synthetic traces for the large-trace bench and tests: a Session whose builder holds `n`
// requests shaped like real ones (a keep-alive `fetch` GET with headers, 100 requests per TCP
// connection, an initiator on the first 100), saved through the Session's own save code.

/** Fills `session.builder.trace` with `n` requests (and their dials and connections). */
export function fillSession(session, n, { perConn = 100 } = {}) {
  const t = session.builder.trace;
  const pid = 4242;
  for (let i = 0; i < n; i++) {
    const conn = Math.floor(i / perConn) + 1;
    const at = i * 0.5;
    if (i % perConn === 0) {
      t.dials.push({
        traceID: `dial-${conn}`,
        pid,
        threadId: 0,
        network: 'tcp',
        address: '127.0.0.1:8080',
        dialBeginAt: at,
        dialEndAt: at + 1,
      });
      t.tcpConns.push({
        traceID: `tcp-${conn}`,
        fromDial: `dial-${conn}`,
        handshakeBeginAt: at,
        handshakeEndAt: at + 0.4,
        connected: true,
        addrTuple: { srcIP: '127.0.0.1', srcPort: 40000 + (conn % 20000), dstIP: '127.0.0.1', dstPort: 8080 },
        requestCount: perConn,
        pid,
        threadId: 0,
        totalSentBytes: 180 * perConn,
        totalRecvBytes: 260 * perConn,
      });
    }
    const req = {
      traceID: `req-${i + 1}`,
      client: 'fetch',
      reqMethod: 'GET',
      reqURL: `http://127.0.0.1:8080/api/items/${i}?page=${i % 50}`,
      reqStartAt: at,
      reqHeaders: [
        ['accept', 'application/json'],
        ['user-agent', 'node'],
        ['accept-encoding', 'gzip, deflate'],
      ],
      reqContentLen: 0,
      reusedConn: i % perConn !== 0,
      tcpConn: `tcp-${conn}`,
      dial: `dial-${conn}`,
      reqSentAt: at + 0.45,
      respRecvAt: at + 0.8,
      respStatusCode: i % 97 === 0 ? 503 : 200,
      respStatusText: i % 97 === 0 ? 'Service Unavailable' : 'OK',
      protoMajor: 1,
      protoMinor: 1,
      respHeaders: [
        ['content-type', 'application/json'],
        ['content-length', '42'],
        ['Date', 'Sun, 22 Nov 2026 11:52:40 GMT'],
        ['Connection', 'keep-alive'],
      ],
      respDoneAt: at + 0.9,
      respContentLen: 42,
      pid,
      threadId: 0,
    };
    if (i < 100) req.initiator = { frames: [{ file: 'file:///app/client.mjs', line: 12, column: 5, function: 'load' }] };
    t.httpRequests.push(req);
  }
  t.traceEndAt = n * 0.5 + 1;
  return session;
}
