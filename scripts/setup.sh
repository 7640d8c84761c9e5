#!/usr/bin/env bash
# Idempotent set-up of a Debian/Ubuntu machine that has Node.js and Go: pnpm, the pinned nats-server,
# dependencies.
# Prints what it did; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }
need_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 127; fi
}

# apt_install <package>: Debian's package, quietly
apt_install() {
  need_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v node >/dev/null 2>&1; then
  say "Node.js is missing: install Node.js 20.19 or newer first (https://nodejs.org or your distribution)."
  exit 1
fi
# package.json's engines: Node.js 20.19 or newer (pnpm only warns, engine-strict being off)
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  say "Node.js $(node --version) is too old: Passerelle needs Node.js 20.19 or newer."
  exit 1
fi
say "Node.js $(node --version) present"

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if command -v pnpm >/dev/null 2>&1; then
  say "pnpm $(pnpm --version) present"
else
  say "installing pnpm ${pnpm_version} with npm"
  npm install -g "pnpm@${pnpm_version}" >/dev/null 2>&1 || need_root npm install -g "pnpm@${pnpm_version}" >/dev/null
  say "pnpm $(pnpm --version) installed"
fi

# nats-server: exactly the pinned release (packages/testing/nats-server.json), built from the official Go
# module into a folder shared by every clone on this machine, where the test harness and `pnpm start` look.
nats_version=$(node -p 'require("./packages/testing/nats-server.json").version')
nats_module=$(node -p 'require("./packages/testing/nats-server.json").module')
nats_dir="${PASSERELLE_TOOLS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/passerelle}/nats-server/v${nats_version}"
nats_version_of() { "$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -n1; }
nats_bin=""
if [ -n "${PASSERELLE_NATS_SERVER:-}" ]; then
  found=$(nats_version_of "$PASSERELLE_NATS_SERVER" || true)
  if [ "$found" != "$nats_version" ]; then
    say "PASSERELLE_NATS_SERVER=$PASSERELLE_NATS_SERVER is nats-server ${found:-(not runnable)}, not the pinned $nats_version:"
    say "unset it to let setup build $nats_version, or point it at a nats-server $nats_version."
    exit 1
  fi
  nats_bin=$PASSERELLE_NATS_SERVER
elif [ -x "$nats_dir/nats-server" ] && [ "$(nats_version_of "$nats_dir/nats-server")" = "$nats_version" ]; then
  nats_bin="$nats_dir/nats-server"
elif on_path=$(command -v nats-server 2>/dev/null) && [ "$(nats_version_of "$on_path")" = "$nats_version" ]; then
  nats_bin=$on_path
fi
if [ -n "$nats_bin" ]; then
  say "nats-server $nats_version present: $nats_bin"
elif command -v go >/dev/null 2>&1; then
  say "building nats-server $nats_version with $(go version | cut -d' ' -f3) (go install ${nats_module}@v${nats_version})"
  mkdir -p "$nats_dir"
  # CGO off: a static binary that does not depend on this machine's C library
  if ! CGO_ENABLED=0 GOBIN="$nats_dir" GOFLAGS=-trimpath go install "${nats_module}@v${nats_version}"; then
    say "go install of nats-server $nats_version failed (see above): the Go module proxy must be reachable."
    exit 1
  fi
  nats_bin="$nats_dir/nats-server"
  say "nats-server $(nats_version_of "$nats_bin") installed: $nats_bin"
else
  say "nats-server $nats_version is missing and Go is not installed to build it. Either:"
  say "  - install Go 1.26 or newer (https://go.dev/doc/install), then run this script again; or"
  say "  - build it elsewhere with 'CGO_ENABLED=0 GOBIN=$nats_dir go install ${nats_module}@v${nats_version}'"
  say "    and copy the binary to $nats_dir/nats-server; or"
  say "  - download the v${nats_version} release of nats-server (https://github.com/nats-io/nats-server/releases),"
  say "    put it on the PATH or set PASSERELLE_NATS_SERVER to its path."
  exit 1
fi

# ensure_command <command> <why>: Debian's package of the same name, where apt-get is there
ensure_command() {
  if command -v "$1" >/dev/null 2>&1; then
    say "$1 present"
  elif command -v apt-get >/dev/null 2>&1; then
    say "installing $1 with apt-get ($2)"
    apt_install "$1"
    say "$1 installed: $(command -v "$1")"
  else
    say "$1 is missing: install it for $2"
  fi
}

if [ "${PASSERELLE_SETUP_BROWSER:-}" = "1" ]; then
  ensure_command chromium "browser tests of the audit viewer"
fi
# the openssl command makes the development CA of `pnpm start --secure` and of the secured tests (scripts/dev-ca.sh),
# and answers as the local time-stamping authority of the audit tests (openssl ts)
ensure_command openssl "the development CA of the secured exchange, the audit tests' local TSA"

# promtool checks and unit-tests the alert rules (infra/prometheus/). It comes with Debian's prometheus package,
# whose service must not start here: policy-rc.d refuses every service start while the package installs.
if command -v promtool >/dev/null 2>&1; then
  say "promtool present"
elif command -v apt-get >/dev/null 2>&1; then
  say "installing promtool with apt-get (Debian's prometheus package, its service not started)"
  policy=/usr/sbin/policy-rc.d
  added_policy=""
  if [ ! -e "$policy" ]; then
    need_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy" && added_policy=1
  fi
  installed=0
  apt_install prometheus && installed=1
  if [ -n "$added_policy" ]; then need_root rm -f "$policy"; fi
  # a systemd that started it anyway (no policy-rc.d honoured): stop and disable it, promtool is all we need
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    need_root systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
  if [ "$installed" = 1 ] && command -v promtool >/dev/null 2>&1; then
    say "promtool installed: $(command -v promtool)"
  else
    say "could not install promtool: the alert-rule tests will fail until it is on the PATH"
  fi
else
  say "promtool is missing: install Prometheus's promtool for the alert-rule tests (infra/prometheus/)"
fi

say "installing dependencies (pnpm install)"
if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile; else pnpm install; fi
say "done: 'pnpm start' runs the exchange, 'pnpm test' runs the tests"
