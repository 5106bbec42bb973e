// Requests carrying the secrets a review found recorded in clear (issue 34, item 7): headers and
// query parameters by their names, through fetch (undici) and http; the server answers with
// secret response headers. Its own command line carries secret options too (the test passes them).
import http from 'node:http';

const base = process.env.SECRETS_BASE;
const headers = JSON.parse(process.env.SECRET_HEADERS);
const query = JSON.parse(process.env.SECRET_QUERY);
const qs = Object.entries(query)
  .map(([k, v]) => `${k}=${v}`)
  .join('&');

const r1 = await fetch(`${base}/fetch?${qs}&page=2`, { headers });
await r1.text();
await new Promise((resolve, reject) => {
  http
    .get(`${base}/http?${qs}&page=3`, { headers }, (res) => {
      res.resume();
      res.on('end', resolve);
    })
    .on('error', reject);
});
// OAuth callbacks: the code comes back in the query, with the state or to a callback path; and a
// `code` that is no credential.
for (const path of ['/cb?code=SECRET-OAUTH-CODE-1&state=kept-state', '/login/callback?code=SECRET-OAUTH-CODE-2', '/status?code=500']) {
  const r = await fetch(`${base}${path}`);
  await r.text();
}
console.log('done');
