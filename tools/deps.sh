#!/usr/bin/env bash
# Installs the system packages the tests need, where they are missing and
# where this machine allows it (root and apt-get). Arguments are
# program:debian-package pairs. Never fails the build: tests that need a
# program still missing skip with a message naming it.
set -euo pipefail

missing=()
for pair in "$@"; do
	prog=${pair%%:*} pkg=${pair#*:}
	command -v "$prog" >/dev/null 2>&1 || [ -x "/usr/sbin/$prog" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing ${missing[*]}; not root or no apt-get, so the tests that need them will skip" >&2
	exit 0
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
