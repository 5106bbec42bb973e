// A 3-hop redirect chain, followed by hand with http and automatically by fetch.
import http from 'node:http';
const urls = JSON.parse(process.env.NT_URLS);

function get(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve(res));
      })
      .on('error', reject);
  });
}
let url = `${urls.http}/r/3`;
for (let i = 0; i < 5; i++) {
  const res = await get(url);
  if (res.statusCode < 300 || res.statusCode >= 400) break;
  url = new URL(res.headers.location, url).href;
}
const viaFetch = await fetch(`${urls.http}/r/3`);
await viaFetch.text();
console.log('done', viaFetch.url);
