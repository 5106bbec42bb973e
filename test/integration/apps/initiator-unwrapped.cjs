// Requests made without the preload's wrappers of http.request/get, each on a line marked
// `// @line NAME`: a CommonJS program that takes `get` from `import('node:http')` before its first
// request (the named export is bound before the hooks are in place), and a ClientRequest
// constructed directly. BASE: the test's HTTP server.
const base = process.env.BASE;

/** Resolves when the response has been read. */
const done = (req) => new Promise((resolve, reject) => req.on('response', (res) => res.resume().on('end', resolve)).on('error', reject));

(async () => {
  const { get, ClientRequest } = await import('node:http');
  await done(get(`${base}/c/named-get`)); // @line named-get
  const req = new ClientRequest(`${base}/c/client-request`); // @line client-request
  req.end();
  await done(req);
  console.log('done');
})();
