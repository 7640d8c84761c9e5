#!/usr/bin/env bash
# Idempotent set-up of a Debian/Ubuntu machine that has Node.js: pnpm, nats-server, dependencies.
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

find_nats() {
  command -v nats-server 2>/dev/null && return 0
  for d in /usr/sbin /usr/local/sbin /usr/local/bin /usr/bin; do
    [ -x "$d/nats-server" ] && { echo "$d/nats-server"; return 0; }
  done
  return 1
}
if nats_bin=$(find_nats); then
  say "nats-server present: $nats_bin ($("$nats_bin" --version 2>&1))"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    say "nats-server is missing and apt-get is not available: install nats-server 2.9 or newer by hand"
    say "and put it on the PATH, or set PASSERELLE_NATS_SERVER to its path."
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    say "nats-server is missing and installing it needs root: run 'apt-get install -y nats-server' as root."
    exit 1
  fi
  say "installing nats-server with apt-get"
  apt_install nats-server
  nats_bin=$(find_nats)
  say "nats-server installed: $nats_bin ($("$nats_bin" --version 2>&1))"
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
# the openssl command makes the development CA of `pnpm start --secure` and of the secured tests (scripts/dev-ca.sh)
ensure_command openssl "the development CA of the secured exchange and its tests"


# a C compiler for the two P-256 addons that pnpm install builds (packages/envelope/native/: agreements, key
# tables); without one the exchange still works, on node:crypto alone (more CPU per message)
cc_bin=${CC:-cc}
cc_bin=${cc_bin%% *} # CC may carry arguments ("ccache gcc")
if command -v "$cc_bin" >/dev/null 2>&1; then
  say "C compiler present: $(command -v "$cc_bin")"
elif command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1; }; then
  say "installing a C compiler with apt-get (for the envelope's P-256 addons)"
  if apt_install gcc libc6-dev; then
    say "C compiler installed: $(command -v cc)"
  else
    say "could not install gcc: P-256 agreements and verifications will run on node:crypto alone"
  fi
else
  say "no C compiler: P-256 agreements will run on node:crypto (install gcc and run pnpm install to build the addon)"
fi

say "installing dependencies (pnpm install)"
if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile; else pnpm install; fi
say "done: 'pnpm start' runs the exchange, 'pnpm test' runs the tests"
