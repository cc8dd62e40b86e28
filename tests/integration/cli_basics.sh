# Both programs: --help, --version, `CMD --help` for every listed command,
# and the exit status contract (0 ok, 1 failure, 2 usage).
. "$NG_SRCDIR/tests/lib.sh"

for prog in "$NUTGEN" "$NUTAPPLY"; do
	name=$(basename "$prog")
	expect_exit 0 "$prog" --help
	grep -q "^Usage: $name" "$T/out" || fail "$name --help has no usage line"
	grep -q "Exit status: 0 success, 1 failure, 2 usage error" "$T/out" ||
		fail "$name --help does not document exit codes"
	expect_exit 0 "$prog" --version
	grep -Eq "^$name [0-9]+\.[0-9]+\.[0-9]+" "$T/out" || fail "$name --version: $(cat "$T/out")"
	expect_exit 2 "$prog"
	expect_exit 2 "$prog" no-such-command
	expect_err "unknown command 'no-such-command'"
	"$prog" --help | awk '/^Commands:/{c=1;next} /^$/{c=0} c{print $1}' >"$T/cmds"
	while read -r cmd; do
		expect_exit 0 "$prog" "$cmd" --help
		[ -s "$T/out" ] || fail "$name $cmd --help printed nothing"
		grep -qi "usage" "$T/out" || fail "$name $cmd --help has no usage line"
	done <"$T/cmds"
done

# nutapply is the small, audited half: it must not pull in libcryptsetup.
if command -v ldd >/dev/null && [ -z "${NG_ASAN:-}" ]; then
	! ldd "$NUTAPPLY" | grep -q cryptsetup || fail "nutapply links libcryptsetup"
	! ldd "$NUTAPPLY" | grep -q ext2fs || fail "nutapply links libext2fs"
fi
exit 0
