// A child process and a worker thread, each making a request of its own.
const http = require('node:http');
const { spawnSync } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const urls = JSON.parse(process.env.NT_URLS);

const get = (url) =>
  new Promise((resolve, reject) =>
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject),
  );
(async () => {
  await get(`${urls.http}/parent`);
  const child = spawnSync(
    process.execPath,
    ['-e', `require('node:http').get(${JSON.stringify(urls.http + '/child')}, (r) => r.resume())`],
    { stdio: 'inherit' },
  );
  await new Promise((resolve, reject) => {
    const w = new Worker(
      `require('node:http').get(${JSON.stringify(urls.http + '/worker')}, (r) => { r.resume(); r.on('end', () => process.exit(0)); })`,
      { eval: true },
    );
    w.on('exit', resolve);
    w.on('error', reject);
  });
  console.log('child exit', child.status);
})();
