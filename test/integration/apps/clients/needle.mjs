// needle (http.request underneath), with its own redirect following and response timeout. Each
// case's request is made on the line marked `@line <case>`.
import needle from 'needle';
import { base, body, refused, runCases } from './_run.mjs';

await runCases({
  get: async () => {
    const r = await needle('get', `${base}/get/ok?size=321`); // @line get
    return { status: r.statusCode, len: String(r.body).length };
  },
  post: async () => {
    const r = await needle('post', `${base}/post/echo`, body, { headers: { 'content-type': 'application/json' } }); // @line post
    return { status: r.statusCode, received: r.body.received };
  },
  redirect: async () => {
    const r = await needle('get', `${base}/redirect/redir/ok?size=12`, null, { follow_max: 5 }); // @line redirect
    return { status: r.statusCode, len: String(r.body).length };
  },
  refused: async () => {
    await needle('get', `${refused}/refused/ok`); // @line refused
  },
  timeout: async () => {
    await needle('get', `${base}/timeout/stall/ok`, null, { response_timeout: 300 }); // @line timeout
  },
});
