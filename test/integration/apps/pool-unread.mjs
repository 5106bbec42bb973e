// A fetch whose body the program never reads keeps its connection: the next fetch on a
// one-connection pool waits for it until the program's own timeout (AbortSignal.timeout).
import { Agent, fetch as undiciFetch } from 'undici';

const base = process.env.NT_BASE;
const global = process.argv[2] === 'global';
const agent = new Agent({ connections: 1 });
const get = (path, init) => (global ? fetch : undiciFetch)(`${base}${path}`, { dispatcher: agent, ...init });
const keepAlive = setTimeout(() => {}, 10_000);
const held = await get('/big');
console.log('held', held.status);
let outcome;
const t0 = performance.now();
try {
  await get('/small', { signal: AbortSignal.timeout(1500) });
  outcome = 'answered';
} catch (err) {
  outcome = `${err.name} after ${Math.round(performance.now() - t0)} ms`;
}
console.log(outcome);
await agent.destroy();
clearTimeout(keepAlive);
