// DNS scenarios for the diagnosis test, run with the DNS message trace (--dns-trace) against a
// silent first nameserver and a second that answers: a name that does not exist (NXDOMAIN after
// the failover) and a name that resolves only after the failover (slow DNS). The HTTP server is
// at 127.0.0.1:NT_HTTP_PORT.
const http = require('node:http');
const port = Number(process.env.NT_HTTP_PORT);

function get(url) {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', (e) => resolve(e.code));
  });
}

(async () => {
  const seen = await Promise.all([get(`http://nx.test:${port}/diag/dns-nxdomain`), get(`http://slow.test:${port}/diag/slow-dns`)]);
  console.log(JSON.stringify(seen));
})();
