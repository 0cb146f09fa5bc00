#!/bin/sh
# One-time set-up on a fresh Debian/Ubuntu machine: the Debian packages the tests
# use (needs root or sudo), then the npm dependencies (which build the native parts).
set -eu
cd "$(dirname "$0")/.."
packages=$(grep -v '^#' scripts/debian-packages.txt | tr '\n' ' ')
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  echo "installing Debian packages:$missing"
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
if [ -f package-lock.json ]; then npm ci; else npm install; fi
