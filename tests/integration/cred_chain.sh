# The credential chain (DefaultAzureCredential order) end to end: each
# credential gets a token from tests/tokenfake.py (which checks the request:
# secret, PS256 certificate assertion verified with python3-cryptography,
# federated token, IMDS Metadata header, App Service identity header) or a
# fake `az`, and the token then authorises a real upload to Azurite
# (--oauth basic, HTTPS). nutapply says which credential it used and never
# prints a token or secret.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/azurite.sh"
. "$NG_SRCDIR/tests/volume_lib.sh"
py=$(find_python_crypto) || skip "python3 cryptography not installed"
azurite_start
az_oracle mkcontainer vol
head -c 1048576 /dev/urandom >"$T/small"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=nutapply-test-client \
	-keyout "$T/client.key" -out "$T/client.crt" 2>/dev/null
cat "$T/client.crt" "$T/client.key" >"$T/client.pem"
echo "s3cr3t-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$T/secret"
echo "federated-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$T/fed"
"$py" "$NG_SRCDIR/tests/tokenfake.py" --cert "$T/az/server.pem" --key "$T/az/server.key" \
	--port-file "$T/tf.port" --log "$T/tf.log" --tenant tenant1 --client client1 \
	--secret-file "$T/secret" --client-cert "$T/client.crt" --federated-file "$T/fed" \
	--identity-header idh &
AZ_EXTRA_PIDS="${AZ_EXTRA_PIDS:-} $!"
i=0
while [ ! -f "$T/tf.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
TF=https://127.0.0.1:$(cat "$T/tf.port")
cloud() { # cloud FILE IMDS
	cat >"$1" <<JSON
{"name":"loopback","authority":"$TF","management":"$TF","management_resource":"$TF/",
 "storage_resource":"https://storage.azure.com","vault_resource":"https://vault.azure.net",
 "vault_suffix":"vault.azure.net","blob_suffix":"blob.core.windows.net",
 "attest_suffix":"attest.azure.net","imds":"$2"}
JSON
}
cloud "$T/cloud.json" "$TF"
cloud "$T/noimds.json" "http://127.0.0.1:1"
export NUTAPPLY_HTTP_BACKOFF_BASE=0.05
n=0
# run NAME-EXPECTED CLOUD ENV...: upload with a token; checks the announcement
run() {
	want_cred=$1 cl=$2
	shift 2
	n=$((n + 1))
	expect_exit 0 env -u AZURE_STORAGE_KEY -u AZURE_TENANT_ID -u AZURE_CLIENT_ID \
		-u AZURE_CLIENT_SECRET -u AZURE_CLIENT_CERTIFICATE_PATH -u AZURE_FEDERATED_TOKEN_FILE \
		-u IDENTITY_ENDPOINT -u IDENTITY_HEADER "$@" \
		"$NUTAPPLY" volume upload --auth token --cloud-file "$cl" --ca-file "$AZ_CA" \
		--image "$T/small" --bundle-id b1 --volume-id "v$n" "$AZ_URL/vol/c$n.img"
	expect_err "using $want_cred"
	! grep -q -e eyJ -e "$(cat "$T/secret")" -e "$(cat "$T/fed")" "$T/err" "$T/out" ||
		fail "$want_cred: a token or secret was printed"
	az_oracle compare "vol/c$n.img" "$T/small" >/dev/null || fail "$want_cred: blob differs"
}
E="AZURE_TENANT_ID=tenant1 AZURE_CLIENT_ID=client1"
run "EnvironmentCredential (client secret)" "$T/cloud.json" $E AZURE_CLIENT_SECRET="$(cat "$T/secret")"
grep -qx "secret https://storage.azure.com/.default" "$T/tf.log" || fail "no secret grant: $(cat "$T/tf.log")"
run "EnvironmentCredential (client certificate)" "$T/cloud.json" $E AZURE_CLIENT_CERTIFICATE_PATH="$T/client.pem"
grep -qx "certificate https://storage.azure.com/.default" "$T/tf.log" || fail "assertion rejected: $(cat "$T/tf.log")"
run "WorkloadIdentityCredential" "$T/cloud.json" $E AZURE_FEDERATED_TOKEN_FILE="$T/fed"
grep -qx "federated https://storage.azure.com/.default" "$T/tf.log" || fail "no federated grant"
run "ManagedIdentityCredential (App Service)" "$T/cloud.json" IDENTITY_ENDPOINT="$TF/msi/token" IDENTITY_HEADER=idh
grep -qx "appservice https://storage.azure.com" "$T/tf.log" || fail "no App Service token"
run "ManagedIdentityCredential (IMDS)" "$T/cloud.json"
grep -qx "imds https://storage.azure.com" "$T/tf.log" || fail "no IMDS token"
# IMDS absent: falls through to the Azure CLI (a fake az on PATH)
mkdir -p "$T/bin"
cat >"$T/bin/az" <<'SH'
#!/bin/sh
[ "$*" = "account get-access-token --resource https://storage.azure.com --output json" ] || { echo "bad args: $*" >&2; exit 2; }
exec python3 -c '
import base64, json, time
e = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
t = int(time.time())
tok = e({"alg": "RS256", "typ": "JWT"}) + "." + e({"aud": "https://storage.azure.com", "iss": "https://sts.windows.net/t/", "iat": t, "nbf": t, "exp": t + 3600}) + ".x"
print(json.dumps({"accessToken": tok, "expiresOn": "2099-01-01 00:00:00.000000", "expires_on": t + 3600, "tokenType": "Bearer"}))'
SH
chmod +x "$T/bin/az"
PATH="$T/bin:$PATH" run "AzureCliCredential" "$T/noimds.json"
# a wrong secret: one line with Entra's reason, no secret echoed
expect_exit 1 env -u AZURE_STORAGE_KEY AZURE_TENANT_ID=tenant1 AZURE_CLIENT_ID=client1 \
	AZURE_CLIENT_SECRET=wrong-secret-value "$NUTAPPLY" volume upload --auth token \
	--cloud-file "$T/cloud.json" --ca-file "$AZ_CA" --image "$T/small" --bundle-id b1 \
	--volume-id vx "$AZ_URL/vol/x.img"
expect_err "AADSTS7000215"
[ "$(grep -vc '^nutapply: using' "$T/err")" -eq 1 ] || fail "not one line: $(cat "$T/err")"
! grep -q wrong-secret-value "$T/err" || fail "secret echoed"
# nothing available: one line naming what to set
mkdir -p "$T/empty"
expect_exit 1 env -u AZURE_STORAGE_KEY -u AZURE_TENANT_ID PATH="$T/empty" "$NUTAPPLY" volume \
	upload --auth token --cloud-file "$T/noimds.json" --ca-file "$AZ_CA" --image "$T/small" \
	--bundle-id b1 --volume-id vy "$AZ_URL/vol/y.img"
expect_err "no Azure credential"
echo "ok: $n credentials"
