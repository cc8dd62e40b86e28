# Sourced by the infra_* tests after lib.sh: real Azurite for the volume blob,
# the Azure stand-in (its storage accounts' blob endpoint is that Azurite),
# a cloud file and CA bundle naming both, and none of the seed's variables
# that `nutapply infra` reads (docs/infra.md). After it: $c (the options
# every nutapply call takes), $PY (the stand-in's python3).
. "$NG_SRCDIR/tests/fakeazure.sh"
. "$NG_SRCDIR/tests/azurite.sh"
azurite_start
FAKEAZURE_BLOB_ENDPOINT=$AZ_URL/
export FAKEAZURE_BLOB_ENDPOINT
fakeazure_start --lro-polls 1 --retry-after 0
trap 'fakeazure_stop; azurite_stop' EXIT
fakeazure_env "$T/cloud.json"
cat "$FAKEAZURE_CA" "$AZ_CA" >"$T/ca.pem"
export NUTAPPLY_HTTP_BACKOFF_BASE=0.05 NUTAPPLY_ARM_POLL_S=0.05
unset RESOURCE_GROUP LOCATION KEY_VAULT_NAME STORAGE_ACCOUNT ATTESTATION_PROVIDER MANAGED_IDENTITY_NAME \
	CADDY_FILE_SHARE CONTAINER_GROUP_NAME AZURE_SUBSCRIPTION_ID NUTGEN_KEK_NAME \
	NUTGEN_OPERATOR_PRINCIPAL_ID NUTGEN_OPERATOR_PRINCIPAL_TYPE
c="--cloud-file $T/cloud.json --ca-file $T/ca.pem -q"
PY=$FAKEAZURE_PY
