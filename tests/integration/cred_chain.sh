# The credential chain (DefaultAzureCredential order, azure-rest.md §5.6)
# end to end through `nutapply plan`, which needs ARM, Key Vault and Blob
# tokens: each credential kind is chosen in order when the ones before it
# are absent, gets its tokens from the Azure stand-in (which checks the
# secret, the PS256 certificate assertion, the federated token, the IMDS
# Metadata header) or from a fake `az`, and those tokens authorise the real
# calls (the stand-in's ARM and vault, Azurite with --oauth basic). nutapply
# names the credential it used and never prints a token or secret; one token
# per resource, refreshed after an expired-token fault; a wrong secret fails
# with one line.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/apply_lib.sh"
command -v openssl >/dev/null || skip "openssl not installed"
mkdir -p "$T/id"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=nutapply-test-client \
	-keyout "$T/id/client.key" -out "$T/id/client.crt" 2>/dev/null || fail "client cert"
cat "$T/id/client.crt" "$T/id/client.key" >"$T/id/client.pem"
echo "federated-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$T/id/fed"
apply_setup --client-cert "$T/id/client.crt" --federated-token-file "$T/id/fed"
SECRET=$AZURE_CLIENT_SECRET
MI=$(fakeazure_field mi_client_id)
# The managed identity may read what plan reads.
fakeazure_ctl POST /_fake/roles "{\"$MI\":[\"arm\",\"kv-officer\",\"kv-release\"]}" >/dev/null
mkdir b && mkvolume b/encfs.img 4
mkbundle b b.tgz "$AZ_URL/vol/encfs.img" mint
# The same with IMDS on a closed port (a laptop): the chain goes on to az.
"$FAKEAZURE_PY" -c 'import json,sys; c=json.load(open(sys.argv[1])); c["imds"]="http://127.0.0.1:1"; json.dump(c, open(sys.argv[2], "w"))' \
	cloud.json noimds.json
mkbundle b noimds.tgz "$AZ_URL/vol/encfs.img" mint "$T/s.pem" "$T/noimds.json"
# A fake az: a real token from the stand-in's Entra (client secret, known
# only to this script), printed as az prints it.
mkdir bin empty
cat >bin/az <<SH
#!/bin/sh
echo "\$*" >>"$T/az.log"
case "\$*" in "account get-access-token --resource "*" --output json") ;; *) echo "bad args: \$*" >&2; exit 2 ;; esac
printf '%s' '$SECRET' | curl -sS --fail --cacert "$FAKEAZURE_CA" --data-urlencode "client_id=$AZURE_CLIENT_ID" \\
	--data-urlencode "scope=\${4%/}/.default" --data-urlencode grant_type=client_credentials \\
	--data-urlencode "client_secret@-" "$FAKEAZURE_ENTRA/$AZURE_TENANT_ID/oauth2/v2.0/token" |
	"$FAKEAZURE_PY" -c 'import json,sys,time; t=json.load(sys.stdin); print(json.dumps({"accessToken": t["access_token"], "expiresOn": "2099-01-01 00:00:00.000000", "expires_on": int(time.time()) + t["expires_in"], "tokenType": "Bearer"}))'
SH
chmod +x bin/az
TENANT=$AZURE_TENANT_ID CLIENT=$AZURE_CLIENT_ID
unset AZURE_STORAGE_KEY AZURE_TOKEN_CREDENTIALS AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET
E="AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CLIENT"

# auth: auth.new gets one line per token the stand-in issued since the last
# call ("method audience"; IMDS tokens from the request log).
seen=0
auth() {
	fakeazure_q '"\n".join([a["method"] + " " + a["audience"] for a in s["auth"]] + ["imds " + r["service"] for r in s["requests"] if "/metadata/identity" in r["path"]])' >auth.all
	tail -n +$((seen + 1)) auth.all >auth.new
	seen=$(wc -l <auth.all)
}
auth # the setup's own
# run KIND BUNDLE ENV...: plan succeeds (3: changes pending) with tokens from
# KIND, named on stderr, nothing secret printed.
n=0
run() {
	kind=$1 b=$2
	shift 2
	n=$((n + 1))
	expect_exit 3 env "$@" "$NUTAPPLY" plan "$b" --trust s.pub --ca-file cas.pem
	grep -q "absent: would be created" out || fail "$kind: plan: $(cat out)"
	expect_err "using $kind"
	! grep -q -e eyJ -e "fake\." -e "$SECRET" -e "$(cat id/fed)" err out ||
		fail "$kind: a token or secret was printed"
}
run "EnvironmentCredential (client secret)" b.tgz $E AZURE_CLIENT_SECRET="$SECRET"
auth
[ "$(sort auth.new | tr '\n' ' ')" = "secret https://management.azure.com secret https://storage.azure.com secret https://vault.azure.net " ] ||
	fail "not one secret grant per resource: $(cat auth.new)"
# the secret wins over the certificate and the federated token
run "EnvironmentCredential (client secret)" b.tgz $E AZURE_CLIENT_SECRET="$SECRET" \
	AZURE_CLIENT_CERTIFICATE_PATH="$T/id/client.pem" AZURE_FEDERATED_TOKEN_FILE="$T/id/fed"
auth
! grep -qv "^secret " auth.new || fail "not the secret: $(cat auth.new)"
run "EnvironmentCredential (client certificate)" b.tgz $E AZURE_CLIENT_CERTIFICATE_PATH="$T/id/client.pem" \
	AZURE_FEDERATED_TOKEN_FILE="$T/id/fed"
auth
[ "$(grep -c "^certificate-PS256 " auth.new)" = 3 ] || fail "no PS256 assertion grants: $(cat auth.new)"
run "WorkloadIdentityCredential" b.tgz $E AZURE_FEDERATED_TOKEN_FILE="$T/id/fed"
auth
[ "$(grep -c "^federated " auth.new)" = 3 ] || fail "no federated grants: $(cat auth.new)"
# An expired token (401) is dropped and fetched again, once.
fakeazure_ctl POST /_fake/faults '[{"service":"vault","method":"GET","kind":"expired"}]' >/dev/null
run "WorkloadIdentityCredential" b.tgz $E AZURE_FEDERATED_TOKEN_FILE="$T/id/fed"
auth
[ "$(grep -c "^federated https://vault.azure.net" auth.new)" = 2 ] || fail "expired token not refreshed: $(cat auth.new)"
fakeazure_ctl POST /_fake/faults '[]' >/dev/null
run "ManagedIdentityCredential (IMDS)" b.tgz AZURE_CLIENT_ID="$MI"
auth
[ "$(grep -c "^imds " auth.new)" = 3 ] || fail "no IMDS tokens: $(cat auth.new)"
run "AzureCliCredential" noimds.tgz PATH="$T/bin:$PATH"
[ "$(wc -l <az.log)" = 3 ] && [ "$(sort -u az.log | wc -l)" = 3 ] ||
	fail "az not asked once per resource: $(cat az.log)"
# AZURE_TOKEN_CREDENTIALS keeps one credential of the chain.
run "AzureCliCredential" b.tgz PATH="$T/bin:$PATH" AZURE_TOKEN_CREDENTIALS=AzureCliCredential \
	$E AZURE_CLIENT_SECRET="$SECRET"
# A wrong secret: one line with Entra's reason, the secret not echoed, and
# the chain stops there.
expect_exit 1 env $E AZURE_CLIENT_SECRET=wrong-secret-value PATH="$T/bin:$PATH" "$NUTAPPLY" \
	plan b.tgz --trust s.pub --ca-file cas.pem
expect_err "AADSTS7000215"
[ "$(wc -l <az.log)" = 6 ] || fail "went on to az after the secret failed"
[ "$(wc -l <err)" -eq 1 ] || fail "not one line: $(cat err)"
! grep -q wrong-secret-value err out || fail "secret echoed"
# A federated token file that is not there: named, and the chain stops.
expect_exit 1 env $E AZURE_FEDERATED_TOKEN_FILE="$T/id/nothere" PATH="$T/bin:$PATH" "$NUTAPPLY" \
	plan b.tgz --trust s.pub --ca-file cas.pem
expect_err "AZURE_FEDERATED_TOKEN_FILE"
[ "$(wc -l <err)" -eq 1 ] && [ "$(wc -l <az.log)" = 6 ] || fail "not one line, or went on: $(cat err)"
# Nothing available: one line naming what to set.
expect_exit 1 env PATH="$T/empty" "$NUTAPPLY" plan noimds.tgz --trust s.pub --ca-file cas.pem
expect_err "no Azure credential"
[ "$(wc -l <err)" -eq 1 ] || fail "not one line: $(cat err)"
echo "ok: $n plans"
