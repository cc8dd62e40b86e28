# Shared helpers for integration scripts (sourced, not run).
# Environment from tests/run.sh: NUTGEN, NUTAPPLY, NG_SRCDIR, NG_TESTTMP.
set -eu
T=${NG_TESTTMP:?run through tests/run.sh}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "$*"
	exit 77
}

# expect_exit CODE CMD...: runs CMD, stdout/stderr to $T/out and $T/err.
expect_exit() {
	want=$1
	shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	set -e
	[ "$got" -eq "$want" ] || {
		cat "$T/err" >&2
		fail "'$*' exited $got, expected $want"
	}
}

# The stderr of the last expect_exit has exactly one line matching a pattern.
expect_err() {
	grep -q -- "$1" "$T/err" || {
		cat "$T/err" >&2
		fail "stderr does not mention '$1'"
	}
}

# python3 with the `cryptography` package (oracles): PATH first, then Debian's.
find_python_crypto() {
	for p in python3 /usr/bin/python3; do
		if "$p" -c 'import cryptography' 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
