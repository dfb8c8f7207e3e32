#!/usr/bin/env bash
# Installs what is missing, builds the site and serves it on http://127.0.0.1:8080 (deep links work).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
source tools/env.sh
echo "[serve] building and serving on http://127.0.0.1:8080 (first build takes a few minutes)" >&2
exec trunk serve --release --offline --address 127.0.0.1 --port 8080 "$@"
