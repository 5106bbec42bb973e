import { build } from 'esbuild';
const r = await build({ entryPoints: ['src/cli/main.ts'], bundle: true, platform: 'node', format: 'cjs', write: false, metafile: true, outfile: '/tmp/o.cjs', loader: { '.mjs': 'text', '.pem': 'text', '.key': 'text' }, external: ['./wire'] });
const inputs = r.metafile.inputs;
// static (import-statement) reachability from main, printing a path to each target
const start = 'src/cli/main.ts'; const prev = new Map([[start, null]]); const q=[start];
while (q.length) { const f = q.shift(); for (const imp of inputs[f]?.imports ?? []) if (imp.kind === 'import-statement' && !prev.has(imp.path)) { prev.set(imp.path, f); q.push(imp.path); } }
for (const t of process.argv.slice(2)) { if (!prev.has(t)) { console.log(t, 'not eager'); continue; } const chain=[]; for (let c=t; c; c=prev.get(c)) chain.push(c); console.log(chain.reverse().join(' -> ')); }
