#!/usr/bin/env bash
# Compiles the site's wasm bundles with the cargo commands Trunk will run for them (read from index.html's
# `data-trunk rel="rust"` links), so that a cold build can compile them while Trunk itself is still being installed;
# Trunk then finds them up to date. Output goes to stdout/stderr; the exit status is cargo's.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
python3 - <<'PY' | while read -r -a args; do cargo build --offline --locked --target-dir "$TINYTUNE_WASM_TARGET" --target wasm32-unknown-unknown "${args[@]}" < /dev/null; done
from html.parser import HTMLParser

class RustLinks(HTMLParser):
    builds = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag != "link" or "data-trunk" not in a or a.get("rel") != "rust":
            return
        args = ["--bin", a["data-bin"]]
        if a.get("data-cargo-profile"):
            args += ["--profile", a["data-cargo-profile"]]
        else:
            args += ["--release"]
        if "data-cargo-no-default-features" in a:
            args += ["--no-default-features"]
        if a.get("data-cargo-features"):
            args += ["--features", a["data-cargo-features"]]
        # The worker (Burn) first: the longest build of a cold run, and so its critical path.
        self.builds.insert(0 if a.get("data-type") == "worker" else len(self.builds), " ".join(args))

links = RustLinks()
links.feed(open("index.html").read())
print("\n".join(links.builds))
PY
