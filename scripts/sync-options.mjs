// Derives the option surfaces that are files from the one definition, src/protocol/options.ts:
//   - package.json contributes.debuggers[0].configurationAttributes.launch.properties (the tracing
//     attributes; the Node attributes beside them are written by hand) and
//     contributes.configuration.properties (every nettrace.* setting);
//   - README.md's two options tables, between <!-- options:launch --> / <!-- options:cli --> and
//     their <!-- /options:… --> markers.
// `node scripts/sync-options.mjs` rewrites them; `--check` only says what differs (exit 1).
// test/unit/options.test.mjs runs the same comparison.
import { buildSync } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** TypeScript modules of src/ (one path or several), bundled on the fly into one module and loaded. */
function loadTs(entries) {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-options-'));
  try {
    const outfile = join(dir, 'module.cjs');
    const contents = [entries]
      .flat()
      .map((e) => `export * from './${e}';`)
      .join('\n');
    buildSync({
      stdin: { contents, resolveDir: root, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile,
      logLevel: 'error',
    });
    return createRequire(import.meta.url)(outfile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The tracing options: src/protocol/options.ts with its table and lists, bundled on the fly (they are TypeScript). */
export function loadOptions() {
  return loadTs(['src/protocol/options.ts', 'src/protocol/optionTable.ts', 'src/protocol/optionBase.ts']);
}

let whatIfModel;
/** The what-if rule model, src/rules/whatIfActions.ts: its lists of actions, kinds and presets. */
function whatIf() {
  return (whatIfModel ??= loadTs('src/rules/whatIfActions.ts'));
}

/** The JSON schema of an option's value (package.json), without description or default. */
function valueSchema(def) {
  switch (def.kind) {
    case 'enum':
      return { type: 'string', enum: [...def.values], ...(def.valueDescriptions ? { enumDescriptions: [...def.valueDescriptions] } : {}) };
    case 'boolean':
      return { type: 'boolean' };
    case 'list':
      return { type: 'array', items: { type: 'string' } };
    case 'flagOrCount':
      return { type: ['boolean', 'integer'], minimum: 0 };
    case 'positive':
      return {
        type: def.integer ? 'integer' : 'number',
        ...(def.min !== undefined ? { minimum: def.min } : { exclusiveMinimum: 0 }),
        ...(def.max !== undefined ? { maximum: def.max } : {}),
      };
    case 'path':
      return { type: 'string' };
    case 'rules':
      return { type: 'array', items: ruleSchema() };
  }
  throw new Error(`unknown kind ${def.kind} of ${def.name}`);
}

/** The JSON schemas of the what-if rules' parameters, from the model's own lists (src/rules/whatIfActions.ts). */
function whatIfSchemas() {
  const w = whatIf();
  const headers = (nullable) => ({
    type: 'object',
    additionalProperties: { type: nullable ? ['string', 'null'] : 'string' },
    description: nullable ? 'Response headers to set (null removes one).' : 'Response headers.',
  });
  const status = { type: 'integer', minimum: 100, maximum: 999 };
  const ms = { type: 'number', minimum: 0, maximum: 3600000 };
  const note =
    ' Changes what the program receives; acts only from your own settings, launch configuration, --rule/--rules (see "What-if actions" in docs/rules.md).';
  return {
    fail: {
      anyOf: [
        { type: 'string', enum: [...w.FAIL_KINDS] },
        {
          type: 'object',
          required: ['kind'],
          additionalProperties: false,
          properties: {
            kind: { type: 'string', enum: [...w.FAIL_KINDS] },
            at: { type: 'string', enum: [...w.RESET_AT], description: 'reset: before the response (default) or in its body.' },
            afterBytes: { type: 'integer', minimum: 0, description: 'reset mid-body: after this many body bytes.' },
            tls: { type: 'string', enum: [...w.TLS_FAILURES], description: 'tls: what is wrong with the certificate.' },
            status: { ...status, description: 'status: the status the server answers.' },
            headers: headers(false),
            body: { type: 'string' },
          },
        },
      ],
      description: `fail (what-if): how the matching requests fail, as the network or server would: ${w.FAIL_KINDS.join(', ')}.${note}`,
    },
    delay: {
      anyOf: [
        ms,
        {
          type: 'object',
          required: ['ms'],
          additionalProperties: false,
          properties: { phase: { type: 'string', enum: [...w.DELAY_PHASES], default: 'first-byte' }, ms, maxMs: ms },
        },
      ],
      description: `delay (what-if): hold the request back before its connection or the response's first byte; maxMs: a random duration between ms and maxMs.${note}`,
    },
    throttle: {
      anyOf: [
        { type: 'string', enum: Object.keys(w.THROTTLE_PRESETS) },
        { type: 'number', minimum: 1 },
        {
          type: 'object',
          required: ['rate'],
          additionalProperties: false,
          properties: {
            rate: {
              anyOf: [
                { type: 'string', enum: Object.keys(w.THROTTLE_PRESETS) },
                { type: 'number', minimum: 1 },
              ],
            },
          },
        },
      ],
      description: `throttle (what-if): the response body at this rate (bytes a second, or a DevTools preset).${note}`,
    },
    respond: {
      anyOf: [
        status,
        {
          type: 'object',
          required: ['status'],
          additionalProperties: false,
          properties: {
            status,
            headers: headers(false),
            body: { type: 'string' },
            bodyFile: { type: 'string', description: 'The body from this file.' },
          },
        },
      ],
      description: `respond (what-if): answer in the server's place, without contacting it.${note}`,
    },
    override: {
      anyOf: [
        status,
        { type: 'object', additionalProperties: false, properties: { status, headers: headers(true), body: { type: 'string' } } },
      ],
      description: `override (what-if): change the real response's status, headers or body.${note}`,
    },
  };
}

/** The JSON schema of one trace rule (docs/rules.md; src/rules/rule.ts validates it). */
function ruleSchema() {
  return {
    type: 'object',
    required: ['id', 'condition', 'action'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', minLength: 1, maxLength: 200, description: 'Unique in the list; counters refer to it.' },
      name: { type: 'string', description: 'For people; defaults to the id.' },
      condition: {
        type: 'string',
        description: 'Which requests match, e.g. host ~ "*.example.com" and method == "POST" ("true" matches all).',
      },
      action: { type: 'string', enum: ['trace', 'skip', 'details', 'break', 'mark', ...whatIf().WHAT_IF_ACTIONS] },
      enabled: { type: 'boolean', default: true, description: 'A rule is off unless this is true.' },
      limit: {
        type: ['integer', 'null'],
        minimum: 1,
        description: 'Act on at most this many matching requests per process (with limitPer "session": in all).',
      },
      limitPer: {
        type: 'string',
        enum: ['process', 'session'],
        default: 'process',
        description: "What limit counts: each process and worker thread its own (process), or the session's processes together (session).",
      },
      tag: { type: 'string', description: 'mark: the tag to give (default: the name).' },
      details: {
        type: 'array',
        items: { type: 'string', enum: ['bodies', 'sockTrace', 'dnsTrace'] },
        description: 'details: what to capture (default ["bodies"]).',
      },
      ...whatIfSchemas(),
    },
  };
}

const shownDefault = (v) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

/** package.json's launch attributes of the tracing options, by name. */
export function launchProperties(o) {
  const out = {};
  for (const def of o.OPTIONS.filter((d) => d.launch)) {
    const setting = o.settingName(def);
    const from = setting ? ` Default: the \`${setting}\` setting (${shownDefault(def.default)}).` : '';
    out[def.name] = { ...valueSchema(def), markdownDescription: def.description + from, default: def.suggest ?? def.default };
  }
  return out;
}

/** package.json's `nettrace.*` settings, in OPTIONS order. */
export function settingProperties(o) {
  const out = {};
  for (const def of o.OPTIONS) {
    const name = o.settingName(def);
    if (!name) continue;
    const wins = def.launch && def.kind !== 'list' && def.kind !== 'rules' ? ` A launch configuration's \`${def.name}\` wins.` : '';
    out[name] = {
      ...valueSchema(def),
      default: def.default,
      ...(def.scope ? { scope: def.scope } : {}),
      markdownDescription: def.description + wins,
    };
  }
  return out;
}

/** package.json with its option parts regenerated. */
export function syncPackage(pkg, o) {
  const next = structuredClone(pkg);
  const launch = next.contributes.debuggers[0].configurationAttributes.launch.properties;
  const names = new Set(o.OPTIONS.map((d) => d.name));
  // The hand-written Node attributes first, in their order; then the tracing options.
  const node = Object.fromEntries(Object.entries(launch).filter(([k]) => !names.has(k)));
  next.contributes.debuggers[0].configurationAttributes.launch.properties = { ...node, ...launchProperties(o) };
  next.contributes.configuration.properties = settingProperties(o);
  return next;
}

const cell = (text) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeText(def) {
  switch (def.kind) {
    case 'enum':
      return def.values.map((v) => `\`"${v}"\``).join(' or ');
    case 'list':
      return 'string[]';
    case 'rules':
      return 'rule[]';
    case 'flagOrCount':
      return 'boolean or number';
    case 'positive':
      return 'number';
    default:
      return def.kind === 'path' ? 'string' : def.kind;
  }
}

/** The README table of the launch attributes. */
export function readmeLaunchTable(o) {
  const rows = ['| attribute | type | default | what it does | setting | `nettrace run` |', '|---|---|---|---|---|---|'];
  for (const def of o.OPTIONS.filter((d) => d.launch)) {
    const setting = o.settingName(def);
    const flag = def.cli ? `\`${o.flagUsage(def.cli)}\`` : def.name === 'dnsServers' ? '`--dns-trace=NS,...`' : '—';
    rows.push(
      `| \`${def.name}\` | ${cell(typeText(def))} | \`${shownDefault(def.default)}\` | ${cell(def.description)} | ${setting ? `\`${setting}\`` : '—'} | ${cell(flag)} |`,
    );
  }
  return rows.join('\n');
}

/** The README table of `nettrace run`'s flags. */
export function readmeCliTable(o) {
  const rows = ['| option | meaning |', '|---|---|'];
  for (const def of o.OPTIONS.filter((d) => d.cli)) rows.push(`| \`${cell(o.flagUsage(def.cli))}\` | ${cell(def.cli.help)} |`);
  return rows.join('\n');
}

/** README.md with both tables regenerated (throws when a marker is missing). */
export function syncReadme(text, o) {
  let out = text;
  for (const [name, table] of [
    ['launch', readmeLaunchTable(o)],
    ['cli', readmeCliTable(o)],
  ]) {
    const open = `<!-- options:${name} -->`;
    const close = `<!-- /options:${name} -->`;
    const a = out.indexOf(open);
    const b = out.indexOf(close);
    if (a < 0 || b < a) throw new Error(`README.md: missing ${open} … ${close}`);
    out = out.slice(0, a + open.length) + '\n' + table + '\n' + out.slice(b);
  }
  return out;
}

/** The first line where two texts differ, for messages. */
export function firstDifference(actual, expected) {
  const a = actual.split('\n');
  const e = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) return `line ${i + 1}:\n  is:        ${a[i] ?? '(none)'}\n  should be: ${e[i] ?? '(none)'}`;
  }
  return undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  const o = loadOptions();
  const files = [
    ['package.json', (t) => JSON.stringify(syncPackage(JSON.parse(t), o), null, 2) + '\n'],
    ['README.md', (t) => syncReadme(t, o)],
  ];
  let stale = 0;
  for (const [file, sync] of files) {
    const path = join(root, file);
    const text = readFileSync(path, 'utf8');
    const next = sync(text);
    if (next === text) continue;
    if (check) {
      stale++;
      console.error(`${file} is out of date with src/protocol/options.ts (${firstDifference(text, next)})`);
    } else {
      writeFileSync(path, next);
      console.error(`updated ${file}`);
    }
  }
  if (stale) {
    console.error('run: node scripts/sync-options.mjs');
    process.exitCode = 1;
  }
}
