// An ESM program using named imports from node:http.
import { get } from 'node:http';
const urls = JSON.parse(process.env.NT_URLS);
await new Promise((resolve, reject) =>
  get(`${urls.http}/esm`, (res) => {
    res.resume();
    res.on('end', resolve);
  }).on('error', reject),
);
console.log('esm done');
