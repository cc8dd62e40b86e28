# The bundle format against independent oracles: GNU tar lists and extracts
# it (sparse holes restored, same SHA-256), a Python writer made from SPEC.md
# alone gives the same bytes, and verification fails, naming why, on a
# flipped byte anywhere, a removed or added member, an untrusted signer, too
# few signers, an expired bundle or an older serial.
. "$NG_SRCDIR/tests/lib.sh"
PY=$(find_python_crypto) || skip "python3 with cryptography not found (make deps)"
cd "$T"
"$NUTGEN" keygen -o a.pem --no-passphrase >/dev/null 2>&1
"$NUTGEN" keygen -o b.pem --no-passphrase >/dev/null 2>&1
"$NUTGEN" keygen -o c.pem --no-passphrase >/dev/null 2>&1
[ "$(stat -c %a a.pem)" = 600 ] || fail "private key mode $(stat -c %a a.pem)"
# The key id is SHA-256 of the raw public key (SPEC §4.1), computed by openssl.
kid=$(openssl pkey -pubin -in a.pub -outform DER | tail -c 32 | sha256sum | cut -c1-64)

# A 64 MiB sparse image with data at a few places (1 GiB: make bench), and a
# file ending in a hole.
truncate -s 64M img
head -c 3000000 /dev/urandom | dd of=img bs=4096 seek=1000 conv=notrunc 2>/dev/null
printf 'tail' | dd of=img bs=1 seek=67108860 conv=notrunc 2>/dev/null
truncate -s 10M holey
head -c 5000 /dev/urandom | dd of=holey bs=1 seek=12345 conv=notrunc 2>/dev/null
printf '{"a": 1}\n' >t.json
printf '{"created":"2026-01-01T00:00:00Z","serial":7}\n' >f.json

expect_exit 0 "$NUTGEN" pack --fields f.json --sign-key a.pem -o b1.tgz --sparse encfs.img \
	--sparse holey.img encfs.img=img holey.img=holey t.json=t.json
expect_exit 0 "$NUTGEN" pack --fields f.json --sign-key a.pem -o b2.tgz --sparse encfs.img \
	--sparse holey.img encfs.img=img holey.img=holey t.json=t.json
cmp b1.tgz b2.tgz || fail "two packs of the same input differ"
size=$(stat -c %s b1.tgz)
alloc=$(($(stat -c %b img) * $(stat -c %B img)))
[ "$size" -le $((alloc + 1048576)) ] || fail "bundle $size bytes > allocated $alloc + 1 MiB"

# GNU tar is the oracle for the container format.
tar -tvzf b1.tgz >list || fail "GNU tar cannot list the bundle"
grep -q " 67108864 .* encfs.img$" list || fail "tar -tv: $(cat list)"
grep -q "SIGNATURES/$kid.sig" list || fail "signature member is not named by the key id $kid"
mkdir x && (cd x && tar -xzf ../b1.tgz --sparse) || fail "GNU tar cannot extract"
want=$(sha256sum <img | cut -c1-64)
[ "$(sha256sum <x/encfs.img | cut -c1-64)" = "$want" ] || fail "GNU tar restored a different encfs.img"
[ "$(sha256sum <x/holey.img)" = "$(sha256sum <holey)" ] || fail "GNU tar restored a different holey.img"
[ "$(stat -c %b x/encfs.img)" -lt 20000 ] || fail "GNU tar did not restore the holes"
grep -q "\"sha256\": \"$want\"" x/MANIFEST.json || fail "manifest digest is not the SHA-256 of the image"

# An independent writer from SPEC.md alone gives the same bytes, sparse
# members included (SPEC §2.1: stored blocks only, one framing per tar).
"$PY" "$NG_SRCDIR/tests/data/bundle/specbundle.py" py.tgz a.pem 2026-01-01T00:00:00Z 7 \
	encfs.img=holey:sparse t.json=t.json
expect_exit 0 "$NUTGEN" pack --fields f.json --sign-key a.pem -o ng.tgz --sparse encfs.img \
	encfs.img=holey t.json=t.json
cmp py.tgz ng.tgz || fail "nutgen's bytes (sparse) differ from the SPEC.md reference writer"
"$PY" "$NG_SRCDIR/tests/data/bundle/specbundle.py" py2.tgz a.pem 2026-01-01T00:00:00Z 7 \
	t.json=t.json holey=holey
expect_exit 0 "$NUTGEN" pack --fields f.json --sign-key a.pem -o ng2.tgz t.json=t.json holey=holey
cmp py2.tgz ng2.tgz || fail "nutgen's bytes differ from the SPEC.md reference writer"

expect_exit 0 "$NUTGEN" verify b1.tgz --trust a.pub
grep -q "OK: serial 7, 1 trusted of 1" "$T/out" || fail "verify: $(cat "$T/out")"
rm -rf x img b2.tgz

# Signatures, thresholds, serials: on a small bundle (s.tgz).
cp ng.tgz s.tgz
expect_exit 1 "$NUTGEN" verify s.tgz --trust b.pub
expect_err "0 trusted signature(s), 1 required"
expect_exit 1 "$NUTGEN" verify s.tgz --trust a.pub --trust b.pub --threshold 2
expect_err "1 trusted signature(s), 2 required"
expect_exit 1 "$NUTGEN" verify s.tgz --trust a.pub --min-serial 8
expect_err "rollback refused"
# Co-signing: in place, idempotent, and then the threshold of 2 holds.
expect_exit 0 "$NUTGEN" sign s.tgz --key b.pem
expect_exit 0 "$NUTGEN" sign s.tgz --key b.pem
grep -q "already signed" "$T/out" || fail "second sign: $(cat "$T/out")"
expect_exit 0 "$NUTGEN" verify s.tgz --trust a.pub --trust b.pub --threshold 2
expect_exit 1 "$NUTGEN" verify s.tgz --trust a.pub --trust a.pub --threshold 2
expect_err "1 trusted signature(s), 2 required"
# Signed by c too (not trusted): still verifies with a and b.
expect_exit 0 "$NUTGEN" sign s.tgz --key c.pem
expect_exit 0 "$NUTGEN" verify s.tgz --trust a.pub --trust b.pub --threshold 2
grep -q "2 trusted of 3" "$T/out" || fail "verify: $(cat "$T/out")"

# The verifier written from SPEC.md alone agrees with nutgen verify.
SV="$NG_SRCDIR/tests/data/bundle/specverify.py"
"$PY" "$SV" ng.tgz 1 a.pub || fail "specverify.py refuses a nutgen bundle"
"$PY" "$SV" s.tgz 2 a.pub b.pub || fail "specverify.py refuses the co-signed bundle"
! "$PY" "$SV" s.tgz 3 a.pub b.pub 2>/dev/null || fail "specverify.py: threshold"

# A flipped byte anywhere: compressed header, data, trailer.
small=ng.tgz
n=$(stat -c %s $small)
for off in 0 3 10 100 $((n / 3)) $((n / 2)) $((n - 9)) $((n - 5)) $((n - 1)); do
	cp $small flip.tgz
	b=$(od -An -tu1 -j "$off" -N1 flip.tgz | tr -d ' ')
	printf "$(printf '\\%03o' $(((b ^ 1) & 255)))" | dd of=flip.tgz bs=1 seek="$off" conv=notrunc 2>/dev/null
	expect_exit 1 "$NUTGEN" verify flip.tgz --trust a.pub
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "flip at $off: $(cat "$T/err")"
	! "$PY" "$SV" flip.tgz 1 a.pub 2>/dev/null || fail "specverify.py accepts a flip at $off"
done
# A byte flipped inside the tar stream (recompressed): each region names its reason.
"$PY" - "$small" <<'PYEOF'
import gzip, os, sys
sys.path.insert(0, os.environ["NG_SRCDIR"] + "/tests/data/bundle")
import specbundle as sb
raw = gzip.decompress(open(sys.argv[1], "rb").read())
def w(name, data):
    open(name, "wb").write(sb.gz(data))
def flip(i):
    b = bytearray(raw); b[i] ^= 1; return bytes(b)
w("flip-manifest.tgz", flip(1536 + 30))          # inside MANIFEST.json's text
# the payload's last data byte: just before the final padding
end = len(raw.rstrip(b"\0"))
w("flip-payload.tgz", flip(end - 1))
PYEOF
expect_exit 1 "$NUTGEN" verify flip-manifest.tgz --trust a.pub
expect_err "does not verify\|canonical\|not a JSON"
expect_exit 1 "$NUTGEN" verify flip-payload.tgz --trust a.pub
expect_err "does not match its SHA-256"

# Expiry.
printf '{"created":"2020-01-01T00:00:00Z","expires":"2020-02-01T00:00:00Z","serial":1}\n' >old.json
expect_exit 0 "$NUTGEN" pack --fields old.json --sign-key a.pem -o old.tgz t.json=t.json
expect_exit 1 "$NUTGEN" verify old.tgz --trust a.pub
expect_err "expired at 2020-02-01T00:00:00Z"

# A passphrase-protected key, the passphrase from a descriptor, never argv.
echo "correct horse" >pass
"$NUTGEN" keygen -o p.pem --passphrase-fd 3 3<pass >/dev/null 2>&1
grep -q "ENCRYPTED PRIVATE KEY" p.pem || fail "key not encrypted"
expect_exit 0 "$NUTGEN" pack --fields f.json --sign-key p.pem --passphrase-fd 3 -o p.tgz t.json=t.json 3<pass
echo wrong >bad
expect_exit 1 "$NUTGEN" pack --fields f.json --sign-key p.pem --passphrase-fd 3 -o p2.tgz t.json=t.json 3<bad
expect_err "wrong passphrase"
[ ! -e p2.tgz ] || fail "output left after a failure"
NUTGEN_KEY_PASSPHRASE="correct horse" expect_exit 0 "$NUTGEN" sign p.tgz --key p.pem
# The key is loaded through OSSL_STORE: a file: URI works like the path.
expect_exit 0 "$NUTGEN" sign p.tgz --key "file:$T/a.pem"
expect_exit 0 "$NUTGEN" verify p.tgz --trust p.pub --trust a.pub --threshold 2
ls ./*.tmp 2>/dev/null && fail "temporary files left behind"
exit 0
