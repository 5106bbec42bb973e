// Lint: typescript-eslint's recommended rules, plus the layer table of the architecture enforced
// per folder: only src/extension/ imports `vscode`, and each room imports only the rooms below it.
// `npm test` runs this through scripts/check.mjs; test/unit/boundaries.test.mjs proves each rule
// fires.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The rooms of the layer table, lowest first. `files`: what belongs to the room (a later room
 * wins for a file in both: the contract is part of src/trace/); `spec`: a regex for the tail of a
 * relative import specifier that reaches the room, after its `../` and an optional `src/`.
 * `values`: the rooms it may import anything from; `types`: the rooms it may import from with
 * `import type` only (nothing of theirs is bundled). A room may always import itself.
 * `packages`: which bare specifiers it may import; `vscode` is only ever src/extension/'s.
 * This is the one layer table: test/unit/layers.test.mjs derives its import-graph check from it.
 */
export const ROOMS = {
  // The trace model's types and the wire format's shared values: what every process agrees on
  // (redact, redactUrl: which names and URL parts are secrets, also for the preload).
  contract: {
    label: 'the trace contract (src/trace/contract/)',
    files: ['src/trace/contract/**'],
    spec: 'trace/contract(?:/|$)',
    // It imports nothing outside its folder: not the rest of src/trace/ either.
    siblings: '^\\.\\./',
    values: [],
    types: [],
    packages: 'none',
  },
  // Message types shared by every process, the browser webview included.
  protocol: { files: ['src/protocol/**'], spec: 'protocol(?:/|$)', values: [], types: ['contract'], packages: 'none' },
  // Trace rules (the condition language and the decision engine): pure, bundled into the preload;
  // of the contract, its types and its pure values (the route template).
  rules: { files: ['src/rules/**'], spec: 'rules(?:/|$)', values: ['contract'], types: [], packages: 'none' },
  // The trace model: plain Node, and no back-edge to protocol values (the protocol imports the model).
  trace: {
    files: ['src/trace/**'],
    spec: 'trace(?:/(?!contract(?:/|$))|$)',
    values: ['contract'],
    types: ['protocol'],
    packages: 'builtins',
  },
  // Replay (docs/replay.md): the recording read into a table, the matcher, the divergence, dates
  // moved. Pure (no Node built-ins, no packages): the collector, the CLI and the extension use it,
  // and it could be bundled into the preload or the webview as it is.
  replay: { files: ['src/replay/**'], spec: 'replay(?:/|$)', values: ['contract'], types: [], packages: 'none' },
  // Bundled alone into the user's program: no runtime dependency besides dns-packet.
  preload: { files: ['src/preload/**'], spec: 'preload(?:/|$)', values: ['contract', 'protocol', 'rules'], types: [], packages: 'preload' },
  // OpenTelemetry export: the trace mapped to spans, sent with OpenTelemetry's exporter packages.
  otlp: { files: ['src/otlp/**'], spec: 'otlp(?:/|$)', values: ['contract', 'trace'], types: [], packages: 'any' },
  helper: { files: ['src/helper/**'], spec: 'helper(?:/|$)', values: ['contract', 'protocol'], types: [], packages: 'any' },
  collector: {
    files: ['src/collector/**'],
    spec: 'collector(?:/|$)',
    values: ['contract', 'protocol', 'rules', 'trace', 'helper', 'replay'],
    types: [],
    packages: 'any',
  },
  cli: {
    files: ['src/cli/**'],
    spec: 'cli(?:/|$)',
    values: ['contract', 'protocol', 'rules', 'trace', 'otlp', 'helper', 'collector', 'replay'],
    types: [],
    packages: 'any',
  },
  // The editor glue: everything below but the CLI (its own front end) and the preload (its own bundle).
  extension: {
    files: ['src/extension/**'],
    spec: 'extension(?:/|$)',
    values: ['contract', 'protocol', 'rules', 'trace', 'otlp', 'helper', 'collector', 'replay'],
    types: [],
    packages: 'vscode',
  },
  // Browser code: talks to the host only through src/protocol/ message types.
  webview: {
    files: ['webview/**'],
    spec: 'webview(?:/|$)',
    values: ['contract', 'protocol', 'rules', 'trace'],
    // Of these, only files that (transitively) use no Node built-in: test/unit/layers.test.mjs checks it.
    browserSafe: ['trace', 'rules'],
    types: [],
    packages: 'browser',
  },
};

const NAMES = Object.keys(ROOMS);
const label = (room) => ROOMS[room].label ?? `${ROOMS[room].files[0].replace(/\*\*$/, '')}`;
const list = (rooms) => rooms.map(label).join(', ');

/** A regex matching relative specifiers that reach one of `rooms`: `../collector/x`, `../../src/trace/contract/types`. */
function reaching(rooms) {
  return `^(?:\\.\\./)+(?:src/)?(?:${rooms.map((r) => ROOMS[r].spec).join('|')})`;
}

const VSCODE = { name: 'vscode', message: 'Only src/extension/ may import vscode: everything else must run in plain Node.' };
const BUILTINS = builtinModules.filter((m) => !m.startsWith('_')).map((m) => m.replace(/[/]/g, '\\/'));

/** Bare specifiers a room may not import, as no-restricted-imports patterns. */
function packagePatterns(room) {
  const where = label(room);
  switch (ROOMS[room].packages) {
    case 'none':
      return [
        { regex: '^(?!vscode$)[^.]', message: `${where} imports no packages or Node built-ins: the preload and the webview bundle it.` },
      ];
    case 'builtins':
      return [{ regex: '^(?!node:|vscode$)[^.]', message: `${where} imports Node built-ins (node:…) only, no packages.` }];
    case 'preload':
      return [
        {
          regex: '^(?!node:|dns-packet$|vscode$)[^.]',
          message: `${where} runs inside the user program: Node built-ins (node:…) and the bundled dns-packet only.`,
        },
      ];
    case 'browser':
      return [{ regex: `^(?:node:|(?:${BUILTINS.join('|')})(?:/|$))`, message: `${where} is browser code: no Node built-ins.` }];
    default:
      return [];
  }
}

/** The no-restricted-imports options and the forbidden specifier regexes of one room. */
function restrictions(room) {
  const { values, types, packages } = ROOMS[room];
  const message = `Layer table: ${label(room)} may import only ${list([room, ...values])}${types.length ? `, and types (import type) from ${list(types)}` : ''}.`;
  const forbidden = NAMES.filter((r) => r !== room && !values.includes(r) && !types.includes(r));
  const patterns = [
    ...(forbidden.length ? [{ regex: reaching(forbidden), message }] : []),
    ...(ROOMS[room].siblings ? [{ regex: ROOMS[room].siblings, message }] : []),
    ...packagePatterns(room),
    ...(types.length ? [{ regex: reaching(types), allowTypeImports: true, message }] : []),
  ];
  const paths = packages === 'vscode' ? [] : [VSCODE];
  // require() and import() are never type-only: every pattern applies to them.
  const calls = [...(packages === 'vscode' ? [] : [{ regex: '^vscode$', message: VSCODE.message }]), ...patterns];
  return { paths, patterns, calls };
}

/**
 * The same restrictions for `require('…')` and `import('…')`, which no-restricted-imports does not
 * see. esquery regex literals cannot contain a slash, so slashes are written as \x2F.
 */
function restrictedCalls(regexes) {
  return regexes.flatMap(({ regex, message }) => {
    const re = `/${regex.replace(/\//g, '\\x2F')}/`;
    return [
      { selector: `CallExpression[callee.name="require"][arguments.0.value=${re}]`, message },
      { selector: `ImportExpression[source.value=${re}]`, message },
    ];
  });
}

const roomConfigs = NAMES.map((room) => {
  const { paths, patterns, calls } = restrictions(room);
  return {
    files: ROOMS[room].files,
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }],
      'no-restricted-syntax': ['error', ...restrictedCalls(calls)],
    },
  };
});
// The contract lives inside src/trace/: its stricter rules must come after the trace room's.
roomConfigs.push(roomConfigs.splice(NAMES.indexOf('contract'), 1)[0]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/**', 'test/e2e/fixture/**', '**/*.d.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // Outside the rooms (tests, benchmarks, scripts): anything but vscode.
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [VSCODE] }],
      'no-restricted-syntax': ['error', ...restrictedCalls([{ regex: '^vscode$', message: VSCODE.message }])],
    },
  },
  ...roomConfigs,
  { files: ['**/*.mjs', '**/*.cjs', '**/*.js'], rules: { '@typescript-eslint/no-unused-expressions': 'off' } },
  // Plain JavaScript has no type checker to name an unbound identifier (a bare `export { x } from`
  // binds nothing in the module itself): no-undef does, with Node's globals.
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node, ...globals.es2024 } },
    rules: { 'no-undef': 'error' },
  },
  // Files that hand functions to a browser page (Playwright's page.evaluate) run them there.
  {
    files: ['test/e2e/**', 'test/integration/webview-*.mjs', 'test/webview-harness/**', 'bench/webview.mjs'],
    languageOptions: { globals: globals.browser },
  },
);
