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
trap 'rm -f "$out" "$out.test"' EXIT

echo "# core (go test -bench Forward ./lb/dsr, -count $COUNT)"
go test -run '^$' -bench 'BenchmarkForward' -benchtime 1s -count "$COUNT" ./lb/dsr | tee -a "$out" | grep Benchmark
echo "# end to end (window $DSR_WINDOW, $DSR_SENDERS UDP sender(s), $COUNT runs)"
# One go test per run: -count would repeat each sub-benchmark back to back,
# and a ratio must pair a kernel measurement with its neighbour in time.
go test -c -o "$out.test" ./bench/dsr
for i in $(seq "$COUNT"); do
	"$out.test" -test.run '^$' -test.bench 'BenchmarkEndToEnd' -test.benchtime 1x | tee -a "$out" | grep '^Benchmark'
done

echo
echo "# medians"
awk '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i++) if ($(i+1) ~ /^(Mpps|rx-pps|Gbit\/s)$/) {
		k = name " " $(i+1); n[k]++; val[k, n[k]] = $i; v[k] = v[k] " " $i
	}
}
function median(s,   a, c, i, j, t) {
	c = split(s, a, " ")
	for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}
# ratio: the median over runs of (forwarder / kernel) measured back to
# back in the same topology.
function ratio(lab, kind, unit,   k, r, i, s) {
	k = "BenchmarkEndToEnd/" lab "/kernel-" kind " " unit; r = "BenchmarkEndToEnd/" lab "/" kind " " unit
	s = ""
	for (i = 1; i <= n[r] && i <= n[k]; i++) if (val[k, i] > 0) s = s " " sprintf("%.2f", val[r, i] / val[k, i])
	return s == "" ? "n/a" : sprintf("%.2f (runs:%s)", median(s), s)
}
END {
	for (k in v) printf "median %-55s %12.3f   (runs:%s)\n", k, median(v[k]), v[k]
	split("dsr-l2 dsr-l2-ring dsr-vxlan dsr-vxlan-nooffload", labs, " ")
	for (p = 1; p <= 4; p++) {
		printf "ratio  %-20s/kernel  udp pps    %s\n", labs[p], ratio(labs[p], "udp", "rx-pps")
		printf "ratio  %-20s/kernel  tcp Gbit/s %s\n", labs[p], ratio(labs[p], "tcp", "Gbit/s")
	}
}' "$out" | sort
