// For runPriority.test.mjs: prints this program's priority and its parent's (the collector, which
// lowers its own once the program runs: polled until it did, for 5 s), after one HTTP request.
import { get } from 'node:http';
import { getPriority } from 'node:os';

await new Promise((resolve, reject) => get(process.env.PRIORITY_URL, (res) => res.resume().on('end', resolve)).on('error', reject));
const until = Date.now() + 5000;
while (getPriority(process.ppid) === getPriority() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
console.log(JSON.stringify({ own: getPriority(), parent: getPriority(process.ppid) }));
