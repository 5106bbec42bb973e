// For bench/rules-budget.mjs: times the program's own http.request() calls (the rules decide
// inside them) to a 4,096-character URL on a local server; prints one line of JSON:
// { "callMs": [wall ms per call, …], "cpuMs": [CPU ms per call, …] } after a warm-up. NT_FILL:
// what the path repeats (default "a").
const http = require('node:http');
const { performance } = require('node:perf_hooks');

const N = Number(process.env.NT_N || 60);
const WARM = 20;
const fill = process.env.NT_FILL || 'a';
const server = http.createServer((req, res) => res.end('ok'));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const head = `http://h.example.com:${port}`;
  const path = '/' + fill.repeat(4096).slice(0, 4096 - head.length - 1);
  const times = [];
  const cpu = [];
  for (let k = 0; k < WARM + N; k++) {
    await new Promise((resolve, reject) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      // The URL's host is h.example.com (what the rules read); the connection goes to the local server.
      const req = http.request(
        {
          host: 'h.example.com',
          port,
          path,
          agent,
          lookup: (h, o, cb) => (o && o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)),
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (k >= WARM) {
        times.push(wall);
        cpu.push((c.user + c.system) / 1000);
      }
      req.on('error', reject);
      req.end();
    });
  }
  console.log(JSON.stringify({ callMs: times, cpuMs: cpu }));
  agent.destroy();
  server.close();
});
