// The SDKs that start their requests later than the program's call (issue 62, finding 5), loaded
// with `require`, against the fake APIs at NT_BASE (test/integration/fakeApis.mjs): each call is
// made on the line marked `@line <case>`, the line every request it causes must name. Prints
// what each case saw, as one JSON line.
const Stripe = require('stripe');
const { Anthropic } = require('@anthropic-ai/sdk');
const { Octokit } = require('@octokit/rest');
const { S3Client } = require('@aws-sdk/client-s3');
const { Upload } = require('@aws-sdk/lib-storage');

const base = process.env.NT_BASE;
const { port } = new URL(base);
const stripe = new Stripe('sk_test_nettrace', { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 1 });
// One client per case, each at its own path: the test tells their requests apart by it.
const anthropic = (name) => new Anthropic({ apiKey: 'sk-ant-nettrace', baseURL: `${base}/${name}`, maxRetries: 1 });
const octokit = new Octokit({ baseUrl: base, auth: 'ghp_nettrace' });
const s3 = new S3Client({
  region: 'us-east-1',
  endpoint: base,
  forcePathStyle: true,
  credentials: { accessKeyId: 'AKIDNETTRACE', secretAccessKey: 'secret' },
});
const ask = (model, content) => ({ model, max_tokens: 8, messages: [{ role: 'user', content }] });

const cases = {
  'stripe-create': async () => (await stripe.customers.create({ email: 'a@example.com' })).id, // @line stripe-create
  'stripe-list': async () => (await stripe.customers.list({ limit: 1 })).data.length, // @line stripe-list
  'stripe-retry': async () => (await stripe.charges.create({ amount: 100, currency: 'usd' })).id, // @line stripe-retry
  'anthropic-create': async () => (await anthropic('anthropic-create').messages.create(ask('m', 'create'))).id, // @line anthropic-create
  'anthropic-retry': async () => (await anthropic('anthropic-retry').messages.create(ask('flaky', 'retry'))).id, // @line anthropic-retry
  'anthropic-stream': async () => (await anthropic('anthropic-stream').messages.stream(ask('m', 'stream')).finalMessage()).id, // @line anthropic-stream
  paginate: async () => (await octokit.paginate(octokit.rest.issues.listForRepo, { owner: 'o', repo: 'r', per_page: 1 })).length, // @line paginate
  upload: async () =>
    (await new Upload({ client: s3, params: { Bucket: 'bucket', Key: 'k', Body: Buffer.alloc(6 << 20, 1) } }).done()).ETag, // @line upload
};

(async () => {
  const out = {};
  for (const [name, run] of Object.entries(cases)) {
    try {
      out[name] = { ok: true, value: await run() };
    } catch (e) {
      out[name] = { ok: false, error: String(e?.message ?? e).slice(0, 300) };
    }
  }
  console.log(JSON.stringify(out));
})();
