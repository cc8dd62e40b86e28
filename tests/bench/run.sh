#!/bin/sh
# Runs every tests/bench/bench_*.sh. Each prints its figures as ratios against
# a baseline measured in the same run (never a timed pass/fail), so numbers
# from different machines can be compared.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
export NG_SRCDIR="$ROOT" NUTGEN="$ROOT/${BIN:-bin}/nutgen" NUTAPPLY="$ROOT/${BIN:-bin}/nutapply"
n=0
for b in tests/bench/bench_*.sh; do
	[ -f "$b" ] || continue
	work=$(mktemp -d "${TMPDIR:-/tmp}/nutgen-bench.XXXXXX")
	echo "== $(basename "$b" .sh)"
	NG_BENCHTMP=$work sh "$b" || { rm -rf "$work"; exit 1; }
	rm -rf "$work"
	n=$((n + 1))
done
echo "bench: $n benchmarks"
