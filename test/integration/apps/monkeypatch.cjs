// A program that monkey-patches http.request itself: it must behave as without tracing.
const http = require('node:http');
const urls = JSON.parse(process.env.NT_URLS);
const original = http.request;
let calls = 0;
http.request = function patched(...args) {
  calls++;
  return original.apply(this, args);
};
console.log('name', original.name, 'length', original.length);
const req = http.request(`${urls.http}/patched`, (res) => {
  res.setEncoding('utf8');
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => {
    console.log('calls', calls, 'status', res.statusCode, 'body', body.length);
    // Tracing adds no property of its own to the program's objects (key order of Node's internal
    // fields may differ when a listener is added earlier, so the keys are compared sorted).
    console.log('res keys', Object.keys(res).sort().join(','));
    console.log('req keys', Object.keys(req).sort().join(','));
    console.log(
      'socket keys',
      Object.keys(res.socket ?? {})
        .sort()
        .join(','),
    );
    process.exitCode = 3;
  });
});
req.end();
