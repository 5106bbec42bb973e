// got 14: each case's request is made on the line marked `@line <case>` (got starts the request
// later, from its own promise chain: the program's line is still the one that asked for it).
import got from 'got';
import { base, body, refused, runCases } from './_run.mjs';

await runCases({
  get: async () => {
    const r = await got(`${base}/get/ok?size=321`); // @line get
    return { status: r.statusCode, len: r.body.length };
  },
  post: async () => {
    const r = await got.post(`${base}/post/echo`, { body, headers: { 'content-type': 'application/json' } }).json(); // @line post
    return { received: r.received };
  },
  redirect: async () => {
    const r = await got(`${base}/redirect/redir/ok?size=12`); // @line redirect
    return { status: r.statusCode, len: r.body.length };
  },
  refused: async () => {
    await got(`${refused}/refused/ok`, { retry: { limit: 0 } }); // @line refused
  },
  timeout: async () => {
    await got(`${base}/timeout/stall/ok`, { timeout: { request: 300 }, retry: { limit: 0 } }); // @line timeout
  },
  retry: async () => {
    const r = await got(`${base}/retry/flaky/ok?size=5`, { retry: { limit: 2, backoffLimit: 20 } }); // @line retry
    return { status: r.statusCode, attempts: r.retryCount + 1 };
  },
});
