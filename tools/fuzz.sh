#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each (default 10s).
# Targets are found by their `func FuzzXxx(f *testing.F)` declarations.
set -euo pipefail
fuzztime=${1:-10s}
cd "$(dirname "$0")/.."

n=0
while IFS=: read -r file name; do
	dir=./$(dirname "$file")
	echo "fuzz: $dir $name ($fuzztime)"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$dir"
	n=$((n + 1))
done < <(git ls-files '*_test.go' 2>/dev/null | xargs -r grep -oE '^func Fuzz[A-Za-z0-9_]*\(' /dev/null | sed -E 's/^(.*):func (Fuzz[A-Za-z0-9_]*)\($/\1:\2/' | sort -u)
echo "fuzz: $n targets, $fuzztime each"
