#!/usr/bin/env bash
# The browser benchmark: builds the site and the native CLI (installing what is missing, as tools/test.sh does),
# then trains the lesson demo's default run in headless Chromium on the CPU (wasm) and on WebGPU, and the same
# settings natively on one thread, and prints the figures side by side (tests/browser/bench.mjs). Without a GPU,
# Chromium's WebGPU is SwiftShader (emulated on the CPU): its figure says so. Takes a few minutes once built.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh fetch
source tools/env.sh
bash tools/setup.sh --test
cargo build --release --locked --bin tinytune
export TINYTUNE_CLI="$TINYTUNE_TARGET/release/tinytune"
site_trunk build --release --offline
cd tests/browser && exec node bench.mjs
