# nutapply verify BUNDLE with a bundle from `nutgen build`: the expected
# hostdata is SHA-256 of its policy.rego and the provider its release policy's
# authority (both read here independently by python); tokens made by
# python3-cryptography for them pass, others fail.
. "$NG_SRCDIR/tests/lib.sh"
PY=$(find_python_crypto) || skip "python3 with cryptography not found (make deps)"
D=$NG_SRCDIR/tests/data/deployment
[ -f "$D/deployment.json" ] || skip "tests/data/deployment not in this tree (bundle branch)"
cd "$T"
export NUTGEN_STATE_DIR="$T/state" SOURCE_DATE_EPOCH=1764000000
"$NUTGEN" keygen -o s.pem --no-passphrase >/dev/null 2>&1
"$NUTGEN" keygen -o o.pem --no-passphrase >/dev/null 2>&1
"$NUTGEN" build "$D/deployment.json" --sign-key s.pem -o b.tgz --image-info "$D/image-mint.json" \
	--image-info "$D/image-skr.json" --image-info "$D/image-encfs.json" \
	--image-info "$D/image-caddy.json" >/dev/null 2>&1 || fail "nutgen build failed"
mkdir x && (cd x && tar -xzf ../b.tgz)
HD=$(sha256sum <x/policy.rego | cut -c1-64)
ISS=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["anyOf"][0]["authority"])' \
	x/release-policy.json)
MK="$PY $NG_SRCDIR/tests/attest/maa_token.py"
$MK key . maa
$MK jwks jwks.json maa.jwk
cat >specs <<SPECS
good.jwt maa '$ISS' $HD
otherhd.jwt maa '$ISS' $(printf '%064d' 3)
otheriss.jwt maa 'https://sharedeus.eus.attest.azure.net' $HD --jku '$ISS/certs'
SPECS
$MK batch <specs

expect_exit 0 "$NUTAPPLY" verify b.tgz --trust s.pub --token good.jwt --jwks jwks.json
grep -q "^ok    maa.hostdata .*seen $HD" "$T/out" || fail "hostdata row: $(cat "$T/out")"
grep -q "^ok    maa.issuer .*seen $ISS" "$T/out" || fail "issuer row: $(cat "$T/out")"
expect_exit 1 "$NUTAPPLY" verify b.tgz --trust s.pub --token otherhd.jwt --jwks jwks.json
grep -q '^FAIL  maa.hostdata' "$T/out" || fail "other hostdata passed"
expect_exit 1 "$NUTAPPLY" verify b.tgz --trust s.pub --token otheriss.jwt --jwks jwks.json
grep -q '^FAIL  maa.issuer' "$T/out" || fail "other issuer passed"
# Signed by a key the verifier does not trust: refused, one line, no table.
expect_exit 1 "$NUTAPPLY" verify b.tgz --trust o.pub --token good.jwt --jwks jwks.json
[ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -s "$T/out" ] || fail "untrusted bundle: $(cat "$T/err" "$T/out")"
echo "attest_bundle: all cases hold"
