#!/usr/bin/env bash
# Installs what is missing, then runs every test: native unit and integration tests, and browser tests against
# the built site in headless Chromium. The last line counts all suites: "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
passed=0 failed=0 skipped=0
started=$(date +%s)
step() { printf '\n\033[1m== %s (%ss)\033[0m\n' "$*" "$(( $(date +%s) - started ))"; }
add_counts() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + $3)); }
# "passed failed ignored", added up over every `test result:` line of a cargo test log.
cargo_counts() {
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } } END { print p+0, f+0, s+0 }' "$1"
}
give_up() { echo "$*"; step "stopped after $(( $(date +%s) - started ))s"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

step "fetching every crate (cargo fetch)"
bash tools/setup.sh fetch || give_up "could not fetch the crates: see the cargo error above"
source tools/env.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"  # silences a harmless wgpu warning

# On two cores a single cargo build leaves one idle for long stretches (big crates, linking), so the slow parts of
# a first run overlap: the PyPI environment (torch, transformers, peft: mostly download), the tool installs
# (Chromium, Trunk, wasm-bindgen-cli), the wasm bundles and the native tests. A second run finds all of them done.
bash tools/python-env.sh > "$logs/python-env.out" 2> "$logs/python-env.log" &
python_env=$!
bash tools/setup.sh --test > "$logs/setup.log" 2>&1 &
tools=$!
bash tools/prebuild-wasm.sh > "$logs/wasm.log" 2>&1 &
wasm=$!

step "building the native tests (cargo test --release --no-run), while tools install and the wasm bundles build"
if ! cargo test --release --locked --no-run > "$logs/native-build.log" 2>&1; then
  bash tools/build-errors.sh "$logs/native-build.log"
  give_up "the native tests did not build"
fi
if ! wait "$python_env"; then
  tail -n 30 "$logs/python-env.log"; give_up "the Python reference environment could not be set up"
fi
export TINYTUNE_PYTHON="${TINYTUNE_PYTHON:-$(tail -n 1 "$logs/python-env.out")}"

step "native tests (cargo test --release: unit, content, trainer, PyTorch/PEFT parity)"
cargo test --release --locked 2>&1 | tee "$logs/native.log"
native_status=${PIPESTATUS[0]}
read -r p f s < <(cargo_counts "$logs/native.log")
# A build failure runs no test: count it as a failure rather than as nothing.
[ "$native_status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
add_counts "$p" "$f" "$s"

step "UI tests (cargo test --lib --features ui: the run reducer, numbers, chart scales, natively)"
cargo test --release --locked --lib --no-default-features --features ui 2>&1 | tee "$logs/ui.log"
ui_status=${PIPESTATUS[0]}
read -r p f s < <(cargo_counts "$logs/ui.log")
[ "$ui_status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
add_counts "$p" "$f" "$s"

step "waiting for the tool installs"
if ! wait "$tools"; then
  tail -n 40 "$logs/setup.log"; give_up "setup failed (tools/setup.sh --test): see its output above"
fi
# A failed wasm build fails again, with its errors shown, in the Trunk build below.
wait "$wasm" || true

step "building the site (trunk build --release)"
if site_trunk build --release --offline > "$logs/site.log" 2>&1; then
  grep -E "Compiling tinytune|applying new distribution" "$logs/site.log" | sed 's/\x1b\[[0-9;]*m//g' | tail -n 3
  # A second copy for a host that serves the site under a sub-path (the wasm is reused; its test reads this).
  step "building the site for a sub-path (trunk build --public-url /docs/tinytune/)"
  site_trunk build --release --offline --public-url /docs/tinytune/ --dist dist-subpath > "$logs/site-subpath.log" 2>&1 ||
    bash tools/build-errors.sh "$logs/site-subpath.log"
  step "browser tests (headless Chromium)"
  node --test --test-reporter=spec tests/browser/ 2>&1 | tee "$logs/browser.log"
  browser_status=${PIPESTATUS[0]}
  read -r p f s < <(awk '/^ℹ pass / { p = $3 } /^ℹ fail / { f = $3 } /^ℹ skipped / { s = $3 } END { print p+0, f+0, s+0 }' "$logs/browser.log")
  [ "$browser_status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  add_counts "$p" "$f" "$s"

  step "size of the bundles (figures, not judged)"
  for file in dist/*.wasm dist/*.js; do
    printf 'figure: %-48s %8d bytes raw, %8d bytes gzip -9\n' "$(basename "$file")" "$(stat -c %s "$file")" "$(gzip -9 -c "$file" | wc -c)"
  done
else
  bash tools/build-errors.sh "$logs/site.log"
  echo "the site did not build: browser tests not run"
  add_counts 0 1 0
fi

step "done in $(( $(date +%s) - started ))s"
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
