#!/usr/bin/env bash
# Makes sure the Python reference environment (tests/reference/requirements.txt, and requirements-no-deps.txt
# installed without dependencies) exists, then prints its
# interpreter path as the last line of stdout:  PY=$(bash tools/python-env.sh)
# Sourcing it does the same and also exports TINYTUNE_PYTHON, without changing the caller's shell options.
# Progress goes to stderr. A stamp holding the sha256 of both files skips pip when nothing changed, so a
# second run takes a few milliseconds.

# The body runs in a subshell: strict mode and `exit` stay inside it even when this file is sourced.
tinytune_python_env() (
  set -euo pipefail
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  requirements="$repo/tests/reference/requirements.txt"
  no_deps="$repo/tests/reference/requirements-no-deps.txt"
  venv="${TINYTUNE_CACHE:-$HOME/.cache/tinytune}/venv"
  python="$venv/bin/python"
  stamp="$venv/.tinytune-requirements.sha256"

  say() { printf '[python-env] %s\n' "$*" >&2; }

  wanted=$(cat "$requirements" "$no_deps" | sha256sum | cut -d' ' -f1)
  if [ -x "$python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    echo "$python"
    exit 0
  fi

  if [ ! -x "$python" ]; then
    say "creating $venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
  fi

  # True when every pin in requirements.txt is installed at exactly that version and the packages import.
  pins_satisfied() {
    "$python" - "$requirements" "$no_deps" >&2 <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version

wrong = []
for line in open(sys.argv[1]).readlines() + open(sys.argv[2]).readlines():
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, pinned = line.split("==")
    try:
        installed = version(name)
    except PackageNotFoundError:
        installed = None
    if installed != pinned:
        wrong.append(f"{name} {installed or 'missing'} (want {pinned})")
if wrong:
    print("[python-env] not as pinned: " + ", ".join(wrong), file=sys.stderr)
    sys.exit(1)
import torch, transformers, peft, safetensors, llama_cpp, trl, datasets, gguf, bitsandbytes  # noqa: E401,F401  (a broken install fails here)
PY
  }

  if ! pins_satisfied; then
    say "installing tests/reference/requirements.txt from PyPI (torch is a multi-GB download the first time)"
    # llama-cpp-python compiles llama.cpp (about 10 minutes on two cores at -O3, on the cold run's critical path):
    # for any x86 CPU (not just this one, as the cache may move), only the library, and at -O1: the tests run it on
    # models of a few hundred thousand weights, where its speed does not matter.
    CMAKE_ARGS="-DCMAKE_C_FLAGS_RELEASE='-O1 -DNDEBUG' -DCMAKE_CXX_FLAGS_RELEASE='-O1 -DNDEBUG' -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
      -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DLLAVA_BUILD=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
      "$python" -m pip install --disable-pip-version-check -q -r "$requirements" >&2
    "$python" -m pip install --disable-pip-version-check -q --no-deps -r "$no_deps" >&2
    pins_satisfied
  fi
  echo "$wanted" > "$stamp"
  echo "$python"
)

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  TINYTUNE_PYTHON="$(tinytune_python_env)" && export TINYTUNE_PYTHON && echo "$TINYTUNE_PYTHON"
else
  tinytune_python_env
fi
