// Proxies: an HTTP forward proxy (absolute-form), HTTPS through a CONNECT tunnel (undici
// ProxyAgent), and an HTTPS proxy (TLS inside TLS). The proxies run in the test (servers.mjs).
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { ProxyAgent, request } from 'undici';

const urls = JSON.parse(process.env.NT_URLS);
const certs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'certs');
const ca = readFileSync(join(certs, 'ca.pem'));
const { hp, sp } = JSON.parse(process.env.NT_PROXIES);

// 1. Forward proxy, absolute-form, with credentials.
await new Promise((resolve, reject) => {
  http
    .get(
      { host: '127.0.0.1', port: hp, path: `${urls.http}/forward?size=42`, headers: { 'proxy-authorization': 'Basic dXNlcjpwYXNz' } },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    )
    .on('error', reject);
});
// 2. HTTPS target through a CONNECT tunnel on an HTTP proxy.
const viaHttpProxy = new ProxyAgent({ uri: `http://127.0.0.1:${hp}`, token: 'Basic c2VjcmV0OnRva2Vu', requestTls: { ca } });
const r2 = await request(`${urls.https}/tunnel?size=43`, { dispatcher: viaHttpProxy });
await r2.body.text();
await viaHttpProxy.close();
// 3. HTTPS target through an HTTPS proxy: TLS inside TLS.
const viaHttpsProxy = new ProxyAgent({ uri: `https://localhost:${sp}`, proxyTls: { ca }, requestTls: { ca } });
const r3 = await request(`${urls.https}/tls-in-tls?size=44`, { dispatcher: viaHttpsProxy });
await r3.body.text();
await viaHttpsProxy.close();

console.log('done');
