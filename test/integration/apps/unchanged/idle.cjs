// A process that loads http and makes no request (a build script, a test runner's idle worker):
// the modules of perf_hooks it has loaded once the preload's body ran (at the `require`), which
// must be the program's own (issue 65: the preload's clock reads no `performance`).
require('node:http');
const perf = process.moduleLoadList.filter((m) => /perf/.test(m));
console.log('RESULT ' + JSON.stringify({ perf }));
