// The openai SDK v6 (global fetch, i.e. undici, underneath) with a custom baseURL on the recording
// server: models.list (GET), chat.completions.create (POST), a 307 it follows, a refused server,
// its `timeout` option, and its retries of 503s (maxRetries). Each case's request is made on the
// line marked `@line <case>`.
import OpenAI from 'openai';
import { base, refused, runCases } from './_run.mjs';

const client = (baseURL, extra = {}) => new OpenAI({ apiKey: 'sk-nettrace-secret', baseURL, maxRetries: 0, ...extra });
const chat = { model: 'nt-model', messages: [{ role: 'user', content: 'ping '.repeat(200) }] };

await runCases({
  get: async () => {
    const r = await client(`${base}/get`).models.list(); // @line get
    return { models: r.data.map((m) => m.id) };
  },
  post: async () => {
    const r = await client(`${base}/post`).chat.completions.create(chat); // @line post
    return { content: r.choices[0].message.content };
  },
  redirect: async () => {
    const r = await client(`${base}/redirect/redir`).chat.completions.create(chat); // @line redirect
    return { content: r.choices[0].message.content };
  },
  refused: async () => {
    await client(`${refused}/refused`).models.list(); // @line refused
  },
  timeout: async () => {
    await client(`${base}/timeout/stall`, { timeout: 300 }).models.list(); // @line timeout
  },
  retry: async () => {
    const r = await client(`${base}/retry/flaky`, { maxRetries: 2 }).chat.completions.create(chat); // @line retry
    return { content: r.choices[0].message.content };
  },
});
