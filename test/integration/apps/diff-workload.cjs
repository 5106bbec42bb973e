// The workload `nettrace diff` compares (test/integration/diff.test.mjs): NT_ROUNDS rounds, each
// calling three routes of the server at NT_TARGET at once, one keep-alive client (Agent) per
// route, then idle for NT_GAP_MS.
const http = require('node:http');

const target = process.env.NT_TARGET;
const rounds = Number(process.env.NT_ROUNDS || 12);
const gap = Number(process.env.NT_GAP_MS || 1300);
const clients = ['users', 'items', 'health'].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));

function get(agent, path) {
  return new Promise((resolve) => {
    const req = http.get(`${target}${path}`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (err) => resolve(err.code));
  });
}

(async () => {
  const statuses = [];
  for (let i = 0; i < rounds; i++) {
    const id = 1000 + i * 7;
    statuses.push(
      ...(await Promise.all([get(clients[0], `/users/${id}`), get(clients[1], `/items/${id}?page=${i}`), get(clients[2], '/health')])),
    );
    if (i < rounds - 1) await new Promise((r) => setTimeout(r, gap));
  }
  for (const c of clients) c.destroy();
  console.log(JSON.stringify({ statuses }));
})();
