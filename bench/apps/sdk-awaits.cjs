// bench/sdk-context.mjs's program: one call (a Stripe customer created, NT_SDK=1, or the same
// POST made with `fetch`), then a loop of `await`s timed by CPU; prints ns per iteration (two
// `await`s), then waits NT_PAUSE_MS and times the loop again (0: once).
const Stripe = require('stripe');
const port = Number(process.env.PORT);
const f = async (i) => {
  await null;
  return i;
};
async function loop(n) {
  let s = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) s += await f(i);
  const c = process.cpuUsage(c0);
  return (((c.user + c.system) / n) * 1000 + s * 0).toFixed(1);
}
(async () => {
  if (process.env.NT_SDK === '1') {
    const stripe = new Stripe('sk_test_bench', { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 });
    await stripe.customers.create({ email: 'bench@example.com' });
  } else {
    await fetch(`http://127.0.0.1:${port}/v1/customers`, { method: 'POST' }).then((r) => r.text());
  }
  await loop(2e5);
  const out = [await loop(2e6)];
  const pause = Number(process.env.NT_PAUSE_MS ?? 0);
  if (pause > 0) {
    await new Promise((r) => setTimeout(r, pause));
    out.push(await loop(2e6));
  }
  console.log(out.join(' '));
})();
