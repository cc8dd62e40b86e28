#!/bin/sh
# Runs every unit test program ($O/tests/*) and every integration script
# (tests/integration/*.sh), then prints one closing line "N passed, N failed"
# (", N skipped") covering both. Unit tests count as CUnit counts them;
# an integration script is one test: exit 0 passes, 77 skips (it says why),
# anything else fails and its log is shown.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
O=${O:-build}
BIN=${BIN:-bin}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
case $O in /*) ;; *) O=$ROOT/$O ;; esac
# pyenv's python3 shim costs seconds per start on a loaded machine; put the
# real interpreter's directory first so every test's python3 is a direct exec.
py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && PATH="$(dirname "$py"):$PATH"
export PATH
export NG_SRCDIR="$ROOT" NUTGEN="$BIN/nutgen" NUTAPPLY="$BIN/nutapply" NG_BUILD="$O"
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/nutgen-tests.XXXXXX")
trap 'rm -rf "$LOGDIR"' EXIT INT TERM
passed=0 failed=0 skipped=0
failures=""
only=${NG_TEST_ONLY:-}

# One program per tests/unit/*.c: a binary left in $O by a removed source does not run.
for src in "$NG_SRCDIR"/tests/unit/*.c; do
	name=$(basename "$src" .c)
	t="$O/tests/$name"
	[ -x "$t" ] || continue
	[ -z "$only" ] || case $name in *$only*) ;; *) continue ;; esac
	log="$LOGDIR/$name.log"
	"$t" >"$log" 2>&1
	rc=$?
	# CUnit's summary row: "tests  <suites> <ran> <passed> <failed> <inactive>"
	row=$(grep -E '^ +tests +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+' "$log" | head -n 1)
	if [ -n "$row" ]; then
		set -- $row
		p=$4 f=$5
	else
		p=0 f=1
	fi
	[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || f=1
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		echo "FAIL unit $name (exit $rc)"
		sed 's/^/    /' "$log" | tail -n 40
		failures="$failures unit:$name"
	else
		echo "ok   unit $name ($p tests)"
	fi
done

for s in tests/integration/*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	[ -z "$only" ] || case $name in *$only*) ;; *) continue ;; esac
	log="$LOGDIR/$name.log"
	start=$(date +%s)
	NG_TESTTMP=$(mktemp -d "${TMPDIR:-/tmp}/nutgen-$name.XXXXXX")
	NG_TESTTMP=$NG_TESTTMP sh "$s" >"$log" 2>&1 </dev/null
	rc=$?
	rm -rf "$NG_TESTTMP"
	secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok   $name (${secs}s)"
	elif [ $rc -eq 77 ]; then
		skipped=$((skipped + 1))
		echo "skip $name: $(tail -n 1 "$log")"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "FAIL $name (exit $rc, ${secs}s)"
		sed 's/^/    /' "$log" | tail -n 60
	fi
done

[ -z "$failures" ] || echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ $((passed + skipped)) -gt 0 ]
