#!/usr/bin/env bash
# Development certificate authority for the secured exchange (mutual TLS).
#
#   scripts/dev-ca.sh [--dir <folder>] [<identity>…]
#
# Creates, in <folder> (default .passerelle/tls, git-ignored), unless they already exist:
#   ca.pem / ca.key            the development CA (EC P-256, 2 years)
#   server.pem / server.key    the nats-server certificate: localhost and 127.0.0.1, serverAuth + clientAuth
#                              (cluster routes present it to each other)
#   client-<identity>.pem/.key one client certificate per identity named (CN = identity)
# Private keys are written 0600 inside a 0700 folder. Never use this CA outside development: production
# certificates come from the administration's PKI.
set -euo pipefail

dir=".passerelle/tls"
if [[ "${1:-}" == "--dir" ]]; then
  dir="${2:?--dir needs a folder}"
  shift 2
fi
openssl_bin="${OPENSSL:-openssl}"
umask 077
mkdir -p "$dir"
chmod 700 "$dir"

key() { "$openssl_bin" ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; chmod 600 "$1"; }

if [[ ! -f "$dir/ca.pem" || ! -f "$dir/ca.key" ]]; then
  key "$dir/ca.key"
  "$openssl_bin" req -x509 -new -key "$dir/ca.key" -sha256 -days 730 -subj "/CN=Passerelle development CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.pem"
fi

# sign <name> <subject> <extensions file>
sign() {
  key "$dir/$1.key"
  "$openssl_bin" req -new -key "$dir/$1.key" -subj "$2" -out "$dir/$1.csr"
  "$openssl_bin" x509 -req -in "$dir/$1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$3" -out "$dir/$1.pem" 2>/dev/null
  rm -f "$dir/$1.csr"
}

ext="$(mktemp)"
trap 'rm -f "$ext"' EXIT

if [[ ! -f "$dir/server.pem" || ! -f "$dir/server.key" ]]; then
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$ext"
  sign server "/CN=passerelle-nats" "$ext"
fi

for id in "$@"; do
  if [[ ! "$id" =~ ^[a-z0-9][a-z0-9-]*$ ]]; then
    echo "dev-ca.sh: '$id' is not an identity (lower-case letters, digits and hyphens)" >&2
    exit 2
  fi
  [[ -f "$dir/client-$id.pem" && -f "$dir/client-$id.key" ]] && continue
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=clientAuth" >"$ext"
  sign "client-$id" "/CN=$id" "$ext"
done
rm -f "$dir/ca.srl"
echo "development CA and certificates in $dir"
