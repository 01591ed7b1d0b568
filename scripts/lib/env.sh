# Shared by the scripts: tool paths and a build cache outside the clone, so a fresh
# clone on the same machine reuses earlier builds. Expects $root (the clone).
source "$root/scripts/lib/platform.sh"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/edge-mfa/target}"
# wrangler: no telemetry, no network beyond loopback.
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
if [ -d "$root/node_modules/.bin" ]; then
  export PATH="$root/node_modules/.bin:$PATH"
fi
# Node: the one on PATH when wrangler accepts it; else the Node that scripts/install
# put into the cache from npm (node_plan, platform.sh).
edge_mfa_node_version=$(node --version 2>/dev/null || true)
edge_mfa_node_plan=$(node_plan "$edge_mfa_node_version" "$(node_min_version "$root/package-lock.json")" \
  "$(platform_id "$(uname -s)" "$(uname -m)" || echo unknown)")
if [ "${edge_mfa_node_plan%% *}" = npm ] && [ -x "$(node_cache_bin "${edge_mfa_node_plan#npm }")/node" ]; then
  export PATH="$(node_cache_bin "${edge_mfa_node_plan#npm }"):$PATH"
fi
unset edge_mfa_node_version edge_mfa_node_plan
# worker-build downloads esbuild and wasm-opt unless told where they are: the npm
# packages' own, for this platform.
export ESBUILD_BIN; ESBUILD_BIN=$(esbuild_bin "$root")
export WASM_OPT_BIN; WASM_OPT_BIN=$(wasm_opt_bin "$root")
# The browser tests' Chromium when it is not Debian's (macOS: the Chromium app).
if [ -z "${CHROMIUM_PATH:-}" ]; then
  edge_mfa_chromium=$(chromium_path)
  if [ -n "$edge_mfa_chromium" ] && [ "$edge_mfa_chromium" != /usr/bin/chromium ]; then
    export CHROMIUM_PATH="$edge_mfa_chromium"
  fi
  unset edge_mfa_chromium
fi
# The Spin test host has its own workspace and build directory (wasmtime is large).
export SPIN_HOST_TARGET_DIR="${SPIN_HOST_TARGET_DIR:-$HOME/.cache/edge-mfa/spin-host-target}"
export EDGE_MFA_SPIN_HOST="$SPIN_HOST_TARGET_DIR/release/spin-test-host"
