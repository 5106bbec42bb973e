// A program that makes a request, works for a while, then makes another (otlp.test.mjs: with
// `nettrace run --otlp` the first request's spans reach the backend while the program runs).
import http from 'node:http';
const urls = JSON.parse(process.env.NT_URLS);

const get = (url) =>
  new Promise((resolve, reject) => {
    http.get(url, (res) => res.resume().on('end', () => resolve(res.statusCode))).on('error', reject);
  });

await get(`${urls.http}/live-1`);
await new Promise((r) => setTimeout(r, 4000));
await get(`${urls.http}/live-2`);
console.log(JSON.stringify({ endedAt: Date.now() }));
