#!/bin/sh
# Runs each libFuzzer target in DIR for FUZZ_SECONDS on a scratch copy of its
# seed corpus (tests/fuzz/corpus/NAME), so the repository is never written.
# Crashes are kept in fuzz-out/ (ignored by git) to reproduce.
set -eu
cd "$(dirname "$0")/../.."
dir=$1
secs=${FUZZ_SECONDS:-20}
n=0
mkdir -p fuzz-out
for f in "$dir"/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	work=$(mktemp -d "${TMPDIR:-/tmp}/nutgen-fuzz.XXXXXX")
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
	echo "fuzz: $name for ${secs}s"
	"$f" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 \
		-artifact_prefix="fuzz-out/$name-" "$work" 2>"fuzz-out/$name.log" || {
		tail -n 30 "fuzz-out/$name.log"
		rm -rf "$work"
		echo "fuzz: $name FAILED (see fuzz-out/)"
		exit 1
	}
	grep -E "^#[0-9]+.*DONE" "fuzz-out/$name.log" | tail -n 1 || true
	rm -rf "$work"
	n=$((n + 1))
done
echo "fuzz: $n targets ran clean"
