// Makes one GET of NT_URL and prints its status as JSON.
const http = require('node:http');
http
  .get(process.env.NT_URL, (res) => {
    res.resume();
    res.on('end', () => console.log(JSON.stringify({ status: res.statusCode })));
  })
  .on('error', (err) => console.log(JSON.stringify({ error: err.code })));
