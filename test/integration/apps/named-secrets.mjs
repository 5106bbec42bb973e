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
// An OAuth callback: the code and state come back in the query.
const r3 = await fetch(`${base}/oauth/callback?code=SECRET-OAUTH-CODE&state=kept-state`);
await r3.text();
console.log('done');
