# Sourced by the other scripts: where tools and the shared build cache live (outside the clone, reused by
# every clone and CI run on this machine, never required to exist).
export TINYTUNE_CACHE="${TINYTUNE_CACHE:-$HOME/.cache/tinytune}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$TINYTUNE_CACHE/target}"
# `cargo install` puts tools in $CARGO_HOME/bin; rustup's proxies (cargo, rustc) stay in ~/.cargo/bin even when
# CARGO_HOME points elsewhere (the fresh-machine rehearsal does that).
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:$TINYTUNE_CACHE/node/node_modules/.bin:$PATH"
export TRUNK_OFFLINE=true TRUNK_SKIP_VERSION_CHECK=true
