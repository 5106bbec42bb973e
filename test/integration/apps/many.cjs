// Makes NT_COUNT sequential keep-alive requests with http and then fetch, and prints a digest of
// what it got, so traced and untraced runs can be compared. Request i asks for (i + 1) × NT_SIZE
// (default 1) bytes.
const http = require('node:http');
const urls = JSON.parse(process.env.NT_URLS);
const n = Number(process.env.NT_COUNT ?? 20);
const unit = Number(process.env.NT_SIZE ?? 1);
const agent = new http.Agent({ keepAlive: true });
const get = (url) =>
  new Promise((resolve, reject) =>
    http
      .get(url, { agent }, (res) => {
        let len = 0;
        res.on('data', (d) => (len += d.length));
        res.on('end', () => resolve(len));
      })
      .on('error', reject),
  );
(async () => {
  let total = 0;
  for (let i = 0; i < n; i++) total += await get(`${urls.http}/many?i=${i}&size=${(i + 1) * unit}`);
  for (let i = 0; i < n; i++)
    total += (await (await fetch(`${urls.http}/many-fetch?i=${i}&size=${(i + 1) * unit}`)).arrayBuffer()).byteLength;
  agent.destroy();
  console.log('total', total);
  // NT_WAIT_STDIN: stay alive until a line arrives on stdin (a test's cue that its relay is open).
  if (process.env.NT_WAIT_STDIN) process.stdin.once('data', () => process.stdin.destroy());
})();
