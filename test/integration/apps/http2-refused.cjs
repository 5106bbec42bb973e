// HTTP/2 sessions that never became ready, three streams opened at once on each: one to a closed
// port (the connect is refused before any frame is exchanged), one to a server whose certificate
// the program does not trust (the TLS handshake fails). The program sees each stream fail.
const http2 = require('node:http2');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const certs = path.join(__dirname, '..', '..', 'fixtures', 'certs');

function get(session, p) {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': p });
    stream.on('error', (e) => resolve({ code: e.code, cause: e.cause?.code }));
    stream.on('close', () => resolve({ closed: stream.rstCode }));
    stream.end();
  });
}

async function three(origin, name) {
  const session = http2.connect(origin);
  let sessionError;
  session.on('error', (e) => (sessionError = e.code));
  const results = await Promise.all([1, 2, 3].map((n) => get(session, `/${name}/${n}`)));
  session.close();
  return { results, sessionError };
}

// A port that was just free: listened on, then closed.
const probe = net.createServer().listen(0, '127.0.0.1', () => {
  const port = probe.address().port;
  probe.close(async () => {
    const refused = await three(`http://127.0.0.1:${port}`, 'refused');
    const server = http2.createSecureServer({
      key: fs.readFileSync(path.join(certs, 'localhost.key')),
      cert: fs.readFileSync(path.join(certs, 'localhost.pem')),
    });
    server.listen(0, '127.0.0.1', async () => {
      const untrusted = await three(`https://localhost:${server.address().port}`, 'untrusted');
      server.close();
      console.log(JSON.stringify({ port, ...refused, untrusted }));
    });
  });
});
