// HTTP/2: a session to a closed port with three streams opened at once. The connect is refused
// before any frame is exchanged; the program sees each stream fail.
const http2 = require('node:http2');
const net = require('node:net');

function get(session, p) {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': p });
    stream.on('error', (e) => resolve({ code: e.code, cause: e.cause?.code }));
    stream.on('close', () => resolve({ closed: stream.rstCode }));
    stream.end();
  });
}

// A port that was just free: listened on, then closed.
const probe = net.createServer().listen(0, '127.0.0.1', () => {
  const port = probe.address().port;
  probe.close(async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    let sessionError;
    session.on('error', (e) => (sessionError = e.code));
    const results = await Promise.all([1, 2, 3].map((n) => get(session, `/refused/${n}`)));
    session.close();
    console.log(JSON.stringify({ port, results, sessionError }));
  });
});
