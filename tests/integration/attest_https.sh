# nutapply verify over HTTPS: the token from a mint's GET /v1/attestation
# and the signing keys from the provider's /certs, both served by a test
# server (tests/attest/https_stub.py) whose CA nutapply is given with
# --ca-file; and a signed bundle as the source of hostdata and provider.
. "$NG_SRCDIR/tests/lib.sh"
PY=$(find_python_crypto) || skip "python3 with cryptography not found (make deps)"
MK="$PY $NG_SRCDIR/tests/attest/maa_token.py"
S=$T/stub
mkdir -p "$S"
$PY "$NG_SRCDIR/tests/attest/https_stub.py" "$S" $$ 2>"$S/log" &
STUB=$!
trap 'rc=$?; kill $STUB 2>/dev/null || true; wait $STUB 2>/dev/null || true; exit $rc' EXIT
i=0
while [ ! -f "$S/url" ]; do
	kill -0 $STUB 2>/dev/null || fail "https_stub did not start: $(cat "$S/log")"
	i=$((i + 1))
	[ $i -lt 300 ] || fail "https_stub not ready after 30 s"
	sleep 0.1
done
URL=$(cat "$S/url")
PROVIDER=$URL # the stub plays the provider too: iss and /certs on its origin

# A bundle whose policy hashes to HD and which names the provider.
printf 'package policy\napi_version := "0.10.0"\n' >"$T/policy.rego"
HD=$(sha256sum "$T/policy.rego" | cut -d' ' -f1)
printf '{"created":"2026-01-01T00:00:00Z","serial":1,"policy":{"hostdata":"%s","profile":"t","debug":false},"deployment":{"attestation_endpoint":"%s"}}' \
	"$HD" "$PROVIDER" >"$T/fields.json"
NUTGEN_KEY_PASSPHRASE= $NUTGEN keygen -o "$T/sign.pem" --no-passphrase >/dev/null
echo "$HD" >"$T/hostdata.txt"
$NUTGEN pack --fields "$T/fields.json" --sign-key "$T/sign.pem" -o "$T/b.tgz" \
	policy.rego="$T/policy.rego" hostdata.txt="$T/hostdata.txt" >/dev/null
# Inconsistent bundles: hostdata.txt or the manifest's hostdata not the policy's.
printf '%064d\n' 0 >"$T/wrong.txt"
$NUTGEN pack --fields "$T/fields.json" --sign-key "$T/sign.pem" -o "$T/bad1.tgz" \
	policy.rego="$T/policy.rego" hostdata.txt="$T/wrong.txt" >/dev/null
sed "s/$HD/$(printf '%064d' 0)/" "$T/fields.json" >"$T/fields2.json"
$NUTGEN pack --fields "$T/fields2.json" --sign-key "$T/sign.pem" -o "$T/bad2.tgz" \
	policy.rego="$T/policy.rego" >/dev/null

$MK key "$S" maa
$MK jwks "$S/jwks.json" "$S/maa.jwk"
NONCE=0a0b0c0d0e0f
cat >"$S/specs" <<SPECS
'$S/good.jwt' '$S/maa' '$PROVIDER' '$HD' --runtime '{"nonce":"$NONCE"}'
'$S/other.jwt' '$S/maa' '$PROVIDER' '$(printf '%064d' 7)'
SPECS
$MK batch <"$S/specs"
printf '{"maa_token":"%s","maa_endpoint":"%s","attestation_type":"sevsnpvm"}' \
	"$(cat "$S/good.jwt")" "$PROVIDER" >"$S/attestation.json"
printf '{"attestation_available":true,"maa_endpoint":"%s","skr_endpoint":"http://localhost:8080"}' \
	"$PROVIDER" >"$S/info.json"
cat >"$S/routes.json" <<ROUTES
{"/v1/attestation": "$S/attestation.json", "/v1/attestation/info": "$S/info.json",
 "/certs": "$S/jwks.json"}
ROUTES

expect_exit 0 $NUTAPPLY verify "$T/b.tgz" --trust "$T/sign.pub" --url "$URL/" --ca-file "$S/ca.pem" \
	--nonce $NONCE
grep -q '^ok    maa.nonce' "$T/out" || fail "no nonce row"
grep -q "^ok    maa.hostdata .*seen $HD" "$T/out" || fail "no hostdata row"
grep -q "/certs" "$S/requests.log" || fail "JWKS not fetched from the provider"
grep -q "/v1/attestation?nonce=$NONCE" "$S/requests.log" || fail "nonce not sent to the mint"

# --token with keys fetched over TLS; without the test CA, TLS is refused.
expect_exit 0 $NUTAPPLY verify "$T/b.tgz" --token "$S/good.jwt" --ca-file "$S/ca.pem"
expect_exit 1 $NUTAPPLY verify "$T/b.tgz" --token "$S/good.jwt"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "TLS failure not one line: $(cat "$T/err")"
expect_err "$PROVIDER/certs"

# Another hostdata in the mint's token fails against the bundle.
printf '{"maa_token":"%s"}' "$(cat "$S/other.jwt")" >"$S/attestation.json"
expect_exit 1 $NUTAPPLY verify "$T/b.tgz" --url "$URL" --ca-file "$S/ca.pem"
grep -q '^FAIL  maa.hostdata' "$T/out" || fail "other hostdata passed: $(cat "$T/out")"

# The mint answering an error: one line quoting it.
rm "$S/attestation.json"
expect_exit 1 $NUTAPPLY verify "$T/b.tgz" --url "$URL" --ca-file "$S/ca.pem"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "not one line: $(cat "$T/err")"
expect_err "HTTP 404"

# A bundle signed by an untrusted key is refused before any request.
NUTGEN_KEY_PASSPHRASE= $NUTGEN keygen -o "$T/other.pem" --no-passphrase >/dev/null
: >"$S/requests.log"
expect_exit 1 $NUTAPPLY verify "$T/b.tgz" --trust "$T/other.pub" --url "$URL" --ca-file "$S/ca.pem"
[ ! -s "$S/requests.log" ] || fail "requests made before the bundle was trusted"
for b in bad1 bad2; do
	expect_exit 1 $NUTAPPLY verify "$T/$b.tgz" --url "$URL" --ca-file "$S/ca.pem"
	expect_err "differs from SHA-256 of policy.rego"
done
echo "attest_https: all cases hold"
