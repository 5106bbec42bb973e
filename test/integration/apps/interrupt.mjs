// The program of test/integration/runInterrupt.test.mjs: an http.get and a fetch to a server that
// holds its answers; prints "waiting" once the server has both, then waits to be interrupted.
import http from 'node:http';

const url = process.env.INTERRUPT_URL;
http.get(`${url}/http`).on('error', () => {});
fetch(`${url}/fetch`).catch(() => {});
setInterval(() => {}, 1000);
