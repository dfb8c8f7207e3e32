#!/usr/bin/env bash
# Installs what is missing, builds the site and serves it on http://127.0.0.1:8080 (deep links work).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh fetch
source tools/env.sh
logs=$(mktemp -d)
# The wasm bundles compile while Trunk and wasm-bindgen-cli install (a first run only; later this is seconds).
bash tools/prebuild-wasm.sh > "$logs/wasm.log" 2>&1 &
wasm=$!
bash tools/setup.sh
wait "$wasm" || true  # a failed wasm build fails again in the Trunk build below, with its errors shown
echo "[serve] building the site (a first build takes several minutes)" >&2
if ! site_trunk build --release --offline > "$logs/site.log" 2>&1; then
  bash tools/build-errors.sh "$logs/site.log" >&2
  echo "[serve] the site did not build (full log: $logs/site.log)" >&2
  exit 1
fi
echo "[serve] serving on http://127.0.0.1:8080" >&2
CARGO_TARGET_DIR="$TINYTUNE_WASM_TARGET" exec trunk serve --release --offline --address 127.0.0.1 --port 8080 "$@"
