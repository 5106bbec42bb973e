// ky 1 (global fetch, i.e. undici, underneath; it hands fetch a Request whose body is a stream),
// with its own timeout and retries. Each case's request is made on the line marked `@line <case>`.
import ky from 'ky';
import { base, body, refused, runCases } from './_run.mjs';

await runCases({
  get: async () => {
    const r = await ky.get(`${base}/get/ok?size=321`); // @line get
    return { status: r.status, len: (await r.text()).length };
  },
  post: async () => {
    const r = await ky.post(`${base}/post/echo`, { body, headers: { 'content-type': 'application/json' } }); // @line post
    return { status: r.status, received: (await r.json()).received };
  },
  redirect: async () => {
    const r = await ky.get(`${base}/redirect/redir/ok?size=12`); // @line redirect
    return { status: r.status, len: (await r.text()).length };
  },
  refused: async () => {
    await ky.get(`${refused}/refused/ok`, { retry: 0 }); // @line refused
  },
  timeout: async () => {
    await ky.get(`${base}/timeout/stall/ok`, { timeout: 300, retry: 0 }); // @line timeout
  },
  retry: async () => {
    const r = await ky.get(`${base}/retry/flaky/ok?size=5`, { retry: { limit: 2, backoffLimit: 20 } }); // @line retry
    return { status: r.status, len: (await r.text()).length };
  },
});
