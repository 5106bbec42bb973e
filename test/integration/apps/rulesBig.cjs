// For rules-budget.test.mjs: a program traced with a large rule set. It serves http on a local
// port, requests /deep and /other there, then starts a child process that requests /deep-child
// (the child inherits the preload's configuration), and prints "done".
const http = require('node:http');
const { spawn } = require('node:child_process');

const get = (port, path) =>
  new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });

const server = http.createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  try {
    await get(port, '/deep');
    await get(port, '/other');
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('node:http').get({ host: '127.0.0.1', port: ${port}, path: '/deep-child' }, (r) => { r.resume(); r.on('end', () => process.exit(0)); }).on('error', () => process.exit(3));`,
      ],
      { stdio: 'inherit' },
    );
    const code = await new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', resolve);
    });
    console.log(`done child ${code}`);
  } catch (err) {
    console.log(`failed ${err.code ?? err.message}`);
    process.exitCode = 1;
  } finally {
    server.close();
  }
});
