// fetch() to ports the Fetch standard blocks ("bad ports"): undici rejects the call before it makes
// a request, so none of its channels hears of it. Prints each error the program got as a JSON
// line, to compare with the trace; NT_REFUSED is a port nothing listens on (not a bad one).
const refused = Number(process.env.NT_REFUSED);

async function loadProfile() {
  return fetch('http://127.0.0.1:6000/profile?token=s3cret'); // line 7: the bad-port call
}

async function main() {
  const seen = [];
  const keep = (label) => (err) => seen.push({ label, message: err.message, cause: err.cause?.message, code: err.cause?.code });
  await loadProfile().then(() => console.log('unexpected: fetched'), keep('get'));
  await fetch(new Request('http://localhost:10080/upload', { method: 'post', body: 'x' })).then(() => {}, keep('post')); // line 14
  await fetch(`http://127.0.0.1:${refused}/open`).then(() => {}, keep('refused'));
  for (const s of seen) console.log(JSON.stringify(s));
  console.log('done');
}
main().catch((err) => {
  console.log(`failed: ${err.stack}`);
  process.exitCode = 1;
});
