# A corpus of hostile bundles (tests/data/bundle/mkmalicious.py: path
# traversal, links, devices, bombs, huge headers, bad sparse maps, trailing
# data, ...) is refused by `nutgen verify`, `show` and `sign`, each for the
# named reason, and nothing is written anywhere: not in the working directory,
# not in $TMPDIR, not at the traversal target.
. "$NG_SRCDIR/tests/lib.sh"
PY=$(find_python_crypto) || skip "python3 with cryptography not found (make deps)"
"$NUTGEN" keygen -o "$T/k.pem" --no-passphrase >/dev/null 2>&1
evil="$T/evil-target"
"$PY" "$NG_SRCDIR/tests/data/bundle/mkmalicious.py" "$T/corpus" "$evil" "$T/k.pem"
mkdir "$T/cwd" "$T/tmp"

expect() { # FILE REASON
	f="$T/corpus/$1"
	[ -f "$f" ] || fail "corpus file $1 missing"
	for cmd in verify show sign; do
		set +e
		case $cmd in
		verify) (cd "$T/cwd" && TMPDIR="$T/tmp" "$NUTGEN" verify "$f" --trust "$T/k.pub") >"$T/out" 2>"$T/err" ;;
		show) (cd "$T/cwd" && TMPDIR="$T/tmp" "$NUTGEN" show "$f") >"$T/out" 2>"$T/err" ;;
		# sign extracts into a private directory under $TMPDIR: nothing may
		# reach it, and it must be gone afterwards.
		sign) cp "$f" "$T/signme.tgz"
			(cd "$T/cwd" && TMPDIR="$T/tmp" "$NUTGEN" sign "$T/signme.tgz" --key "$T/k.pem") >"$T/out" 2>"$T/err" ;;
		esac
		rc=$?
		[ $cmd != sign ] || cmp -s "$f" "$T/signme.tgz" || fail "sign modified hostile bundle $1"
		set -e
		[ $rc -eq 1 ] || fail "$cmd $1: exit $rc, expected 1: $(cat "$T/err")"
		[ "$(wc -l <"$T/err")" -eq 1 ] || fail "$cmd $1: not one line: $(cat "$T/err")"
		grep -q -- "$2" "$T/err" || fail "$cmd $1: '$(cat "$T/err")' does not say '$2'"
	done
}

expect py-traversal-dotdot.tgz "'..' or '.' path component"
expect py-traversal-absolute.tgz "absolute path"
expect traversal-pax.tgz "'..' or '.' path component"
expect traversal-absolute-pax.tgz "absolute path"
expect py-symlink.tgz "symbolic link"
expect symlink.tgz "symbolic link"
expect hardlink.tgz "hard link"
expect device.tgz "device node"
expect directory.tgz "is a directory"
expect fifo.tgz "FIFO"
expect global-header.tgz "global header"
expect py-gnu-longname.tgz "path component"
expect py-huge-pax-header.tgz "pax header of 1048593 bytes"
expect owner-changed.tgz "not in the canonical form"
expect duplicate-manifest.tgz "'MANIFEST.json' is not in the manifest"
expect not-in-manifest.tgz "'zzz' is not in the manifest"
expect missing-member.tgz "'data.bin' listed in the manifest is missing"
expect size-mismatch.tgz "12 bytes, the manifest says 8"
expect digest-mismatch.tgz "does not match its SHA-256"
expect trailing-garbage.tgz "trailing data after the end of the tar"
expect no-end-marker.tgz "truncated"
expect concatenated-gzip.tgz "trailing data after the gzip stream"
expect garbage-after-gzip.tgz "trailing data after the gzip stream"
expect sparse-overlap.tgz "overlaps"
expect sparse-exceeds-size.tgz "exceeds the size"
expect sparse-offset-overflow.tgz "malformed sparse map"
expect sparse-too-many.tgz "70000 entries"
expect bomb-huge-claim.tgz "decompression cap"
expect bomb-member.tgz "not in canonical stored blocks"
expect bomb-zeros.tgz "not in canonical stored blocks"
expect big-member.tgz "16777216 bytes, the manifest says 8"
expect big-zeros.tgz "trailing data after the end of the tar"
expect bomb-manifest.tgz "limit 1048576"
expect not-gzip.tgz "gzip header is not the canonical one"
expect empty-gzip.tgz "truncated"
expect zero-bytes.tgz "gzip header is not the canonical one"

# The verifier written from SPEC.md alone refuses every one of them too.
"$PY" - "$NG_SRCDIR/tests/data/bundle" "$T/corpus" "$T/k.pub" <<'PYEOF' || fail "specverify.py accepts a hostile bundle"
import glob, sys
sys.path.insert(0, sys.argv[1])
import specverify as sv
from cryptography.hazmat.primitives import serialization as s
pub = s.load_pem_public_key(open(sys.argv[3], "rb").read()).public_bytes(
    s.Encoding.Raw, s.PublicFormat.Raw)
bad = []
for f in sorted(glob.glob(sys.argv[2] + "/*.tgz")):
    try:
        sv.verify(f, 1, [pub])
        bad.append(f)
    except Exception:
        pass
print("\n".join(bad))
sys.exit(1 if bad else 0)
PYEOF
[ -z "$(ls -A "$T/cwd")" ] || fail "files written in the working directory: $(ls -A "$T/cwd")"
[ -z "$(ls -A "$T/tmp")" ] || fail "files left in TMPDIR: $(ls -A "$T/tmp")"
[ ! -e "$evil" ] || fail "a traversal wrote $evil"
n=$(ls "$T/corpus" | wc -l)
[ "$n" -ge 34 ] || fail "corpus has only $n files"
echo "$n hostile bundles refused by verify, show and sign, nothing written"
