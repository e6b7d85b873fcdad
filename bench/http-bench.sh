#!/usr/bin/env bash
# HTTP proxy benchmark: lbkit vs httputil.ReverseProxy vs HAProxy vs NGINX,
# side by side on loopback (see http-bench/main.go for what is measured).
# Installs wrk, haproxy and nginx from Debian when missing (root + apt-get).
#
#   bench/http-bench.sh                 # 5 rounds of 10 s per proxy
#   bench/http-bench.sh -rounds 3 -duration 5s -proxies lbkit,httputil
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for p in wrk:wrk haproxy:haproxy nginx:nginx; do
	command -v "${p%%:*}" >/dev/null 2>&1 || missing+=("${p#*:}")
done
if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
		echo "http-bench: need ${missing[*]} (Debian packages); run as root with apt-get" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bin=$(mktemp -d)/http-bench
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./bench/http-bench
"$bin" "$@"
