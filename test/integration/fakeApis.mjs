// Local stand-ins for the APIs the SDK apps call (sdk-lines.test.mjs): Stripe's
// customers and charges (a charge answered 500 with `stripe-should-retry` once, then 200),
// Anthropic's messages (JSON, an event stream when `stream` is asked, a 529 once when the
// model is `flaky`), GitHub's issues in pages of one (a `link` header to the next, three
// pages) and S3's multipart upload. Every request is logged as `METHOD path`. A first path
// segment other than the APIs' own names the case (`/anthropic-stream/v1/messages`).
import http from 'node:http';

const message = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'm',
  content: [{ type: 'text', text: 'hi' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 1, output_tokens: 1 },
};

/** The Anthropic event stream of one short message. */
function messageEvents() {
  const events = [
    ['message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 1 } }],
    ['message_stop', { type: 'message_stop' }],
  ];
  return events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('');
}

/** Starts the fake APIs on 127.0.0.1; `log` lists the requests they answered. One app run at a time (see reset). */
export async function startFakeApis() {
  const log = [];
  const seen = new Map();
  const once = (key) => {
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n === 1;
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      log.push(`${req.method} ${url.pathname}${url.search}`);
      const json = (code, obj, headers = {}) => {
        res.writeHead(code, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(obj));
      };
      const body = Buffer.concat(chunks).toString();
      // A client pointed at `<base>/<case>` (the Anthropic SDK keeps a base URL's path): the case is left out.
      const p = url.pathname.replace(/^\/(?!v1\/|repos\/|bucket\/)[\w-]+(?=\/)/, '');
      if (p === '/v1/customers') {
        if (req.method === 'POST') return json(200, { id: 'cus_1', object: 'customer' });
        return json(200, { object: 'list', data: [{ id: 'cus_1', object: 'customer' }], has_more: false, url: '/v1/customers' });
      }
      if (p === '/v1/charges') {
        if (once(`charge ${req.headers['idempotency-key']}`))
          return json(500, { error: { type: 'api_error', message: 'try again' } }, { 'stripe-should-retry': 'true' });
        return json(200, { id: 'ch_1', object: 'charge' });
      }
      if (p === '/v1/messages') {
        const ask = JSON.parse(body || '{}');
        if (ask.model === 'flaky' && once(`flaky ${ask.messages?.[0]?.content}`))
          return json(529, { type: 'error', error: { type: 'overloaded_error', message: 'busy' } }, { 'retry-after': '0' });
        if (ask.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          return res.end(messageEvents());
        }
        return json(200, message);
      }
      if (p === '/repos/o/r/issues') {
        const page = Number(url.searchParams.get('page') ?? 1);
        const next = page < 3 ? { link: `<http://${req.headers.host}/repos/o/r/issues?per_page=1&page=${page + 1}>; rel="next"` } : {};
        return json(200, [{ id: page, number: page, title: `issue ${page}` }], next);
      }
      if (p.startsWith('/bucket/')) {
        const xml = (text) => {
          res.writeHead(200, { 'content-type': 'application/xml' });
          res.end(`<?xml version="1.0" encoding="UTF-8"?>${text}`);
        };
        if (req.method === 'POST' && url.searchParams.has('uploads'))
          return xml(
            '<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key><UploadId>up1</UploadId></InitiateMultipartUploadResult>',
          );
        if (req.method === 'PUT') {
          res.writeHead(200, { etag: `"etag-${url.searchParams.get('partNumber')}"` });
          return res.end();
        }
        if (req.method === 'POST')
          return xml(
            '<CompleteMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key><ETag>"done"</ETag></CompleteMultipartUploadResult>',
          );
      }
      json(404, { message: 'not here' });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    log,
    /** Forgets which requests were answered with an error once: the next run's are again. */
    reset: () => seen.clear(),
    close: () => new Promise((r) => server.close(r)),
  };
}
