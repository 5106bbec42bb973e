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
    // Tracing must not show on the program's own objects.
    console.log('res keys', Object.keys(res).join(','));
    console.log('req keys', Object.keys(req).join(','));
    console.log('socket keys', Object.keys(res.socket ?? {}).join(','));
    process.exitCode = 3;
  });
});
req.end();
