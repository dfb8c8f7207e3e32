#!/usr/bin/env bash
# Installs what is missing, then runs every test: native unit and integration tests, and browser tests against
# the built site in headless Chromium. The last line counts all suites: "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
# torch, transformers and peft from PyPI for the parity tests (several GB, once): mostly download, so it runs
# beside the Rust installs and builds instead of before them.
bash tools/python-env.sh > "$logs/python-env.out" 2> "$logs/python-env.log" &
python_env=$!
bash tools/setup.sh --test || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
source tools/env.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"  # silences a harmless wgpu warning

passed=0 failed=0 skipped=0
started=$(date +%s)
step() { printf '\n\033[1m== %s (%ss)\033[0m\n' "$*" "$(( $(date +%s) - started ))"; }
add_counts() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + $3)); }

step "building the native tests"
cargo test --release --locked --no-run 2>&1 | tail -n 3
if ! wait "$python_env"; then
  cat "$logs/python-env.log"; echo "the Python reference environment could not be set up"; echo "0 passed, 1 failed"; exit 1
fi
export TINYTUNE_PYTHON="${TINYTUNE_PYTHON:-$(tail -n 1 "$logs/python-env.out")}"

step "native tests (cargo test --release: unit, content, trainer, PyTorch/PEFT parity)"
cargo test --release --locked 2>&1 | tee "$logs/native.log"
native_status=${PIPESTATUS[0]}
read -r p f s < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } } END { print p+0, f+0, s+0 }' "$logs/native.log")
# A build failure runs no test: count it as a failure rather than as nothing.
[ "$native_status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
add_counts "$p" "$f" "$s"

step "building the site (trunk build --release)"
if trunk build --release --offline 2>&1 | tail -n 20; [ "${PIPESTATUS[0]}" -eq 0 ]; then
  step "browser tests (headless Chromium)"
  node --test --test-reporter=spec tests/browser/ 2>&1 | tee "$logs/browser.log"
  browser_status=${PIPESTATUS[0]}
  read -r p f s < <(awk '/^ℹ pass / { p = $3 } /^ℹ fail / { f = $3 } /^ℹ skipped / { s = $3 } END { print p+0, f+0, s+0 }' "$logs/browser.log")
  [ "$browser_status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  add_counts "$p" "$f" "$s"

  step "size of the UI bundle (figures, not judged)"
  for file in dist/*.wasm dist/*.js; do
    printf 'figure: %-48s %8d bytes raw, %8d bytes gzip -9\n' "$(basename "$file")" "$(stat -c %s "$file")" "$(gzip -9 -c "$file" | wc -c)"
  done
else
  echo "the site did not build: browser tests not run"
  add_counts 0 1 0
fi

step "done in $(( $(date +%s) - started ))s"
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
