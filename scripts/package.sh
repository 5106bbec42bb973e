#!/usr/bin/env bash
# `npm run package`: builds and packages the VS Code extension with @vscode/vsce, as two .vsix:
#   nettrace-<version>.vsix            universal (every OS): the preload, collector, panel and
#                                      CLI-free extension; no kernel helper, no native code
#   nettrace-linux-x64-<version>.vsix  the same plus the kernel helper's payload (vsce --target
#                                      linux-x64), which VS Code prefers on x64 Linux
# Packaging runs in a staging folder per .vsix holding only what it ships (see .vscodeignore), so
# package.json's npm `files` list (for the CLI) and vsce's .vscodeignore never meet (vsce refuses
# a package that has both).
#
# The kernel helper ships as a payload in helper/ that "Net Trace: Set Up Kernel Helper" installs
# (src/helper/install.ts): dist/helper.cjs, a prebuilt x64 Linux native helper (libbpf,
# libelf and zlib linked in: native/Makefile STATIC_BPF=1; it also reads the packet capture,
# native/src/capture.c, so no Node addon ships), and the native sources (native-src/) to build
# from where the binary does not run. The payload is built on x64 Linux only: elsewhere only the
# universal .vsix is made.
#
# Usage: scripts/package.sh              both .vsix, in the repository's root
#        scripts/package.sh OUT.vsix     only the linux-x64 one, as OUT.vsix (scripts/e2e.sh)
# NETTRACE_VSIX_NO_HELPER=1 makes only the universal one (as OUT.vsix when given).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${1:-}"
node scripts/build.mjs
for f in dist/extension.cjs dist/preload.cjs dist/preload-body.cjs dist/rules.cjs dist/otlp-wire.cjs dist/core.cjs dist/webview.js dist/webview.css dist/codicon.css dist/codicon.ttf; do
  [ -f "$f" ] || { echo "package: $f was not built" >&2; exit 1; }
done
version="$(node -p 'require("./package.json").version')"
stages=()
trap 'rm -rf ${stages[@]+"${stages[@]}"}' EXIT

# The helper's payload into "$1"/helper (x64 Linux only).
stage_helper() {
  make -s -C native BUILD=build-vsix STATIC_BPF=1 helper >&2 ||
    { echo "package: could not build the native helper: run scripts/install-native-deps.sh (or NETTRACE_VSIX_NO_HELPER=1)" >&2; exit 1; }
  local h="$1/helper"
  mkdir -p "$h/dist" "$h/native/build" "$h/native-src"
  cp dist/helper.cjs "$h/dist/"
  install -m 0755 native/build-vsix/nettrace-helper "$h/native/build/nettrace-helper"
  cp -r native/Makefile native/README.md native/src native/bpf "$h/native-src/"
  return 0
}

# make_vsix universal|linux-x64 OUT: stages what that .vsix ships and packages it as OUT.
make_vsix() {
  local kind="$1" vsix="$2" stage
  stage="$(mktemp -d "${TMPDIR:-/tmp}/nettrace-vsix.XXXXXX")"
  stages+=("$stage")
  mkdir -p "$stage/dist"
  cp dist/extension.cjs dist/preload.cjs dist/preload-body.cjs dist/rules.cjs dist/otlp-wire.cjs dist/core.cjs dist/webview.js dist/webview.css dist/codicon.css dist/codicon.ttf "$stage/dist/"
  cp -r media .vscodeignore "$stage/"
  [ -f README.md ] && cp README.md "$stage/"
  # docs/: the README links the trace format, rules, security model and platform pages.
  cp -r docs "$stage/"
  [ -f LICENSE ] && cp LICENSE "$stage/"
  local target=()
  if [ "$kind" = linux-x64 ]; then
    stage_helper "$stage"
    target=(--target linux-x64)
  fi
  # The staged manifest: no npm `files`/`bin` (the CLI's), no scripts (nothing to run at package time).
  node -e '
    const fs = require("fs");
    const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
    delete p.files; delete p.bin; delete p.scripts; delete p.allowScripts; delete p.private;
    fs.writeFileSync(process.argv[1] + "/package.json", JSON.stringify(p, null, 2) + "\n");
  ' "$stage"
  ( cd "$stage" && "$root/node_modules/.bin/vsce" package --no-dependencies --allow-missing-repository \
      --no-rewrite-relative-links "${target[@]}" -o "$vsix" ) | grep -v '^ *$'
  # The universal .vsix must run anywhere: nothing native, nothing of the helper.
  if [ "$kind" = universal ] && unzip -Z1 "$vsix" | grep -E '(^|/)(helper|native|native-src)/|\.node$' >&2; then
    echo "package: the universal $vsix carries native or helper files (above)" >&2; exit 1
  fi
  # Neither carries a Node addon: the helper's capture is read by its native binary.
  if unzip -Z1 "$vsix" | grep -E '\.node$|(^|/)node_modules/' >&2; then
    echo "package: $vsix carries a Node addon or node_modules (above)" >&2; exit 1
  fi
  echo "package: $vsix ($kind)"
}

linux_x64=0
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] && linux_x64=1
if [ "${NETTRACE_VSIX_NO_HELPER:-0}" = 1 ]; then
  make_vsix universal "${out:-$root/nettrace-$version.vsix}"
elif [ -n "$out" ]; then
  [ "$linux_x64" = 1 ] ||
    { echo "package: the helper payload is built on x64 Linux only (NETTRACE_VSIX_NO_HELPER=1 packages without it)" >&2; exit 1; }
  make_vsix linux-x64 "$out"
else
  make_vsix universal "$root/nettrace-$version.vsix"
  if [ "$linux_x64" = 1 ]; then
    make_vsix linux-x64 "$root/nettrace-linux-x64-$version.vsix"
  else
    echo "package: no linux-x64 .vsix (the kernel helper is built on x64 Linux only)" >&2
  fi
fi
