# The local Azure stand-in enforces azure-rest.md §9: a few checks with curl
# here, the rest (BYOK unwrap, release policy evaluation, async operations,
# every fault kind) in tests/fakeazure/selftest.py.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/fakeazure.sh"
command -v curl >/dev/null || skip "curl not installed (make deps)"
command -v openssl >/dev/null || skip "openssl not installed (make deps)"
# A client certificate registered with the fake's Entra, for assertions.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/client.key" -out "$T/client.pem" -subj /CN=nutapply-test \
	-days 1 2>/dev/null
export FAKEAZURE_TEST_CLIENT_KEY="$T/client.key"
fakeazure_start --resource-group rg1 --storage-account rg1/acct1 --kek kek1 --lro-polls 1 --retry-after 0 \
	--client-cert "$T/client.pem"

status() { # status METHOD URL [TOKEN]: prints the HTTP status
	curl -sS -o "$T/body" -w '%{http_code}' --cacert "$FAKEAZURE_CA" -X "$1" ${3:+-H "Authorization: Bearer $3"} "$2"
}
kv=$(fakeazure_token https://vault.azure.net)
arm=$(fakeazure_token https://management.azure.com)
rg="$FAKEAZURE_ARM/subscriptions/$FAKEAZURE_SUBSCRIPTION/resourceGroups/rg1"
[ "$(status GET "$FAKEAZURE_VAULT/keys/kek1?api-version=7.4" "$kv")" = 200 ] || fail "vault GET with a vault token"
[ "$(status GET "$FAKEAZURE_VAULT/keys/kek1?api-version=7.4" "$arm")" = 401 ] || fail "vault: wrong audience must be 401"
[ "$(status GET "$FAKEAZURE_VAULT/keys/kek1" "$kv")" = 400 ] || fail "vault: missing api-version must be 400"
grep -q BadParameter "$T/body" || fail "vault: missing api-version must say BadParameter"
[ "$(status GET "$rg?api-version=2025-04-01" "$arm")" = 200 ] || fail "ARM GET resource group"
[ "$(status GET "$rg?api-version=2024-01-01" "$arm")" = 400 ] || fail "ARM: other api-version must be 400"
grep -q InvalidApiVersionParameter "$T/body" || fail "ARM: InvalidApiVersionParameter"
[ "$(status GET "$rg?api-version=2025-04-01" "$kv")" = 401 ] || fail "ARM: wrong audience must be 401"
[ "$(status GET "$rg?api-version=2025-04-01")" = 401 ] || fail "ARM: no token must be 401"
# TLS is verified against the per-run test CA only.
if curl -sS -o /dev/null "$FAKEAZURE_ARM/_fake/state" 2>/dev/null; then fail "fake served TLS trusted without the test CA"; fi
"$FAKEAZURE_PY" -B "$NG_SRCDIR/tests/fakeazure/selftest.py" "$FAKEAZURE_DIR"
fakeazure_stop
