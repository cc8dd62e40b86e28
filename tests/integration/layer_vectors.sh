# nutgen layer-hash against Microsoft's own results (tests/data/vectors, made
# with hcsshim's tar2ext4 + dm-verity): every root, every rejected input, and
# the ext4 images byte for byte; cryptsetup's veritysetup and e2fsck as
# independent oracles on our images. NG_TEST_SLOW=1 also compares the 512 MiB
# image of big-extents.tar.gz.
. "$NG_SRCDIR/tests/lib.sh"
V=$NG_SRCDIR/tests/data/vectors
[ -f "$V/layer-hashes.tsv" ] || skip "tests/data/vectors missing"

# 1. Every root, all files in one run with -j 2 (output stays in argument order).
tail -n +2 "$V/layer-hashes.tsv" | cut -f1 >"$T/names"
set --
while read -r n; do set -- "$@" "$V/layers/$n"; done <"$T/names"
expect_exit 0 "$NUTGEN" layer-hash -q -j 2 "$@"
tail -n +2 "$V/layer-hashes.tsv" | awk -v d="$V/layers/" -F'\t' '{ print $3 "  " d $1 }' >"$T/want"
if ! cmp -s "$T/want" "$T/out"; then
	diff "$T/want" "$T/out" >&2 || true
	fail "layer roots differ from the vectors"
fi
echo "roots: $(wc -l <"$T/out")/$(wc -l <"$T/want") vectors match"

# 2. The exact images, and the oracles on them.
have_verity=0
command -v veritysetup >/dev/null 2>&1 && have_verity=1
zeros=0000000000000000000000000000000000000000000000000000000000000000
same=0
while read -r n; do
	[ "$n" = big-extents.tar.gz ] && [ -z "${NG_TEST_SLOW:-}" ] && continue
	expect_exit 0 "$NUTGEN" layer-hash --ext4 "$T/img" "$V/layers/$n"
	root=$(cut -c1-64 "$T/out")
	gunzip -c "$V/layers-ext4/$n.ext4.gz" | cmp - "$T/img" >&2 ||
		fail "$n: ext4 image differs from hcsshim's"
	same=$((same + 1))
	# The oracles on a sample (the rest are byte-identical to Microsoft's
	# images anyway); e2fsck only where hcsshim's output is e2fsck-clean
	# (it writes 4096+ byte symlinks e2fsck calls invalid, pre-1970 times).
	case $n in
	realistic-small.tar | many-files.tar | many-dirs.tar | hardlinks.tar | xattrs.tar | \
		whiteouts.tar | sizes.tar | many-inodes.tar.gz | multi-mb.tar | devices.tar) ;;
	*) continue ;;
	esac
	if [ $have_verity = 1 ]; then
		veritysetup format --no-superblock --salt=$zeros "$T/img" "$T/hash" >"$T/vs" 2>&1 ||
			fail "$n: veritysetup failed: $(cat "$T/vs")"
		vroot=$(awk '/^Root hash:/ { print $3 }' "$T/vs")
		[ "$vroot" = "$root" ] || fail "$n: veritysetup says $vroot, nutgen $root"
	fi
	# e2fsck: compactext4 leaves the inode bitmap padding clear; nothing
	# else may be reported.
	if command -v e2fsck >/dev/null 2>&1; then
		e2fsck -fn "$T/img" >"$T/fsck" 2>&1 || true
		if grep -vE '^(e2fsck [0-9]|Pass [1-5]|Padding at end of inode bitmap|Fix\? no|$|.*WARNING: Filesystem still has errors|.*: [0-9]+/[0-9]+ files)' \
			"$T/fsck" | grep -q .; then
			cat "$T/fsck" >&2
			fail "$n: e2fsck finds problems"
		fi
	fi
done <"$T/names"
echo "ext4 images byte-identical: $same (veritysetup oracle: $have_verity)"

# 3. Every input the reference rejects: exit 1, one line naming the input,
# carrying the reference's reason.
rejected=0
tail -n +2 "$V/layer-errors.tsv" >"$T/errs"
while IFS='	' read -r n sum msg; do
	expect_exit 1 "$NUTGEN" layer-hash "$V/layers/$n"
	[ ! -s "$T/out" ] || fail "$n: printed a hash for a rejected layer"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "$n: error is not one line: $(cat "$T/err")"
	expect_err "$V/layers/$n: "
	reason=${msg#failed to convert tar to ext4: }
	[ "$reason" = "unexpected EOF" ] && reason="unexpected EOF at byte"
	grep -qF -- "$reason" "$T/err" || fail "$n: '$(cat "$T/err")' lacks '$reason'"
	rejected=$((rejected + 1))
done <"$T/errs"
echo "rejected: $rejected/$(wc -l <"$T/errs")"

# 4. zstd and stdin give the same root; a mix of good and bad inputs prints
# the good ones and exits 1; usage errors exit 2.
good=$V/layers/realistic-small.tar
wantroot=$(grep '^realistic-small.tar	' "$V/layer-hashes.tsv" | cut -f3)
if command -v zstd >/dev/null 2>&1; then
	zstd -q -3 -c "$good" >"$T/l.tar.zst"
	expect_exit 0 "$NUTGEN" layer-hash "$T/l.tar.zst"
	[ "$(cut -c1-64 "$T/out")" = "$wantroot" ] || fail "zstd layer: wrong root"
fi
"$NUTGEN" layer-hash - <"$good" >"$T/out" || fail "stdin input failed"
[ "$(cat "$T/out")" = "$wantroot  -" ] || fail "stdin: $(cat "$T/out")"
expect_exit 1 "$NUTGEN" layer-hash "$good" "$T/missing.tar" "$V/layers/err/err-truncated.tar"
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "good input of a mixed run not printed"
[ "$(wc -l <"$T/err")" -eq 2 ] || fail "expected two error lines: $(cat "$T/err")"
expect_err "missing.tar"
expect_exit 2 "$NUTGEN" layer-hash --ext4 "$T/x" "$good" "$good"
expect_exit 2 "$NUTGEN" layer-hash -j 0 "$good"
expect_exit 2 "$NUTGEN" layer-hash
# A rejected layer leaves no partial image behind.
expect_exit 1 "$NUTGEN" layer-hash --ext4 "$T/bad.img" "$V/layers/err/err-dup-file-with-data.tar"
[ ! -e "$T/bad.img" ] || fail "partial ext4 image left for a rejected layer"
[ -z "$(ls "$T" | grep 'bad.img')" ] || fail "temporary image file left behind"
# Killed while writing an image: the temporary file is removed by the
# signal handler, and no partial image takes the output's name.
big=$V/layers/big-extents.tar.gz
"$NUTGEN" layer-hash -q --ext4 "$T/sig.img" "$big" >/dev/null 2>&1 &
pid=$!
sleep 1
kill -TERM $pid 2>/dev/null || true
wait $pid || true
ls -a "$T" | grep -q 'sig\.img\..*tmp' && fail "temporary image left after SIGTERM"
if [ -e "$T/sig.img" ]; then
	[ "$(stat -c %s "$T/sig.img")" -eq 537006080 ] || fail "partial image after SIGTERM"
fi
exit 0
