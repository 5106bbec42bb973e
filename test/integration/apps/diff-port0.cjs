// A program with its own server on a random port (port 0, as tests and in-process servers do),
// for `nettrace diff` across two runs (test/integration/diff.test.mjs): NT_ROUNDS rounds, each
// calling three routes of that server at once, one keep-alive client (Agent) per route; the server
// adds NT_SLOW_MS to /users/:id. A port equal to NT_AVOID_PORT (the other run's) is given back and
// another taken, so the two runs differ in port as two real runs do. Prints its port and the statuses.
const http = require('node:http');

const rounds = Number(process.env.NT_ROUNDS || 12);
const slowMs = Number(process.env.NT_SLOW_MS || 0);
const avoid = Number(process.env.NT_AVOID_PORT || 0);

const server = http.createServer((req, res) => {
  const delay = req.url.startsWith('/users/') ? slowMs : 0;
  setTimeout(() => res.end(JSON.stringify({ url: req.url })), delay);
});

function listen() {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function get(agent, url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (err) => resolve(err.code));
  });
}

(async () => {
  let port = await listen();
  while (port === avoid) {
    await new Promise((r) => server.close(r));
    port = await listen();
  }
  const target = `http://127.0.0.1:${port}`;
  const clients = [0, 1, 2].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const statuses = [];
  for (let i = 0; i < rounds; i++) {
    const id = 1000 + i * 7;
    statuses.push(
      ...(await Promise.all([
        get(clients[0], `${target}/users/${id}`),
        get(clients[1], `${target}/items/${id}?page=${i}`),
        get(clients[2], `${target}/health`),
      ])),
    );
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const c of clients) c.destroy();
  server.close();
  console.log(JSON.stringify({ port, statuses }));
})();
