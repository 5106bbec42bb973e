#!/usr/bin/env bash
# End-to-end test of the VS Code extension in a real VS Code: code-server (VS Code 1.139 with the
# built-in JavaScript debugger) driven through headless Chromium by Playwright; see the
# end-to-end section of docs/platform.md. Run by .ci/run; alone: `scripts/e2e.sh`.
#
# Installs what is missing, once, into the cache (NETTRACE_CACHE, default ~/.cache/nettrace):
#   node24/       node@24 from the npm registry (code-server 4.139 requires Node 24)
#   code-server/  code-server@4.139.1, whose install compiles VS Code's native modules (~5 min)
# and, as root, the Debian packages it needs: Chromium (unless NETTRACE_CHROMIUM names one) and the
# headers code-server's native modules compile against.
# Artifacts (screenshots, logs, the saved trace) go to test-results/e2e/.
# Arguments: the test files to run (default: all of test/e2e/), e.g.
#   scripts/e2e.sh test/e2e/sessions.e2e.test.mjs test/e2e/layout.e2e.test.mjs
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
log() { echo "e2e: $*" >&2; }

# ---- the project's own dependencies ----------------------------------------------------------
# A fresh clone before `npm ci` has none: say what to run, in one line, before installing anything
# (the build would end in Node's stack trace, "Cannot find package 'esbuild'").
dev_missing=()
for mod in esbuild @vscode/vsce playwright-core axe-core; do [ -f "node_modules/$mod/package.json" ] || dev_missing+=("$mod"); done
if [ ${#dev_missing[@]} -gt 0 ]; then
  log "the project's dependencies are not installed (${dev_missing[*]}): run \`npm ci\` in $root first"
  exit 1
fi
cache="${NETTRACE_CACHE:-$HOME/.cache/nettrace}"
results="$root/test-results/e2e"
mkdir -p "$results" "$cache"
t0=$(date +%s)

# ---- system packages -------------------------------------------------------------------------
# code-server's install compiles native modules against these, and Chromium drives it. .ci/run
# installs them too; a developer running this script alone on a fresh machine needs them here.
sys_pkgs=(libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config)
[ -n "${NETTRACE_CHROMIUM:-}" ] || sys_pkgs+=(chromium)
missing=()
for pkg in "${sys_pkgs[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]} (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    log "missing system packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})"
    exit 1
  fi
fi

# ---- Node 24 ---------------------------------------------------------------------------------
node24_dir="$cache/node24"
node24="$node24_dir/node_modules/node/bin/node"
if [ ! -x "$node24" ]; then
  log "installing node@24 into $node24_dir (once)"
  mkdir -p "$node24_dir"
  [ -f "$node24_dir/package.json" ] || echo '{"private":true}' >"$node24_dir/package.json"
  (cd "$node24_dir" && npm install --no-save --no-audit --no-fund node@24 >&2)
fi
"$node24" --version >/dev/null

# ---- code-server -----------------------------------------------------------------------------
cs_version="4.139.1"
cs_dir="$cache/code-server"
cs="$cs_dir/node_modules/code-server"
# A module code-server's postinstall compiles: present only if the install scripts really ran.
cs_native="$cs/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node"
cs_ok() {
  [ -f "$cs/out/node/entry.js" ] && [ -f "$cs_native" ] &&
    [ "$(node -p "require('$cs/package.json').version" 2>/dev/null)" = "$cs_version" ]
}
if ! cs_ok; then
  log "installing code-server@$cs_version into $cs_dir (once; compiles native modules, ~5 minutes)"
  mkdir -p "$cs_dir"
  # npm 11 runs a dependency's install scripts only when allowed; code-server's postinstall builds
  # VS Code's native modules, so allow it (older npm ignores the field).
  [ -f "$cs_dir/package.json" ] || echo '{"private":true,"allowScripts":{"code-server":true}}' >"$cs_dir/package.json"
  (cd "$cs_dir" && PATH="$(dirname "$node24"):$PATH" npm install --no-audit --no-fund --foreground-scripts "code-server@$cs_version" >&2)
  if [ ! -f "$cs_native" ]; then
    log "code-server's install scripts did not run; running its postinstall"
    (cd "$cs" && PATH="$(dirname "$node24"):$PATH" sh ./postinstall.sh >&2)
  fi
  cs_ok || { log "code-server did not install correctly ($cs_native missing)"; exit 1; }
fi

# ---- Chromium --------------------------------------------------------------------------------
chromium="${NETTRACE_CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || { log "no Chromium at $chromium"; exit 1; }
t1=$(date +%s)
log "prerequisites ready in $((t1 - t0)) s"

# ---- build the .vsix -------------------------------------------------------------------------
vsix="$results/nettrace.vsix"
scripts/package.sh "$vsix" >"$results/package.log" 2>&1 || { cat "$results/package.log" >&2; exit 1; }
t2=$(date +%s)
log "packaged $vsix in $((t2 - t1)) s"

# ---- run -------------------------------------------------------------------------------------
export NETTRACE_E2E_CODE_SERVER="$cs"
export NETTRACE_E2E_NODE24="$node24"
export NETTRACE_E2E_CHROMIUM="$chromium"
export NETTRACE_E2E_VSIX="$vsix"
export NETTRACE_E2E_RESULTS="$results"
# No installed kernel helper is looked for (a test that means one names its prefix).
export NETTRACE_HELPER_PREFIX=none
status=0
# Each file bounded (node:test times a file as a test): one that hangs fails after 10 minutes
# instead of holding CI until its limit (the longest file takes about 3).
node --test --test-concurrency=1 --test-timeout=600000 "${@:-test/e2e/}" || status=$?
log "finished in $(($(date +%s) - t0)) s (exit $status); artifacts in $results"
exit $status
