# What scripts/dev (Workers) and scripts/dev-spin (Spin) share: local keys made once,
# waiting for the runtime, the demo tenant made once, and what they print.
# Sourced after env.sh; defines functions only.

# A key file's value: dev_key FILE NAME (empty when absent).
dev_key() { sed -n "s/^$2=//p" "$1" 2>/dev/null | tail -n 1; }

dev_random_base64() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }
dev_random_base64url() { dev_random_base64 | tr '+/' '-_' | tr -d '='; }

# Local secrets, made once into FILE (mode 600; the NAME=value lines of .dev.vars):
# MASTER_KEY (32 random bytes, base64) and OPERATOR_KEY (32 random bytes, base64url).
# Production uses the platform's secrets instead.
#   dev_keys_ensure FILE STATE_DIR...
# A FILE missing while a STATE_DIR holds data stops with a message: new keys would
# make every tenant in it answer 500. An operator key shorter than 32 bytes (or an
# old op_ one) is replaced; tenants depend only on MASTER_KEY, which is kept.
# Sets dev_master_key and dev_operator_key.
dev_keys_ensure() {
  local file=$1 state
  shift
  if [ ! -f "$file" ]; then
    for state in "$@"; do
      if [ -d "$state" ] && [ -n "$(ls -A "$state" 2>/dev/null)" ]; then
        echo "$file is missing, but $state holds tenants sealed under the MASTER_KEY it had." >&2
        echo "Put $file back, or remove $state to start afresh (its tenants are lost)." >&2
        return 1
      fi
    done
    (
      umask 077
      printf 'MASTER_KEY=%s\nOPERATOR_KEY=%s\n' "$(dev_random_base64)" "$(dev_random_base64url)" > "$file"
    )
  fi
  chmod 600 "$file"
  dev_master_key=$(dev_key "$file" MASTER_KEY)
  dev_operator_key=$(dev_key "$file" OPERATOR_KEY)
  if [ -z "$dev_master_key" ]; then
    echo "$file has no MASTER_KEY line; put the earlier one back, or remove $file and the state to start afresh." >&2
    return 1
  fi
  if [ "${#dev_operator_key}" -lt 43 ] || [[ "$dev_operator_key" == op_* ]]; then
    dev_operator_key=$(dev_random_base64url)
    local rest
    rest=$(grep -v '^OPERATOR_KEY=' "$file" || true)
    (
      umask 077
      { [ -z "$rest" ] || printf '%s\n' "$rest"; printf 'OPERATOR_KEY=%s\n' "$dev_operator_key"; } > "$file.new"
    )
    mv "$file.new" "$file"
  fi
}

# Waits until BASE/health answers while process PID lives (SECONDS, 60 unless
# given).
#   dev_wait_health BASE PID NAME [SECONDS]
dev_wait_health() {
  local base=$1 pid=$2 name=$3 seconds=${4:-60} i answer=""
  for ((i = 0; i < seconds * 5; i++)); do
    curl -fsS "$base/health" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$name exited" >&2; return 1; }
    sleep 0.2
  done
  answer=$(curl -sS -w ' (HTTP %{http_code})' "$base/health" 2>&1 || true)
  echo "$name did not answer $base/health with 200 within ${seconds}s; it answers: $answer" >&2
  return 1
}

# A field of a JSON file: dev_json FILE FIELD
dev_json() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]] ?? "")' "$1" "$2"; }

# The demo tenant, made once: POST /v1/tenants with the operator key when the
# runtime does not know it, its answer (admin key, ticket secret) and origin kept in
# CREDS (mode 600). Then the kept keys must work: a runtime that knows the tenant
# while CREDS is gone or belongs to another one, or state sealed under another
# MASTER_KEY (500), stops here with what to do.
#   dev_demo_tenant BASE OPERATOR_KEY CREDS STATE
dev_demo_tenant() {
  local base=$1 operator_key=$2 creds=$3 state=$4 status
  status=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/demo/jwks.json")
  if [ "$status" = 404 ]; then
    curl -fsS -X POST "$base/v1/tenants" -H "authorization: Bearer $operator_key" -H 'content-type: application/json' \
      -d "{\"id\":\"demo\",\"name\":\"edge-mfa demo\",\"rp_id\":\"localhost\",\"origins\":[\"$base\"]}" > "$creds.new" || {
      rm -f "$creds.new"; echo "could not create the demo tenant" >&2; return 1; }
    node -e 'const fs = require("fs"); const t = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
      fs.writeFileSync(process.argv[2], JSON.stringify({ ...t, origin: process.argv[3] }, null, 2) + "\n", { mode: 0o600 });' \
      "$creds.new" "$creds" "$base"
    rm -f "$creds.new"
  elif [ ! -f "$creds" ]; then
    echo "The local state has a demo tenant whose keys were not kept in $creds; remove $state and start again." >&2
    return 1
  fi
  # The admin key opens the admin API; a ticket signed with the kept ticket secret
  # is accepted, which unseals that secret under MASTER_KEY.
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $(dev_json "$creds" admin_key)" "$base/v1/demo/admin/policy")
  if [ "$status" = 200 ]; then
    status=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/demo/factors" -H "authorization: Bearer $(node "$root/scripts/mint-ticket.mjs" \
      --tenant demo --secret "$(dev_json "$creds" ticket_secret)" --sub alice --ttl 60)")
  fi
  case "$status" in
    200) ;;
    401 | 403)
      echo "The keys kept in $creds are not the demo tenant's in $state; remove $state and $creds and start again." >&2
      return 1 ;;
    *)
      echo "The demo tenant answers $status: $state was sealed under another MASTER_KEY than the one kept now." >&2
      echo "Put the earlier key file back, or remove $state and $creds and start again." >&2
      return 1 ;;
  esac
}

# The block the dev commands print once the runtime answers.
#   dev_print_info BASE CREDS OPERATOR_KEY KEY_FILE "RUNTIME (STATE)"
dev_print_info() {
  local base=$1 creds=$2 operator_key=$3 key_file=$4 runtime=$5
  local admin_key ticket_secret origin ticket note=""
  admin_key=$(dev_json "$creds" admin_key)
  ticket_secret=$(dev_json "$creds" ticket_secret)
  origin=$(dev_json "$creds" origin)
  ticket=$(node "$root/scripts/mint-ticket.mjs" --tenant demo --secret "$ticket_secret" --sub alice --ttl 900)
  if [ -n "$origin" ] && [ "$origin" != "$base" ]; then
    note="  note: the demo tenant was made for $origin: the demo page works there only,
  since the tenant lists that origin alone (use that port, or remove the state and
  its demo-tenant.json).

"
  fi
  cat <<INFO

edge-mfa is running at $base ($runtime)

  demo tenant     demo  (rp_id localhost, origin ${origin:-$base})
  admin key       $admin_key
  ticket secret   $ticket_secret
  operator key    $operator_key   (from $key_file)

$note  demo page       $base/demo/#tenant=demo&ticket=$ticket
  admin console   $base/admin/  (sign in with tenant "demo" and the admin key above)

  a ticket for "alice" (valid 15 minutes):
    $ticket
  another user's demo link:
    node scripts/mint-ticket.mjs --tenant demo --secret '$ticket_secret' --sub bob --link $base

  try (what the policy decides for alice now; the ticket above is in it):
    curl -s -X POST $base/v1/demo/assess -H 'authorization: Bearer $ticket' -H 'content-type: application/json' -d '{}'

Ctrl-C stops it.
INFO
}

# Runs "$@" in the background as its own process group and stops the whole group
# (the runtime and its children) when this script ends or is interrupted. Sets
# dev_pid.
dev_run() {
  set -m
  "$@" </dev/null &
  dev_pid=$!
  set +m
  trap 'dev_stop' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
dev_stop() {
  [ -n "${dev_pid:-}" ] || return 0
  kill -TERM -- "-$dev_pid" 2>/dev/null || kill -TERM "$dev_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 25; i++)); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$dev_pid" 2>/dev/null || true
  dev_pid=
}
