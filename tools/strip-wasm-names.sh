#!/usr/bin/env bash
# Trunk hook (post_build, release builds): the trainer worker bundle ships without its function names and producer
# notes. wasm-bindgen keeps the `name` section, and in the worker it is 7.9 of 28 MB (1.4 MB gzip). Not Trunk's own
# wasm-opt step: measured on this bundle, `wasm-opt -Oz` takes 5 minutes on two cores (every build, the sub-path
# copy too) and gives a bundle 2% larger after gzip than this, which takes seconds (no optimisation passes).
# Only the worker (`data-bin="tinytune-worker"` in index.html): Trunk loads it with no integrity hash, while the UI
# bundle, already through `wasm-opt -Oz` (no names left), is preloaded with one that a rewrite would break.
set -euo pipefail
[ "${TRUNK_PROFILE:-release}" = "release" ] || exit 0
source "$(dirname "$0")/env.sh"
for wasm in "$TRUNK_STAGING_DIR"/tinytune-worker*_bg.wasm; do
  wasm-opt --strip-debug --strip-producers "$wasm" -o "$wasm"
done
