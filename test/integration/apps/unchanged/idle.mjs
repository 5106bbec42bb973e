// idle.cjs as an ES module: the preload's body runs at the process's start here.
import 'node:http';
const perf = process.moduleLoadList.filter((m) => /perf/.test(m));
console.log('RESULT ' + JSON.stringify({ perf }));
