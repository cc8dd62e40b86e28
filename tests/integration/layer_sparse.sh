# Go's archive/tar (hence Azure) expands GNU sparse entries to dense data:
# an archive of a sparse file in every GNU tar sparse flavour (old GNU 'S',
# PAX 0.0, 0.1, 1.0) must give the root of the plain archive of that file.
. "$NG_SRCDIR/tests/lib.sh"
tar --version 2>/dev/null | grep -q 'GNU tar' || skip "GNU tar not installed"
mkdir "$T/src"
truncate -s 1M "$T/src/f"
head -c 8192 /dev/urandom | dd of="$T/src/f" bs=4096 seek=100 conv=notrunc 2>/dev/null
truncate -s 2M "$T/src/f"
head -c 1000 /dev/urandom | dd of="$T/src/f" bs=1000 seek=1500 conv=notrunc 2>/dev/null
echo hi >"$T/src/small"
tr_() { tar --owner=0 --group=0 --numeric-owner --mtime=2023-01-01 -C "$T/src" "$@" f small; }
tr_ --format=gnu -cf "$T/dense.tar"
tr_ --format=gnu --sparse -cf "$T/s-gnu.tar"
for v in 0.0 0.1 1.0; do
	tr_ --format=posix --pax-option=delete=atime,delete=ctime --sparse --sparse-version=$v \
		-cf "$T/s-$v.tar"
done
expect_exit 0 "$NUTGEN" layer-hash "$T/dense.tar"
dense=$(cut -c1-64 "$T/out")
for a in s-gnu s-0.0 s-0.1 s-1.0; do
	[ "$(stat -c %s "$T/$a.tar")" -lt 100000 ] || skip "tar did not write $a sparse"
	expect_exit 0 "$NUTGEN" layer-hash "$T/$a.tar"
	[ "$(cut -c1-64 "$T/out")" = "$dense" ] || fail "$a: sparse root differs from dense"
done
# A sparse map pointing past its data is rejected, as Go does.
python3 - "$T/s-0.1.tar" "$T/bad.tar" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.find(b"GNU.sparse.numblocks=")
b[i + 21:i + 22] = b"9"  # claim more blocks than the map lists
open(sys.argv[2], "wb").write(b)
PY
expect_exit 1 "$NUTGEN" layer-hash "$T/bad.tar"
exit 0
