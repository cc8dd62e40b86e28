# BYOK transfer blobs unwrap to the original key with the KEK's private half,
# using python3-cryptography (RSA-OAEP SHA-1 + RFC 5649), not nutgen's code.
. "$NG_SRCDIR/tests/lib.sh"
PY=$(find_python_crypto) || skip "no python3 with the cryptography package"
ORACLE="$NG_SRCDIR/tests/oracles/encfs_oracle.py"
KID=https://kv-test.vault.azure.net/keys/kek/0123456789abcdef0123456789abcdef

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/kek.pem" 2>/dev/null
openssl pkey -in "$T/kek.pem" -pubout -out "$T/kek.pub.pem"
for t in oct-HSM RSA-HSM; do
	expect_exit 0 "$NUTGEN" key new --type "$t" --kek "$T/kek.pub.pem" --kek-kid "$KID" \
		--out "$T/$t.key" --byok-out "$T/$t.byok"
	grep -q warning "$T/err" && fail "$t: warning although a KEK was given"
	grep -q "\"kty\":\"$t\"" "$T/out" || fail "$t: stdout $(cat "$T/out")"
	[ "$(stat -c %a "$T/$t.key")" = 600 ] || fail "$t key file mode"
	"$PY" "$ORACLE" byok-unwrap "$T/$t.byok" "$T/kek.pem" "$T/$t.key" || fail "$t: unwrap"
	grep -q "\"kid\":\"$KID\"" "$T/$t.byok" || fail "$t: header kid"
done
grep -q '"salt":"[0-9a-f]\{64\}"' "$T/RSA-HSM.key" || fail "RSA-HSM key has no 32-byte salt"

# Same check with the OpenSSL command line: split the blob, RSA-OAEP-decrypt
# the ephemeral key, unwrap with id-aes256-wrap-pad.
"$PY" - "$T/oct-HSM.byok" "$T" <<'PYEOF'
import base64, json, sys
b = json.load(open(sys.argv[1]))
ct = base64.urlsafe_b64decode(b["ciphertext"] + "=" * (-len(b["ciphertext"]) % 4))
open(sys.argv[2] + "/rsa.bin", "wb").write(ct[:256])
open(sys.argv[2] + "/kwp.bin", "wb").write(ct[256:])
PYEOF
openssl pkeyutl -decrypt -inkey "$T/kek.pem" -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1 -in "$T/rsa.bin" -out "$T/eph.bin" ||
	fail "openssl: RSA-OAEP"
openssl enc -d -id-aes256-wrap-pad -K "$(od -An -tx1 -v "$T/eph.bin" | tr -d ' \n')" \
	-iv A65959A6 -in "$T/kwp.bin" -out "$T/unwrapped.bin" 2>/dev/null || fail "openssl: unwrap"
"$PY" -c '
import base64, json, sys
k = json.load(open(sys.argv[1]))["k"]
sys.exit(0 if base64.urlsafe_b64decode(k + "=") == open(sys.argv[2], "rb").read() else 1)
' "$T/oct-HSM.key" "$T/unwrapped.bin" || fail "openssl unwrap differs from the key"

# Without a KEK: a warning, the key only in its 0600 file.
expect_exit 0 "$NUTGEN" key new --type oct-HSM --out "$T/plain.key"
expect_err "warning: .*in clear"
[ "$(stat -c %a "$T/plain.key")" = 600 ] || fail "key file mode"
# Key material never on stdout or stderr.
k=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["k"])' "$T/plain.key")
grep -qF "$k" "$T/out" "$T/err" && fail "key material printed"
exit 0
