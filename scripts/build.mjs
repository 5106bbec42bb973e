// One build script, one entry per runtime (see docs/architecture.md):
//   dist/preload.cjs   node, runs inside the debuggee: no runtime dependencies, CommonJS; a loader
//                      of dist/preload-body.cjs (the preload) with V8's code cache
//   dist/cli.cjs       node, the `nettrace` command (collector, trace, CLI); embeds the demo's
//                      app and certificates as text
//   dist/core.cjs      node, the collector and trace API plus the CLI's text rendering
//                      (src/cli/index.ts) for unit tests
//   dist/rules.cjs     node, trace rules (src/rules/index.ts): loaded by dist/preload.cjs when a
//                      session has rules (not bundled into it: see rulesApart), and by unit tests
//                      and bench/rules.mjs
//   dist/otlp-wire.cjs node, OpenTelemetry's exporters, loaded when a session exports (otlpApart)
//   dist/extension.cjs node, the VS Code extension host (only when src/extension exists)
//   dist/webview.js    browser, the panel (only when webview/ has an entry)
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: 'linked', logLevel: 'warning', absWorkingDir: root, legalComments: 'none' };
const node = { ...common, platform: 'node', target: 'node20', format: 'cjs' };

// The demo's app (.mjs) and certificates (.pem, .key) are imported as text so dist/cli.cjs needs no
// files outside dist/ (package.json ships only bin/ and dist/).
const demoText = /[\\/]src[\\/]cli[\\/]demo[\\/].*\.(mjs|pem|key)$/;
const textImports = {
  name: 'demo-text',
  setup(b) {
    b.onLoad({ filter: demoText }, async (args) => ({ contents: await readFile(args.path, 'utf8'), loader: 'text' }));
  },
};

// The preload's rule engine (src/rules, ~60 KB) is not in dist/preload.cjs: src/preload/rules/preloadRules.ts
// require()s it only when a session has rules, and this resolves that require to dist/rules.cjs
// beside the preload (the one bundle of src/rules/index.ts), so a program traced without rules
// neither parses nor runs it. dist/rules.cjs ships wherever dist/preload.cjs does (package.json
// `files`, scripts/package.sh, .vscodeignore).
const rulesApart = {
  name: 'rules-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/\.\.\/rules$/ }, (args) =>
      args.kind === 'require-call' && /[\\/]src[\\/]preload[\\/]rules[\\/]preloadRules\.ts$/.test(args.importer)
        ? { path: './rules.cjs', external: true }
        : undefined,
    );
  },
};

// OpenTelemetry's exporter packages (src/otlp/wire.ts, ~1.7 MB with gRPC) are not in dist/cli.cjs
// or dist/extension.cjs: src/otlp/sink.ts require()s them when a session exports, and this
// resolves that require to dist/otlp-wire.cjs beside the bundle, so the extension host does not
// parse them at every start.
const otlpApart = {
  name: 'otlp-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/wire$/ }, (args) =>
      args.kind === 'require-call' && /[\\/]src[\\/]otlp[\\/]sink\.ts$/.test(args.importer)
        ? { path: './otlp-wire.cjs', external: true }
        : undefined,
    );
  },
};

const entries = [
  // ASCII like the preload's body (see asciiBody): bin/nettrace.cjs reads it through the same loader.
  { ...node, entryPoints: ['src/cli/nettrace.ts'], outfile: 'dist/cli.cjs', plugins: [textImports, otlpApart], charset: 'ascii' },
  { ...node, entryPoints: ['src/otlp/wire.ts'], outfile: 'dist/otlp-wire.cjs' },
  { ...node, entryPoints: ['src/cli/index.ts'], outfile: 'dist/core.cjs' },
  // Trace rules alone (src/rules), for their unit tests and bench/rules.mjs.
  { ...node, entryPoints: ['src/rules/index.ts'], outfile: 'dist/rules.cjs' },
];
if (existsSync(join(root, 'src/preload/index.ts'))) {
  // dist/preload.cjs is the small loader NODE_OPTIONS names; it runs dist/preload-body.cjs (the
  // preload itself) with V8's code cache (src/preload/loader.ts). Both ship together. The body is
  // ASCII (see asciiBody) so the loader reads it as a one-byte string.
  entries.unshift({
    ...node,
    entryPoints: ['src/preload/index.ts'],
    outfile: 'dist/preload-body.cjs',
    plugins: [rulesApart],
    charset: 'ascii',
  });
  entries.unshift({ ...node, entryPoints: ['src/preload/loader.ts'], outfile: 'dist/preload.cjs' });
} else {
  console.error('build: src/preload/index.ts does not exist yet; dist/preload.cjs not built');
}
if (existsSync(join(root, 'src/extension/extension.ts'))) {
  entries.push({
    ...node,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.cjs',
    external: ['vscode'],
    plugins: [otlpApart],
  });
}
if (existsSync(join(root, 'webview/main.ts'))) {
  entries.push({
    ...common,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
  });
  // The codicon font the panel links (dist/codicon.css + dist/codicon.ttf); see src/extension/panelHtml.ts.
  entries.push({
    ...common,
    sourcemap: false,
    entryPoints: ['node_modules/@vscode/codicons/dist/codicon.css'],
    outfile: 'dist/codicon.css',
    loader: { '.ttf': 'copy' },
    assetNames: '[name]',
  });
}

// dist/helper.cjs: the privileged helper's Node side (src/helper/helperProcess.ts); dist/helper-api.cjs: its
// API (start it, save pcapng) for tests. Both are self-contained: the packet capture is read by the
// native helper (native/src/capture.c), no addon is loaded.
if (existsSync(join(root, 'src/helper/helperProcess.ts'))) {
  entries.push({ ...node, entryPoints: ['src/helper/helperProcess.ts'], outfile: 'dist/helper.cjs' });
  entries.push({ ...node, entryPoints: ['src/helper/index.ts'], outfile: 'dist/helper-api.cjs' });
}

mkdirSync(join(root, 'dist'), { recursive: true });
await Promise.all(entries.map((e) => build(e)));
asciiBody();

/**
 * Makes dist/preload-body.cjs ASCII: every process of a traced program reads it, and decoding its
 * ≈ 440 KB as UTF-8 when it holds a single other character cost ≈ 9 M instructions more than
 * reading it as Latin-1 (issue 52; src/preload/loader.ts reads an ASCII body so). With `charset:
 * 'ascii'` esbuild escapes every other character of the code; what is left is in the doc comments
 * it keeps on class members, where each UTF-16 unit becomes `?` (columns, and so the source map,
 * stay as they were). The same for dist/cli.cjs, which bin/nettrace.cjs reads through that loader.
 */
function asciiBody() {
  for (const name of ['preload-body.cjs', 'cli.cjs']) {
    const file = join(root, 'dist', name);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const ascii = text.replace(/[^\x00-\x7f]/g, '?');
    if (ascii !== text) writeFileSync(file, ascii);
  }
}
if (watch) console.error('watch mode is not supported; re-run the build');
