#!/usr/bin/env bash
# End-to-end DSR figures: the forwarder (L2 and VXLAN) beside the kernel's
# own IP forwarding of the same traffic through the same namespace
# topology, in the same run. Needs root. Prints each run, then medians and
# ratios to the kernel path.
#
#   bench/dsr.sh                 # 5 runs, 2 s windows, 1 UDP sender
#   COUNT=7 DSR_WINDOW=3s DSR_SENDERS=2 bench/dsr.sh
#
# Also the forwarding core as a pure function (packets/s per core).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-5}
export DSR_WINDOW=${DSR_WINDOW:-2s} DSR_SENDERS=${DSR_SENDERS:-1}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "# core (go test -bench Forward ./lb/dsr, -count $COUNT)"
go test -run '^$' -bench 'BenchmarkForward' -benchtime 1s -count "$COUNT" ./lb/dsr | tee -a "$out" | grep Benchmark
echo "# end to end (window $DSR_WINDOW, $DSR_SENDERS UDP sender(s), -count $COUNT)"
go test -run '^$' -bench 'BenchmarkEndToEnd' -benchtime 1x -count "$COUNT" ./bench/dsr | tee -a "$out" | grep Benchmark

echo
echo "# medians"
awk '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i++) if ($(i+1) ~ /^(Mpps|rx-pps|Gbit\/s)$/) { k = name " " $(i+1); v[k] = v[k] " " $i }
}
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	for (k in v) m[k] = median(v[k])
	for (k in m) printf "%-55s %14.3f   (runs:%s)\n", k, m[k], v[k]
	ku = m["BenchmarkEndToEnd/kernel/udp rx-pps"]; kt = m["BenchmarkEndToEnd/kernel/tcp Gbit/s"]
	if (ku > 0) {
		printf "ratio dsr-l2/kernel    udp pps %.2f   tcp Gbit/s %.2f\n", m["BenchmarkEndToEnd/dsr-l2/udp rx-pps"] / ku, m["BenchmarkEndToEnd/dsr-l2/tcp Gbit/s"] / kt
		printf "ratio dsr-vxlan/kernel udp pps %.2f   tcp Gbit/s %.2f\n", m["BenchmarkEndToEnd/dsr-vxlan/udp rx-pps"] / ku, m["BenchmarkEndToEnd/dsr-vxlan/tcp Gbit/s"] / kt
	}
}' "$out" | sort
