#!/usr/bin/env bash
# Fresh-machine rehearsal: runs the README's test command the way a newcomer (or CI on a new machine) would, on a
# clean clone of the committed HEAD with ../shared beside it and nothing cached: a fresh CARGO_HOME (so Trunk,
# wasm-bindgen-cli and every crate are installed again), TINYTUNE_CACHE (build outputs, the Python environment),
# and npm and pip caches, and without the tools `cargo install` put beside rustup's proxies. It cannot undo
# system-wide installs (apt packages, rustup targets).
#   bash tools/rehearse.sh          starts it in the background and says where its log and result will be
#   bash tools/rehearse.sh --wait   the same in the foreground
# The result file gets the exit status, the minutes taken and the test command's last line. Remove the folder
# afterwards (several GB).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$repo/../shared" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/tinytune-rehearsal.XXXXXX")
git clone --quiet "$repo" "$dir/main"
ln -s "$shared" "$dir/shared"

rehearse() {
  cd "$dir/main"
  local started=$SECONDS status=0
  # A fresh machine has rustup's proxies (cargo, rustc...) on PATH and nothing else that `cargo install` put there:
  # keep those and leave out the rest of their folder, or Trunk and wasm-bindgen from earlier runs would be found
  # and not installed again.
  local proxies
  proxies=$(dirname "$(command -v rustup)")
  mkdir -p "$dir/rustup-bin"
  for tool in cargo rustc rustup rustdoc rustfmt cargo-fmt; do
    if [ -e "$proxies/$tool" ]; then ln -sf "$proxies/$tool" "$dir/rustup-bin/$tool"; fi
  done
  local path
  path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$proxies" | paste -sd: -)
  PATH="$dir/rustup-bin:$path" env -u CARGO_TARGET_DIR -u TINYTUNE_TARGET -u TINYTUNE_WASM_TARGET -u TINYTUNE_PYTHON -u RUSTFLAGS \
    CI=true CARGO_HOME="$dir/cargo" TINYTUNE_CACHE="$dir/cache" npm_config_cache="$dir/npm" \
    PIP_CACHE_DIR="$dir/pip" XDG_CACHE_HOME="$dir/xdg" \
    bash tools/test.sh < /dev/null > "$dir/log" 2>&1 || status=$?
  printf 'exit status %s after %s minutes; last line: %s\n' "$status" "$(( (SECONDS - started + 30) / 60 ))" \
    "$(tail -n 1 "$dir/log")" > "$dir/result"
  cat "$dir/result"
}

echo "rehearsal of $(git -C "$repo" rev-parse --short HEAD) in $dir: log $dir/log, result $dir/result"
if [ "${1:-}" = "--wait" ]; then
  rehearse
else
  export -f rehearse; export dir
  setsid nohup bash -c rehearse > /dev/null 2>&1 < /dev/null &
fi
