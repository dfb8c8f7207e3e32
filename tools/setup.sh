#!/usr/bin/env bash
# Installs every tool the site's build (and, with --test, the test suite) needs, skipping what is already there.
# Everything lands outside the clone (cargo's bin dir, $TINYTUNE_CACHE) so a second run is fast and offline.
#   bash tools/setup.sh fetch         the wasm32 target and every crate any build needs (network, seconds when cached)
#   bash tools/setup.sh [--test]      the tools: Trunk, wasm-bindgen-cli, wasm-opt; with --test, Chromium and friends
# The two halves are separate so the callers can start compiling right after `fetch` while the tools install.
set -euo pipefail
cd "$(dirname "$0")/.."

source tools/env.sh
TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

if [ "${1:-}" = "fetch" ]; then
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  # Trunk builds offline, and the native build downloads only the crates it uses: fetch every crate of every
  # target and feature here, so the wasm builds never meet a crate that is not on disk.
  cargo fetch --locked
  exit 0
fi

want_test_tools=false
[ "${1:-}" = "--test" ] && want_test_tools=true

if $want_test_tools; then
  # Chromium for the browser tests (its SwiftShader gives WebGPU an emulated GPU). Network-bound, so it goes
  # first and the CPU-bound installs below overlap with the caller's builds.
  if ! command -v chromium >/dev/null; then
    say "installing Debian chromium"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  fi
  # Again whenever the lock file changed since the last install (a package added), not only in a fresh clone.
  lock_stamp=tests/browser/node_modules/.tinytune-package-lock.json
  if ! cmp -s tests/browser/package-lock.json "$lock_stamp"; then
    say "installing the browser tests' packages: playwright-core (drives the Debian chromium; never downloads a browser), axe-core"
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
    cp tests/browser/package-lock.json "$lock_stamp"
  fi
fi

# Debian's binaryen (108) produces broken wasm; the npm package ships binaryen's JS build at the version we need.
if ! wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  say "installing binaryen $BINARYEN_VERSION (wasm-opt) from npm"
  mkdir -p "$TINYTUNE_CACHE/node"
  npm install --prefix "$TINYTUNE_CACHE/node" --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >&2
fi

# The CLI must match the wasm-bindgen crate exactly, so read its version from Cargo.lock.
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock 2>/dev/null || true)
wasm_bindgen_version="${wasm_bindgen_version:-0.2.130}"
if ! wasm-bindgen --version 2>/dev/null | grep -q "$wasm_bindgen_version"; then
  say "installing wasm-bindgen-cli $wasm_bindgen_version (about 2 minutes on 2 cores, once)"
  # Not --locked: one of its locked dependencies is no longer on the registry. Its own temporary build folder
  # (not CARGO_TARGET_DIR, which the project's builds hold), so it compiles while they do. Unoptimised: it compiles
  # in 120 CPU-seconds instead of 285 at opt-level 1, and processes the 37 MB worker wasm in 15 s instead of 4, once
  # for each of the test run's two site builds.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --force
fi

if ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
  say "installing trunk $TRUNK_VERSION (about 3 minutes on 2 cores, once)"
  # Without the default features: no TLS stack and no update check, neither of which a local build uses.
  # Unoptimised (--debug) and without debug info: Trunk spends its time waiting on cargo and wasm-bindgen, so an
  # optimised build of its 330 crates (10 minutes on two cores, against 6) buys nothing; debug info costs 10% of
  # the build (400 against 361 CPU-seconds) for backtraces nobody reads.
  CARGO_PROFILE_DEV_DEBUG=0 env -u CARGO_TARGET_DIR cargo install trunk --version "$TRUNK_VERSION" --locked --no-default-features --debug
fi
