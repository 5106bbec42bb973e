'use strict';
// A preload that busy-waits SPIN_US µs (default 10) at the start of every http and undici request
// and does nothing else (bench/cpu-split.mjs): work of a known size, to see how this machine
// charges a program for it in client CPU and wall time.
const dc = require('node:diagnostics_channel');

const ms = Number(process.env.SPIN_US ?? 10) / 1000;
const spin = () => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
dc.subscribe('http.client.request.start', spin);
dc.subscribe('undici:request:create', spin);
