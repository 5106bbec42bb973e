// Lint: typescript-eslint's recommended rules, plus the layer table of the architecture enforced
// per folder: only src/extension/ imports `vscode`, and each folder imports only the folders below
// it. `npm test` runs this through scripts/check.mjs; test/unit/boundaries.test.mjs proves each rule
// fires.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/**
 * The layer table: for each folder, the folders of ours it may import. `values`: anything;
 * `types`: `import type` only (their code never ends up in this folder's bundle). A folder may
 * always import itself. Test, bench and script files may import anything but `vscode`.
 */
const LAYERS = {
  // The trace model: plain Node, no back-edge to protocol values (protocol imports the model).
  'src/trace': { values: [], types: ['src/protocol'] },
  // Message types shared by every process, the browser webview included: imports nothing at run time.
  'src/protocol': { values: [], types: ['src/trace'], packages: 'none' },
  // Bundled alone into the user's program: no runtime dependencies besides dns-packet.
  'src/preload': { values: ['src/protocol'], types: ['src/trace'], packages: 'preload' },
  'src/helper': { values: ['src/protocol'], types: ['src/trace'] },
  'src/collector': { values: ['src/trace', 'src/protocol', 'src/helper'], types: [] },
  'src/cli': { values: ['src/collector', 'src/trace', 'src/protocol', 'src/helper'], types: [] },
  'src/extension': { values: ['src/collector', 'src/trace', 'src/protocol', 'src/helper'], types: [], vscode: true },
  // Browser code: talks to the host only through src/protocol message types.
  webview: { values: ['src/trace', 'src/protocol'], types: [], packages: 'browser' },
};

const FOLDERS = Object.keys(LAYERS);
const short = (folder) => folder.replace(/^src\//, '');
const list = (folders) => folders.map((f) => `${f}/`).join(', ');

/**
 * A regex matching relative specifiers that reach one of `folders` from anywhere in the repo:
 * `../collector/x` and `../../collector` from src/, `../src/collector/x` from webview/.
 */
function reaching(folders) {
  return `^(?:\\.\\./)+(?:src/)?(?:${folders.map(short).join('|')})(?:/|$)`;
}

const VSCODE = { name: 'vscode', message: 'Only src/extension/ may import vscode: everything else must run in plain Node.' };

/** The no-restricted-imports options and the forbidden specifier regexes of one folder. */
function restrictions(folder) {
  const { values, types, packages, vscode } = LAYERS[folder];
  const allowed = `${folder}/ may import only ${list([folder, ...values])}${types.length ? ` and types (import type) from ${list(types)}` : ''}`;
  const patterns = [];
  const forbidden = FOLDERS.filter((f) => f !== folder && !values.includes(f) && !types.includes(f));
  if (forbidden.length) patterns.push({ regex: reaching(forbidden), message: `Layer table: ${allowed}.` });
  if (types.length) patterns.push({ regex: reaching(types), allowTypeImports: true, message: `Layer table: ${allowed}.` });
  if (packages === 'none') {
    patterns.push({ regex: '^(?!vscode$)[^.]', message: `${folder}/ imports no packages or Node built-ins (the webview bundles it too).` });
  } else if (packages === 'preload') {
    patterns.push({
      regex: '^(?!node:|dns-packet$|vscode$)[^.]',
      message: 'src/preload/ runs inside the user program: Node built-ins (node:…) and the bundled dns-packet only.',
    });
  } else if (packages === 'browser') {
    const names = builtinModules.filter((m) => !m.startsWith('_')).map((m) => m.replace(/[/]/g, '\\/'));
    patterns.push({ regex: `^(?:node:|(?:${names.join('|')})(?:/|$))`, message: 'webview/ is browser code: no Node built-ins.' });
  }
  const paths = vscode ? [] : [VSCODE];
  const regexes = [...patterns.filter((p) => !p.allowTypeImports), ...patterns.filter((p) => p.allowTypeImports)];
  if (!vscode) regexes.unshift({ regex: '^vscode$', message: VSCODE.message });
  return { paths, patterns, regexes };
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

const layerConfigs = FOLDERS.map((folder) => {
  const { paths, patterns, regexes } = restrictions(folder);
  return {
    files: [`${folder}/**/*.{ts,mts,cts,js,mjs,cjs}`],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }],
      'no-restricted-syntax': ['error', ...restrictedCalls(regexes)],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/**', 'test/e2e/fixture/**', '**/*.d.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // Outside the layers (tests, benchmarks, scripts): anything but vscode.
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [VSCODE] }],
      'no-restricted-syntax': ['error', ...restrictedCalls([{ regex: '^vscode$', message: VSCODE.message }])],
    },
  },
  ...layerConfigs,
  { files: ['**/*.mjs', '**/*.cjs', '**/*.js'], rules: { '@typescript-eslint/no-unused-expressions': 'off' } },
);
