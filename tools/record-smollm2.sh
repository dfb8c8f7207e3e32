#!/usr/bin/env bash
# The QLoRA demo's recorded run, which the site shows until a learner trains: SmolLM2-135M-Instruct, 4-bit as its
# GGUF ships (tools/smollm2.sh), QLoRA-tuned on the support replies with the demo's settings (`tinytune record
# --qlora-demo`). Kept in the build cache, keyed by the CLI, the model and the data; prints its path as the last
# line of stdout. The first time it takes minutes, so tools/test.sh starts it as soon as the CLI is built, beside
# the wasm build, and the site build's hook (tools/site-model.sh) finds it done, or waits for it: a lock keeps
# two runs from recording at once.
#   TINYTUNE_CLI  the CLI to record with (default: the release build in the build folder)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
tinytune="${TINYTUNE_CLI:-$CARGO_TARGET_DIR/release/tinytune}"
[ -x "$tinytune" ] || { echo "error: $tinytune not found: build it with cargo build --release --bin tinytune" >&2; exit 1; }
gguf=$(bash tools/smollm2.sh)
data=public/datasets/smollm2/ridgeline-support.jsonl
key=$({ bash tools/smollm2.sh --sha256; cat "$tinytune" "$data" "${data%.jsonl}.check.json"; } | sha256sum | cut -c1-16)
cache="$TINYTUNE_CACHE/site-model"
recorded="$cache/smollm2-support.$key.recorded.json"
mkdir -p "$cache"
exec 9> "$cache/smollm2-support.lock"
flock 9
if [ ! -f "$recorded" ]; then
  echo "[record-smollm2] recording the QLoRA demo's run (a few minutes, once per CLI build)" >&2
  "$tinytune" record --model "$gguf" --four-bit --qlora-demo --data "$data" --out "$recorded.tmp" >&2
  mv "$recorded.tmp" "$recorded"
fi
echo "$recorded"
