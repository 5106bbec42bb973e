'use strict';
// bench/servers.mjs's "bare hooks" condition: the server channels the preload subscribes to, with
// empty subscribers (what Node's channels cost a server by themselves).
const dc = require('node:diagnostics_channel');

const noop = () => {};
for (const name of ['http.server.request.start', 'http.server.response.finish', 'http2.server.stream.start']) dc.subscribe(name, noop);
