# Sourced by the other scripts: where tools and the shared build cache live (outside the clone, reused by
# every clone and CI run on this machine, never required to exist).
export TINYTUNE_CACHE="${TINYTUNE_CACHE:-$HOME/.cache/tinytune}"
# Two build folders, because cargo lets one build at a time use a folder: native code (tests, the CLI that
# converts the model at build time) and the site's wasm bundles, so a first run compiles both at once. The hook
# that Trunk runs sources this file again with CARGO_TARGET_DIR set to the wasm folder: TINYTUNE_TARGET keeps
# the native one.
export TINYTUNE_TARGET="${TINYTUNE_TARGET:-${CARGO_TARGET_DIR:-$TINYTUNE_CACHE/target}}"
export TINYTUNE_WASM_TARGET="${TINYTUNE_WASM_TARGET:-$TINYTUNE_TARGET-wasm}"
export CARGO_TARGET_DIR="$TINYTUNE_TARGET"
# `cargo install` puts tools in $CARGO_HOME/bin. rustup's proxies (cargo, rustc) live in ~/.cargo/bin, which is
# usually on PATH already: add it only when cargo is not found, so that with CARGO_HOME pointing elsewhere (the
# fresh-machine rehearsal) the tools installed into ~/.cargo/bin earlier are not found and are installed again.
command -v cargo > /dev/null || PATH="$HOME/.cargo/bin:$PATH"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$TINYTUNE_CACHE/node/node_modules/.bin:$PATH"
export TRUNK_OFFLINE=true TRUNK_SKIP_VERSION_CHECK=true

# Trunk, building into the wasm folder.
site_trunk() { CARGO_TARGET_DIR="$TINYTUNE_WASM_TARGET" trunk "$@"; }
