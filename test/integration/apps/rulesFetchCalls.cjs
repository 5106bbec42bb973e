// fetch() calls as the trace rules see them at the call (docs/rules.md): a `data:` URL and URLs
// that do not parse make no undici request, so no rule may count them; a method given in lower
// case is read as fetch normalizes it; a URL object and a Request are read like a string.
const base = JSON.parse(process.env.NT_URLS).http;

async function main() {
  await (await fetch('data:text/plain,hi')).text();
  // The last two start plainly with the scheme and fail in the port or the IPv4 address, which the
  // wrapper's cheap check (src/preload/undici/plainUrl.ts) must leave to URL.canParse.
  for (const bad of ['http://[bad', 'not a url', ' http://exa mple.com/', 'http://example.com:99999/', 'http://1.2.3.256/']) {
    await fetch(bad).then(
      () => console.log(`unexpected: ${bad} fetched`),
      () => {},
    );
  }
  await (await fetch(`${base}/keep?c=post`, { method: 'post', body: 'x' })).text();
  await (await fetch(new URL(`${base}/skip?c=get`))).text();
  await (await fetch(new Request(`${base}/keep?c=put`, { method: 'put', body: 'y' }))).text();
  // Spaces before an upper-case scheme: fetch trims and lower-cases them (the URL is parsed in full).
  await (await fetch(`  HTTP${base.slice(4)}/keep?c=upper`)).text();
  console.log('done');
}
main().catch((err) => {
  console.log(`failed: ${err.stack}`);
  process.exitCode = 1;
});
