// A program whose own code throws after a request: output and exit code must be unchanged.
const http = require('node:http');
const urls = JSON.parse(process.env.NT_URLS);
http.get(`${urls.http}/before-throw`, (res) => {
  res.resume();
  res.on('end', () => {
    console.log('got', res.statusCode);
    throw new Error('boom from the program');
  });
});
