#!/usr/bin/env bash
# L4 proxy benchmark: lbkit's TCPProxy/UDPProxy vs HAProxy (mode tcp,
# option splice-auto) vs NGINX stream vs no proxy, side by side on loopback
# (see l4-bench/main.go for what is measured). Installs haproxy, nginx and
# NGINX's stream module from Debian when missing (root + apt-get).
#
#   bench/l4-bench.sh                       # 5 rounds of 3 s per workload and proxy
#   bench/l4-bench.sh -rounds 3 -only bulk -proxies direct,lbkit,haproxy
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || missing+=(libnginx-mod-stream)
if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
		echo "l4-bench: need ${missing[*]} (Debian packages); run as root with apt-get" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export PATH=$PATH:/usr/sbin

bin=$(mktemp -d)/l4-bench
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./bench/l4-bench
"$bin" "$@"
