// Summarizes V8 .cpuprofile files (from `node --cpu-prof`) to find what a tracer costs: the share
// of busy (non-idle) time spent under any frame whose script URL contains `focus` (e.g.
// "preload.cjs"), and that time broken down two ways:
//   "own"   by the deepest focus frame on the stack: the function's self time plus the time of
//           non-focus code it calls (JSON.stringify, Buffer, stack capture, fs.writeSync, ...),
//           so builtins are charged to the tracer function that called them. A sample is NOT
//           charged to the tracer when the path from that frame to the leaf passes through the
//           HTTP/net/undici stack itself (a wrapper such as `http.get`'s calling the original
//           request code): that is the application's own work, which runs untraced too;
//   "entry" by the outermost focus frame: which hook the time entered the tracer through.
//   node bench/lib/cpuprofile.mjs [--focus preload.cjs] FILE.cpuprofile...
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Frames of the network stack the tracer wraps; time under them is not the tracer's own. */
const NETWORK = /^node:(_http|http|https|net|tls|dns|internal\/(http|streams|net|tls|deps\/undici|url))|undici/;

function label(cf) {
  const name = cf.functionName || '(anonymous)';
  const file = cf.url ? basename(cf.url.replace(/^file:\/\//, '')) : '';
  return file ? `${name} ${file}:${cf.lineNumber + 1}` : name;
}

export function analyze(files, { focus }) {
  const own = new Map();
  const entry = new Map();
  const selfAll = new Map();
  let total = 0;
  let idle = 0;
  let inFocus = 0;
  for (const f of files) {
    const p = JSON.parse(readFileSync(f, 'utf8'));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const cache = new Map(); // node id -> [deepestFocusLabel, outermostFocusLabel]
    const focusOf = (id) => {
      if (cache.has(id)) return cache.get(id);
      let deepest;
      let outer;
      let passedNetwork = false;
      for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
        const cf = byId.get(cur).callFrame;
        if (cf.url && cf.url.includes(focus)) {
          if (deepest === undefined && passedNetwork) break; // wrapper -> original: not tracer time
          deepest ??= label(cf);
          outer = label(cf);
        } else if (deepest === undefined && NETWORK.test(cf.url)) {
          passedNetwork = true;
        }
      }
      const r = [deepest, outer];
      cache.set(id, r);
      return r;
    };
    const deltas = p.timeDeltas ?? [];
    for (let i = 0; i < p.samples.length; i++) {
      const us = deltas[i + 1] ?? deltas[i] ?? 0; // time until the next sample
      const node = byId.get(p.samples[i]);
      const name = node.callFrame.functionName;
      total += us;
      if (name === '(idle)') {
        idle += us;
        continue;
      }
      const l = label(node.callFrame);
      selfAll.set(l, (selfAll.get(l) ?? 0) + us);
      const [d, o] = focusOf(node.id);
      if (d) {
        inFocus += us;
        own.set(d, (own.get(d) ?? 0) + us);
        entry.set(o, (entry.get(o) ?? 0) + us);
      }
    }
  }
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { total, idle, busy: total - idle, inFocus, own: sorted(own), entry: sorted(entry), selfAll: sorted(selfAll) };
}

/**
 * The narrow measure: busy time whose nearest frame with a script URL is in `focus` — the focus
 * functions' self time and the builtins (no URL) they call directly, not the JavaScript they call.
 * For a tracer that wraps `Module._load` or an emitter, `analyze`'s "own" would charge it all the
 * program's work under the wrapper. Returns {busy, self} in µs over `files`.
 */
export function selfIn(files, { focus }) {
  let busy = 0;
  let self = 0;
  for (const f of files) {
    const p = JSON.parse(readFileSync(f, 'utf8'));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const charged = new Map();
    const isFocus = (id) => {
      if (charged.has(id)) return charged.get(id);
      let cur = id;
      while (cur !== undefined && !byId.get(cur).callFrame.url) cur = parent.get(cur);
      const r = cur !== undefined && byId.get(cur).callFrame.url.includes(focus);
      charged.set(id, r);
      return r;
    };
    const deltas = p.timeDeltas ?? [];
    for (let i = 0; i < p.samples.length; i++) {
      const us = deltas[i + 1] ?? deltas[i] ?? 0;
      const node = byId.get(p.samples[i]);
      if (node.callFrame.functionName === '(idle)') continue;
      busy += us;
      if (isFocus(node.id)) self += us;
    }
  }
  return { busy, self };
}

export function summarizeProfiles(files, { focus = 'preload.cjs', top = 15 } = {}) {
  if (files.length === 0) return '(no profiles)';
  const a = analyze(files, { focus });
  const pct = (us) => `${((100 * us) / a.busy).toFixed(1)}%`;
  const ms = (us) => `${(us / 1000).toFixed(0)} ms`;
  const out = [];
  out.push(`busy ${ms(a.busy)} of ${ms(a.total)} profiled; under ${focus}: ${ms(a.inFocus)} = ${pct(a.inFocus)} of busy time`);
  out.push(`  by ${focus} function (self + non-${focus} callees), % of busy:`);
  for (const [k, v] of a.own.slice(0, top)) out.push(`    ${pct(v).padStart(6)}  ${k}`);
  out.push(`  by entry into ${focus}, % of busy:`);
  for (const [k, v] of a.entry.slice(0, 8)) out.push(`    ${pct(v).padStart(6)}  ${k}`);
  out.push('  top self time, whole process, % of busy:');
  for (const [k, v] of a.selfAll.slice(0, 12)) out.push(`    ${pct(v).padStart(6)}  ${k}`);
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let focus = 'preload.cjs';
  const fi = args.indexOf('--focus');
  if (fi >= 0) focus = args.splice(fi, 2)[1];
  console.log(summarizeProfiles(args, { focus }));
}
