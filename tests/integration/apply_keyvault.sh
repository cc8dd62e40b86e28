# nutapply key apply against the Azure stand-in: BYOK import really
# unwrapped by the vault (material equal to what python-cryptography
# wrapped), the release policy held, idempotence, policy update on the
# current version, refusals, and completion through injected faults.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/fakeazure.sh"
fakeazure_start --kek kek1
fakeazure_env "$T/cloud.json"
export NUTAPPLY_HTTP_BACKOFF_BASE=0.05
py=$FAKEAZURE_PY
mk="$py $NG_SRCDIR/tests/fakeazure/mkkeys.py"
kek=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["keks"]["kek1"])' "$FAKEAZURE_DIR/endpoints.json")
curl -sS --fail --cacert "$FAKEAZURE_CA" -H "Authorization: Bearer $(fakeazure_token https://vault.azure.net)" \
	"$kek?api-version=7.4" >"$T/kek.json"
$mk byok "$T/kek.json" "$kek" "$T/mint.byok" "$T/mint.der"
h1=$(printf a | sha256sum | cut -c1-64)
h2=$(printf b | sha256sum | cut -c1-64)
$mk policy "$FAKEAZURE_ATTEST" "$h1" "$T/p1.json"
$mk policy "$FAKEAZURE_ATTEST" "$h2" "$T/p2.json"
key() { # key EXIT ARGS...: nutapply key apply with the fake's cloud
	c=$1
	shift
	expect_exit "$c" "$NUTAPPLY" key apply --cloud-file "$T/cloud.json" --ca-file "$FAKEAZURE_CA" \
		--vault "$FAKEAZURE_VAULT" "$@"
}
nreq() { fakeazure_q 'len([r for r in s["requests"] if r["service"] in ("vault","entra")])'; }
apply() {
	c2=$1
	shift
	key "$c2" --name mint "$@"
}

# 1. BYOK import: the vault holds the very key python wrapped, with the policy.
apply 0 --key "$T/mint.byok" --policy "$T/p1.json"
grep -q "key mint: imported" "$T/out" || fail "first run must import: $(cat "$T/out")"
[ "$(fakeazure_q 's["vault"]["keys"]["mint"]["versions"][0]["material_hex"]')" = "$(cat "$T/mint.der")" ] ||
	fail "the vault's unwrapped key differs from the wrapped one"
[ "$(fakeazure_q 's["vault"]["keys"]["mint"]["versions"][0]["source"]')" = byok ] || fail "not imported as BYOK"
[ "$(fakeazure_q 'json.dumps(s["vault"]["keys"]["mint"]["versions"][0]["release_policy"]["policy"],separators=(",",":"))')" = "$(cat "$T/p1.json")" ] ||
	fail "the vault's release policy differs from the bundle's"
[ "$(fakeazure_q 's["vault"]["keys"]["mint"]["versions"][0]["exportable"]')" = True ] || fail "not exportable"
[ "$(fakeazure_q 's["vault"]["keys"]["mint"]["versions"][0]["release_policy"]["immutable"]')" = False ] || fail "immutable"

# 2. Twice: nothing changes and it says so (no PUT/PATCH sent).
apply 0 --key "$T/mint.byok" --policy "$T/p1.json"
grep -q "unchanged" "$T/out" || fail "second run must say unchanged: $(cat "$T/out")"
[ "$(fakeazure_q 'len([r for r in s["requests"] if r["method"] in ("PUT","PATCH")])')" = 1 ] || fail "second run wrote"

# 3. Another policy: the current version is updated, no new version.
apply 0 --key "$T/mint.byok" --policy "$T/p2.json"
grep -q "release policy updated" "$T/out" || fail "third run must update: $(cat "$T/out")"
[ "$(fakeazure_q 'len(s["vault"]["keys"]["mint"]["versions"])')" = 1 ] || fail "update made a new version"
[ "$(fakeazure_q 's["vault"]["keys"]["mint"]["versions"][0]["release_policy"]["policy"]["anyOf"][0]["allOf"][0]["equals"]')" = "$h2" ] ||
	fail "policy not updated"

# 4. Refusals with one line: a non-exportable key; bad inputs cost no request.
key 1 --name kek1 --key "$T/mint.byok" --policy "$T/p1.json"
expect_err "kek1 exists and is not exportable"
[ "$(wc -l <"$T/err")" -le 2 ] || fail "more than one error line: $(cat "$T/err")"
before=$(nreq)
echo '{"kty":"RSA"}' >"$T/bad.json"
key 1 --name other --key "$T/bad.json" --policy "$T/p1.json"
expect_err "bad.json: neither a BYOK blob nor a private JWK"
printf 'not json' >"$T/badpol.json"
key 1 --name other --key "$T/mint.byok" --policy "$T/badpol.json"
expect_err "badpol.json"
key 1 --name 'bad_name' --key "$T/mint.byok" --policy "$T/p1.json"
expect_err "key name 'bad_name'"
[ "$(nreq)" = "$before" ] || fail "bad input caused network requests"

# 5. Faults on every endpoint: 429 + Retry-After, 503, reset, truncated body,
#    an expired token, a slow reply: the JWK import still completes.
$mk jwk "$T/jwk.json" "$T/jwk.d"
fakeazure_ctl POST /_fake/faults '[
 {"service":"entra","kind":"reset"},
 {"service":"entra","kind":"503","retry_after":0},
 {"service":"vault","method":"GET","kind":"429","retry_after":1},
 {"service":"vault","method":"GET","kind":"truncated","nth":2},
 {"service":"vault","method":"PUT","kind":"503","retry_after":0},
 {"service":"vault","method":"PUT","kind":"reset-mid","nth":2},
 {"service":"vault","method":"GET","kind":"expired","nth":5},
 {"service":"vault","method":"GET","kind":"slow","delay":1,"nth":6}]' >/dev/null
key 0 --name jwkkey --key "$T/jwk.json" --policy "$T/p1.json"
[ "$(fakeazure_q 's["vault"]["keys"]["jwkkey"]["versions"][-1]["rsa_d_hex"]')" = "$(cat "$T/jwk.d")" ] ||
	fail "JWK key material differs"
[ "$(fakeazure_q 'sum(f["fired"] for f in s["faults"])')" -ge 6 ] || fail "faults did not fire: $(fakeazure_q 's["faults"]')"

# 6. Throttled for good: one clear line, nothing in the vault.
fakeazure_ctl POST /_fake/faults '[{"service":"vault","kind":"503","count":0,"retry_after":0}]' >/dev/null
key 1 --name never --key "$T/jwk.json" --policy "$T/p1.json"
expect_err "HTTP 503"
[ "$(wc -l <"$T/err")" -le 2 ] || fail "more than one error line: $(cat "$T/err")"
[ "$(fakeazure_q '"never" in s["vault"]["keys"]')" = False ] || fail "a half-done key"
fakeazure_ctl POST /_fake/faults '[]' >/dev/null

# 7. No secret on any output: client secret, token, key material.
for f in "$T"/out "$T"/err; do
	grep -q "$FAKEAZURE_CLIENT_SECRET" "$f" && fail "client secret in $f"
	grep -q "fake\." "$f" && grep -q "Bearer" "$f" && fail "token in $f"
	grep -q "$(cut -c1-40 "$T/jwk.d")" "$f" && fail "key material in $f"
done

# 8. What the policy nutapply set lets out: a simulated group with the
#    bundle's hostdata gets the very key that was wrapped; another gets none.
"$py" -B "$NG_SRCDIR/tests/fakeazure/tee.py" "$FAKEAZURE_DIR" mint "$h2" --out "$T/released.der" ||
	fail "release with the policy's hostdata refused"
[ "$(od -An -tx1 -v "$T/released.der" | tr -d ' \n')" = "$(cat "$T/mint.der")" ] || fail "released key differs"
set +e
"$py" -B "$NG_SRCDIR/tests/fakeazure/tee.py" "$FAKEAZURE_DIR" mint "$h1" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 3 ] || fail "a group with another hostdata got the key (exit $rc)"
fakeazure_stop
