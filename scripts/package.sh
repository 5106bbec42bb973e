#!/usr/bin/env bash
# `npm run package`: builds and packages the VS Code extension as nettrace-<version>.vsix with
# @vscode/vsce. Packaging runs in a staging folder holding only what the extension ships (see
# .vscodeignore), so package.json's npm `files` list (for the CLI) and vsce's .vscodeignore never
# meet (vsce refuses a package that has both).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${1:-}"
node scripts/build.mjs
for f in dist/extension.cjs dist/preload.cjs dist/core.cjs dist/webview.js dist/webview.css dist/codicon.css dist/codicon.ttf; do
  [ -f "$f" ] || { echo "package: $f was not built" >&2; exit 1; }
done
stage="$(mktemp -d "${TMPDIR:-/tmp}/nettrace-vsix.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/dist"
cp dist/extension.cjs dist/preload.cjs dist/core.cjs dist/webview.js dist/webview.css dist/codicon.css dist/codicon.ttf "$stage/dist/"
cp -r media .vscodeignore "$stage/"
[ -f README.md ] && cp README.md "$stage/"
[ -f LICENSE ] && cp LICENSE "$stage/"
# The staged manifest: no npm `files`/`bin` (the CLI's), no scripts (nothing to run at package time).
node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
  delete p.files; delete p.bin; delete p.scripts; delete p.allowScripts; delete p.private;
  fs.writeFileSync(process.argv[1] + "/package.json", JSON.stringify(p, null, 2) + "\n");
' "$stage"
version="$(node -p 'require("./package.json").version')"
vsix="${out:-$root/nettrace-$version.vsix}"
( cd "$stage" && "$root/node_modules/.bin/vsce" package --no-dependencies --allow-missing-repository \
    --no-rewrite-relative-links -o "$vsix" ) | grep -v '^ *$'
echo "package: $vsix"
