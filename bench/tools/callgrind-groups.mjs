// Where a preload's instructions go, by function group: reads the callgrind outputs that
// `bench/callgrind.mjs --out-dir=DIR` kept (DIR/<condition>-<requests>.out), runs callgrind_annotate
// on each, and prints, per group of functions, the Ir per request of condition B over condition A:
// ((B@large − B@small) − (A@large − A@small)) / (large − small).
//
//   node bench/tools/callgrind-groups.mjs DIR <A index> <B index> <small> <large> [--top=N]
//   node bench/tools/callgrind-groups.mjs DIR_A:<index> DIR_B:<index> <small> <large>   (two directories)
//   … --whole: B@large − A@large, the whole processes (Ir, not per request)
//
// Outputs made with a cache or branch simulation (CALLGRIND_FLAGS) are read by their Ir.
//
// Only C++ and V8 builtins have names in callgrind; code V8 compiled at run time is a bare address
// (the "JIT-compiled code" group), unless the runs were made with `--node-flags='--single-threaded
// --predictable-gc-schedule --hash-seed=1 --random-seed=1 --perf-basic-prof --no-compact-code-space'`
// on this machine: then each
// output's /tmp/perf-<pid>.map names that code by JS function, Net Trace's apart from the rest
// (lines are dropped from the names, so two bundles compare function by function; what V8 inlined
// counts in its caller). The groups are regular expressions on the names
// (GROUPS below, first match wins). `detail::sprp` and `HashSeed` are V8's per-process random hash
// seed set-up at startup: 5–22 M Ir that differ from run to run, ±34,000 Ir per request at a
// 500-request difference; they are shown apart and left out of the corrected total (with
// `--hash-seed=1`, callgrind.mjs's default since 2026-11-23, they are the same in every run, and
// so are the hash tables' layouts, which the correction cannot take out).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const top = Number((process.argv.find((a) => a.startsWith('--top=')) ?? '--top=0').slice(6));
let fileA;
let fileB;
let small;
let large;
if (args[0].includes(':') && args[1].includes(':')) {
  const [da, ia] = args[0].split(':');
  const [db, ib] = args[1].split(':');
  fileA = (n) => join(da, `${ia}-${n}.out`);
  fileB = (n) => join(db, `${ib}-${n}.out`);
  [small, large] = args.slice(2).map(Number);
} else {
  const [dir, a, b] = args;
  fileA = (n) => join(dir, `${a}-${n}.out`);
  fileB = (n) => join(dir, `${b}-${n}.out`);
  [small, large] = args.slice(3).map(Number);
}

/**
 * V8's names for the code it compiled at run time, from the perf map a run wrote with
 * `--perf-basic-prof` (/tmp/perf-<pid>.map; `--no-compact-code-space` keeps code where it was
 * compiled): sorted [start, size, name] entries, or undefined without a map.
 */
function perfMap(pid) {
  const file = `/tmp/perf-${pid}.map`;
  if (!existsSync(file)) return undefined;
  const entries = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [start, size, ...name] = line.split(' ');
    if (name.length > 0) entries.push([parseInt(start, 16), parseInt(size, 16), name.join(' ')]);
  }
  return entries.sort((x, y) => x[0] - y[0]);
}

/** The name of the code at `addr` in a perf map (binary search), or undefined. */
function jitName(entries, addr) {
  let lo = 0;
  let hi = entries.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid][0] <= addr) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (best < 0 || addr >= entries[best][0] + entries[best][1]) return undefined;
  // "JS:*name file:line:col" (optimized) and "JS:^name ..." (baseline) are one function; paths
  // and lines differ between bundles, so only the function and the file's base name are kept.
  return `JIT ${entries[best][2].replace(/^JS:[*^~+]?/, '').replace(/ (?:file:\/\/)?(?:\/[^ ]*\/)?([^/ :]+)(?::\d+)*$/, ' $1')}`;
}

/** Self Ir per function of one callgrind output (JIT code named when its run left a perf map). */
function load(file) {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', '--show=Ir', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const pid = /\(PID (\d+)/.exec(text)?.[1];
  const jit = pid ? perfMap(pid) : undefined;
  const out = new Map();
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!m || line.includes('PROGRAM TOTALS')) continue;
    let name = m[2].replace(/\s*\[[^\]]*\]\s*$/, '');
    const addr = jit && /^\?\?\?:0x([0-9a-f]+)$/.exec(name);
    if (addr) name = jitName(jit, parseInt(addr[1], 16)) ?? name;
    out.set(name, (out.get(name) ?? 0) + Number(m[1].replace(/,/g, '')));
  }
  return out;
}

const NOISE = 'run-to-run noise, not the tracer (V8 hash seed set-up: detail::sprp, HashSeed)';
const COMPILE = 'JIT compilation in the timed window (TurboFan, Sparkplug)';
const GROUPS = [
  [NOISE, /sprp|HashSeed/],
  ['JIT-compiled code: Net Trace (named from the perf map)', /^JIT .*(preload|rules)\.cjs$/],
  ['JIT-compiled code: Node, undici, the program (named from the perf map)', /^JIT /],
  [
    COMPILE,
    /^(?!.*Builtins_).*(compiler::|maglev|turboshaft|RegisterAllocat|InstructionSelector|CodeGenerator|Assembler|Pipeline|OptimizedCompilation|Compiler::|Deoptimiz|baseline::|BaselineBatchCompiler|Zone::|JSHeapBroker)/,
  ],
  [
    'stack capture (every request here: frames, source positions, line ends)',
    /StackTrace|CallSite|StackFrame|FrameSummary|ErrorUtils|CaptureSimple|JavaScriptFrame|CaptureAndSet|ErrorStack|SourcePosition|GetBytecodeOffset|TranslatedState|TranslatedFrame|TranslatedValue|Summarize|LineEnds/,
  ],
  ['JSON.stringify', /Json|JSON/],
  [
    'strings (concat, flatten, hash, UTF-8, number to text)',
    /String|Utf8|utf8|Flatten|unibrow|SeqString|Latin1|Internalize|simdutf|FastDtoa|DoubleToCString|NumberToString/,
  ],
  [
    'GC (scavenges, marking, allocation slow path)',
    /Heap|Scaveng|MarkCompact|Sweeper|MemoryAllocator|Marking|Evacuat|GCTracer|RememberedSet|SlotSet|PagedSpace|NewSpace|SemiSpace|LocalHeap|Worklist|MinorMC|ObjectVisitor|BodyDescriptor|heap::|Factory::AllocateRaw|OffHeapInstructionStream|MarkBit/,
  ],
  [
    'object shapes, literals, merging (Object.assign, Map/Set)',
    /MigrateToMap|Map::|TransitionsAccessor|LookupIterator|FastPropertyAt|JSObject::|OrderedHash|HashTable|Builtins_Map|Builtins_Set|Builtins_Find|SetDataProperties|ObjectAssign|CreateShallow|CloneObject|DescriptorArray|PropertyArray|Dictionary|FieldIndex|UpdateDescriptor/,
  ],
  [
    'property-access ICs (generic LoadIC/StoreIC: cold or polymorphic sites)',
    /Builtins_(Load|Store|Keyed|Define|Has|GetProperty|SetProperty|ForIn|Lookup)|IC::|FeedbackNexus|FeedbackVector/,
  ],
  ['interpreter and baseline-code builtins (code not yet optimized)', /Builtins_.*(Baseline|Interpreter|Bytecode)/],
  ['other builtins (calls, regexp, arrays)', /Builtins_|RegExp/],
  ['C++ runtime calls', /Runtime_|Runtime::/],
  [
    'Node C++, libuv, syscalls, libc, malloc',
    /node::|uv_|uv__|malloc|free|memcpy|memmove|memset|libc|pthread|syscall|epoll|\.c:|\.S:|operator new/,
  ],
  ['JIT-compiled code (bare addresses)', /^\?\?\?:0x|^0x/],
];

// --whole: the two conditions' whole processes at <large> (B@large − A@large), <small> unread.
const whole = process.argv.includes('--whole');
const [a1, a2, b1, b2] = whole
  ? [new Map(), load(fileA(large)), new Map(), load(fileB(large))]
  : [fileA(small), fileA(large), fileB(small), fileB(large)].map(load);
const per = whole ? 1 : large - small;
const names = new Set([...a1.keys(), ...a2.keys(), ...b1.keys(), ...b2.keys()]);
const get = (m, k) => m.get(k) ?? 0;
const sums = new Map();
const members = new Map();
let total = 0;
for (const k of names) {
  const d = (get(b2, k) - get(b1, k) - (get(a2, k) - get(a1, k))) / per;
  total += d;
  const g = GROUPS.find(([, re]) => re.test(k))?.[0] ?? 'other';
  sums.set(g, (sums.get(g) ?? 0) + d);
  if (!members.has(g)) members.set(g, []);
  members.get(g).push([d, k]);
}
const fmt = (x) => Math.round(x).toLocaleString('en-US');
console.log('| function group | Ir/request |');
console.log('|---|---:|');
for (const [g, v] of [...sums].sort((x, y) => y[1] - x[1])) {
  console.log(`| ${g} | ${fmt(v)} |`);
  if (top > 0)
    for (const [d, k] of members
      .get(g)
      .sort((x, y) => y[0] - x[0])
      .slice(0, top))
      console.log(`|   ${k.slice(0, 110)} | ${fmt(d)} |`);
}
console.log(`| **total** | **${fmt(total)}** |`);
console.log(`| **total without the hash-seed noise** | **${fmt(total - (sums.get(NOISE) ?? 0))}** |`);
// Past tier-up nothing should still compile: what does is a compilation that fell inside the window
// in one run and before it in another (one TurboFan job is 5–25 M Ir, ±2.5–12k per request over
// 2,000 requests), so the steady state is compared without it.
console.log(
  `| **steady state: without compilation and the hash-seed noise** | **${fmt(total - (sums.get(NOISE) ?? 0) - (sums.get(COMPILE) ?? 0))}** |`,
);
