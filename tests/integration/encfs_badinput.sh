# Hostile or wrong input to `nutgen encfs create` and `nutgen key new`: one
# clear line on stderr naming the input, non-zero exit, no output left.
. "$NG_SRCDIR/tests/lib.sh"
mkdir "$T/out.d"
head -c 32 /dev/urandom >"$T/good.key"

# expect_clean_fail EXIT PATTERN CMD...: fails as expected, one line, no output file.
expect_clean_fail() {
	code=$1 pat=$2
	shift 2
	expect_exit "$code" "$@"
	expect_err "$pat"
	[ "$(grep -c . "$T/err")" -le 2 ] || { cat "$T/err"; fail "more than one error line: $*"; }
	[ -z "$(ls -A "$T/out.d")" ] || fail "output left behind by: $* ($(ls -A "$T/out.d"))"
}
create() { "$NUTGEN" encfs create --out "$T/out.d/e.img" "$@"; }

expect_clean_fail 1 "not a multiple of 4096" create --key-file "$T/good.key" --size 1000001
expect_clean_fail 1 "between 64MiB and 1TiB" create --key-file "$T/good.key" --size 32MiB
expect_clean_fail 1 "between 64MiB and 1TiB" create --key-file "$T/good.key" --size 2TiB
expect_clean_fail 2 "size 'lots'" create --key-file "$T/good.key" --size lots
expect_clean_fail 1 "--add $T/nope: cannot read" create --key-file "$T/good.key" --add "$T/nope:x"
mkfifo "$T/fifo"
expect_clean_fail 1 "only regular files and directories" create --key-file "$T/good.key" --add "$T/fifo:x"
echo hi >"$T/f.txt"
expect_clean_fail 1 "relative path" create --key-file "$T/good.key" --add "$T/f.txt:../x"
expect_clean_fail 1 "relative path" create --key-file "$T/good.key" --add "$T/f.txt:/etc/x"
mkdir -p "$T/tree"
ln -s /etc/passwd "$T/tree/link"
expect_clean_fail 1 "symlinks" create --key-file "$T/good.key" --add "$T/tree:t"
if [ "$(id -u)" -ne 0 ]; then
	echo secret >"$T/unreadable"
	chmod 000 "$T/unreadable"
	expect_clean_fail 1 "cannot read" create --key-file "$T/good.key" --add "$T/unreadable:x"
fi
expect_clean_fail 2 "expected UID:GID" create --key-file "$T/good.key" --owner root
expect_clean_fail 1 "journal" create --key-file "$T/good.key" --size 64MiB --journal-mib 40

# Key files of the wrong length or shape.
head -c 31 /dev/urandom >"$T/k31"
head -c 33 /dev/urandom >"$T/k33"
: >"$T/k0"
printf '{"kty":"oct-HSM","k":"AAECAwQFBgcICQoLDA0ODw"}' >"$T/k16.json"
printf '{"kty":"RSA-HSM","pkcs8":"AAAA","key_derivation":{"salt":"00","label":"x"}}' >"$T/badrsa.json"
expect_clean_fail 1 "$T/k31: key file is 31 bytes; expected exactly 32" create --key-file "$T/k31"
expect_clean_fail 1 "$T/k33: key file is 33 bytes" create --key-file "$T/k33"
expect_clean_fail 1 "$T/k0: key file is 0 bytes" create --key-file "$T/k0"
expect_clean_fail 1 "oct-HSM key is 16 bytes" create --key-file "$T/k16.json"
expect_clean_fail 1 "not a PKCS#8 private key" create --key-file "$T/badrsa.json"
expect_clean_fail 1 "cannot open" create --key-file "$T/missing.key"
# No key byte in any error.
for f in k31 k33; do
	hex=$(od -An -tx1 -v "$T/$f" | tr -d ' \n' | cut -c1-16)
	expect_exit 1 create --key-file "$T/$f"
	grep -qi "$hex" "$T/err" && fail "key bytes in the error"
done

# KEKs that are not RSA public keys.
kn() { "$NUTGEN" key new --type oct-HSM --out "$T/out.d/k" --byok-out "$T/out.d/b" \
	--kek-kid https://v.vault.azure.net/keys/kek/1 --kek "$@"; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ec.pem" 2>/dev/null
openssl pkey -in "$T/ec.pem" -pubout -out "$T/ec.pub"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$T/r1024.pem" 2>/dev/null
openssl pkey -in "$T/r1024.pem" -pubout -out "$T/r1024.pub"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/r2048.pem" 2>/dev/null
echo "not a key" >"$T/text.pem"
expect_clean_fail 1 "not an RSA public key" kn "$T/ec.pub"
expect_clean_fail 1 "not an RSA public key" kn "$T/text.pem"
expect_clean_fail 1 "1024 bits" kn "$T/r1024.pub"
expect_clean_fail 1 "holds a private key" kn "$T/r2048.pem"
expect_clean_fail 1 "cannot open" kn "$T/none.pem"
openssl pkey -in "$T/r2048.pem" -pubout -out "$T/r2048.pub"
expect_clean_fail 2 "go together" "$NUTGEN" key new --type oct-HSM --out "$T/out.d/k" --kek "$T/r2048.pub"
expect_clean_fail 1 "kek-kid" "$NUTGEN" key new --type oct-HSM --out "$T/out.d/k" \
	--kek "$T/r2048.pub" --kek-kid http://x/keys/y --byok-out "$T/out.d/b"
expect_clean_fail 2 "expected oct-HSM or RSA-HSM" "$NUTGEN" key new --type EC-HSM --out "$T/out.d/k"

# Existing files are never replaced.
echo keep >"$T/exists"
expect_exit 1 "$NUTGEN" key new --type oct-HSM --out "$T/exists"
expect_err "already exists"
grep -q keep "$T/exists" || fail "existing key file overwritten"
exit 0
