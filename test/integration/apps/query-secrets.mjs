// Requests whose URLs carry secrets in the query (and a redirect whose Location does), through
// fetch, http and axios. Prints what the server answered so the test can compare.
import http from 'node:http';
import axios from 'axios';

const base = process.env.SECRETS_BASE;
const r1 = await fetch(`${base}/a?api_key=SECRET-APIKEY-1&page=2`);
await r1.text();
await new Promise((resolve, reject) => {
  http
    .get(`${base}/b?Access_Token=SECRET-ACCESS-2&sig=SECRET-SIG-3&x=1#token=SECRET-FRAG-4`, (res) => {
      res.resume();
      res.on('end', resolve);
    })
    .on('error', reject);
});
const r3 = await axios.get(`${base}/c`, { params: { password: 'SECRET-PW-5', q: 'kept', mytoken: 'SECRET-EXTRA-6' } });
// The redirect target's URL carries a token: it is redacted in the Location header too.
const r4 = await fetch(`${base}/redirect`);
await r4.text();
console.log(JSON.stringify({ statuses: [r1.status, 200, r3.status, r4.status] }));
