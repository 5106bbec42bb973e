// Loaded with --require before the preload (so the preload binds these wrappers as its
// originals): counts the writes to a pipe that failed with EAGAIN, and prints once the program's
// work is done ('beforeExit': the preload's exit flush, which runs as 'exit' is emitted, before any
// 'exit' listener, is not counted), one line on stderr: `writeStalls {"failures":N,"spanMs":M}`
// (M: from the first failure to the last).
const fs = require('node:fs');
let failures = 0;
let first = 0;
let last = 0;
for (const name of ['writeSync', 'writevSync']) {
  const original = fs[name];
  fs[name] = function (...args) {
    try {
      return original.apply(this, args);
    } catch (err) {
      if (err && err.code === 'EAGAIN') {
        const t = performance.now();
        if (failures++ === 0) first = t;
        last = t;
      }
      throw err;
    }
  };
}
process.once('beforeExit', () => {
  process.stderr.write(`writeStalls ${JSON.stringify({ failures, spanMs: Math.round(last - first) })}\n`);
});
