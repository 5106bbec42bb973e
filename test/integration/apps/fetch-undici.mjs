// Global fetch (Node's bundled undici) and userland undici: request, fetch, Pool.
import { request, fetch as undiciFetch, Pool } from 'undici';
const urls = JSON.parse(process.env.NT_URLS);

const r1 = await fetch(`${urls.http}/global-fetch?size=321`);
const t1 = await r1.text();
const r2 = await request(`${urls.http}/undici-request?size=654`);
const t2 = await r2.body.text();
const r3 = await undiciFetch(`${urls.http}/undici-fetch?size=77`);
const t3 = await r3.text();
const pool = new Pool(urls.http, { connections: 1 });
const r4 = await pool.request({ path: '/pool-1?size=10', method: 'GET' });
await r4.body.text();
const r5 = await pool.request({ path: '/pool-2?size=20', method: 'GET' });
await r5.body.text();
await pool.close();
console.log(JSON.stringify([t1.length, t2.length, t3.length]));
