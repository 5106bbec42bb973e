// The record updates of one keep-alive `http.get` as the http hooks build them (start with its
// header block, response head with rawHeaders, end): what bench/events.mjs and bench/encoder-ir.mjs
// encode.

const t0 = 1763830000123.4567;
const block =
  'GET /items/42?x=1 HTTP/1.1\r\nHost: 127.0.0.1:40123\r\nUser-Agent: bench\r\nAccept: application/json\r\nConnection: keep-alive\r\n\r\n';
const raw = ['Content-Type', 'application/json', 'Content-Length', '112', 'Date', 'Sun, 22 Nov 2026 17:00:00 GMT'];
raw.push('Connection', 'keep-alive', 'Keep-Alive', 'timeout=5');

/** The three updates of request i: [id, fields] each, fields built fresh (rawHeaders copied, as Node gives each response its own). */
export function updates(i) {
  const id = `r${i}`;
  const at = t0 + i;
  return [
    [
      id,
      {
        client: 'http',
        reqMethod: 'GET',
        reqURL: `http://127.0.0.1:40123/items/${i}?x=1`,
        protoMajor: 1,
        protoMinor: 1,
        reqStartAt: at,
        reusedConn: true,
        reqHeaders: block,
        tcpConn: 't1',
      },
    ],
    [
      id,
      {
        reqSentAt: at + 0.05,
        respRecvAt: at + 0.4,
        respStatusCode: 200,
        respStatusText: 'OK',
        protoMajor: 1,
        protoMinor: 1,
        respHeaders: raw.slice(),
      },
    ],
    [id, { respContentLen: 112, respDoneAt: at + 0.5 }],
  ];
}
