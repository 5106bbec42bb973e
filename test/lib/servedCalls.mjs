// Calls of one traced service to another on one kept-alive connection, as both ends record them:
// the client's requests (each in flight 5 ms, 10 ms apart), its connection, and the server's
// incoming requests (each received 1 ms into its call), newest first as a trace may list them.
// For linkServed (src/trace/derive/incomingLinks.ts): test/unit/incoming.test.mjs and
// bench/tools/served-links.mjs. The i-th call is `req-i`, the request it became `in-i`.

/** `count` calls to seven paths in turn: { requests, tcpConns, incoming }. */
export function keptAliveCalls(count) {
  const tuple = { srcIP: '127.0.0.1', srcPort: 50000, dstIP: '127.0.0.1', dstPort: 8080 };
  const tcpConns = [{ traceID: 'tcp-1', pid: 1, connected: true, addrTuple: tuple }];
  const requests = [];
  const incoming = [];
  for (let i = 0; i < count; i++) {
    const reqURL = `http://127.0.0.1:8080/items/${i % 7}`;
    requests.push({
      traceID: `req-${i}`,
      pid: 1,
      client: 'http',
      reqMethod: 'GET',
      reqURL,
      reqStartAt: 10 * i,
      respRecvAt: 10 * i + 5,
      tcpConn: 'tcp-1',
    });
    incoming.push({ traceID: `in-${i}`, pid: 2, server: 'http', reqMethod: 'GET', reqURL, reqRecvAt: 10 * i + 1, addrTuple: tuple });
  }
  incoming.reverse();
  return { requests, tcpConns, incoming };
}

/** How many of `links` (linkServed's answer) join a call to the request it became. */
export function rightLinks(links) {
  let right = 0;
  for (const [req, inc] of links) if (req.slice(4) === inc.slice(3)) right++;
  return right;
}
