// Prints what a program can see of its own request and response objects (own keys, symbols
// included, and their enumerability; util.inspect with showHidden): traced and untraced runs
// must print the same.
const http = require('node:http');
const util = require('node:util');
const urls = JSON.parse(process.env.NT_URLS);
const keys = (o) => Reflect.ownKeys(o).map((k) => `${String(k)}:${Object.getOwnPropertyDescriptor(o, k).enumerable}`);
const shape = (o) => util.inspect(o, { showHidden: true, depth: 0 }).replace(/\d+/g, '#');
http
  .get(`${urls.http}/many?i=0&size=1`, (res) => {
    res.resume();
    res.on('end', () => {
      const req = res.req;
      console.log(JSON.stringify({ req: keys(req), res: keys(res), reqShape: shape(req), resShape: shape(res) }));
      process.exit(0);
    });
  })
  .on('error', (e) => {
    console.error(e);
    process.exit(1);
  });
