# nutapply infra plan/up/down against the Azure stand-in (ARM, Key Vault)
# with the volume blob in real Azurite, and nutgen target check: what-if
# first, idempotent up, the KEK and target.json checked against the
# stand-in's state and python3-cryptography, fingerprint mismatch refused,
# the volume never lost, faults injected, no secret in outputs.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/infra_lib.sh"
OP=00000000-0000-4000-8000-00000000e0e0
cat >"$T/infra.json" <<JSON
{"subscription": "$FAKEAZURE_SUBSCRIPTION", "resource_group": "rg-infra", "location": "westeurope",
 "key_vault": "kv-infra-test", "storage_account": "devstoreaccount1", "operator_principal_id": "$OP"}
JSON
infra() { "$NUTAPPLY" infra "$@" $c; }
q() { fakeazure_q "$1"; }
nreq() { q "len([r for r in s['requests'] if r['method']=='$1' and '$2' in r['path']])"; }
# the oracle through the interpreter itself (a version-manager shim costs seconds)
az_oracle() { "$PY" -B "$NG_SRCDIR/tests/azblob.py" --ca "$AZ_CA" --base "$AZ_URL" "$@"; }

# 1. plan before anything exists; a bad infra file is one line, no request.
echo '{"key_vault": 5}' >"$T/bad.json"
expect_exit 1 infra plan "$T/bad.json"
expect_err "bad.json: want an object of short strings naming the subscription"
expect_exit 0 infra plan "$T/infra.json"
grep -q "resource group rg-infra: absent" "$T/out" || fail "plan: $(cat "$T/out")"
[ "$(nreq PUT /)" = 0 ] || fail "plan wrote something"

# 2. up: a KEK create that fails (not retried: a retry could add a version)
#    stops with one line and no target.json; the next up, with faults on ARM
#    and Key Vault reads, completes.
fakeazure_ctl POST /_fake/faults '[{"service":"vault","method":"POST","path":"/create","kind":"503","retry_after":0},
 {"service":"arm","method":"PUT","path":"deployments/nutgen-infra$","kind":"429","retry_after":0}]' >/dev/null
expect_exit 1 infra up "$T/infra.json" -o "$T/target.json"
expect_err "create the key-exchange key: HTTP 503"
[ "$(wc -l <"$T/err")" = 1 ] || fail "more than one error line: $(cat "$T/err")"
[ ! -e "$T/target.json" ] || fail "a failed up wrote target.json"
[ "$(q 'len(s["vault"]["keys"])')" = 0 ] || fail "a key exists after a failed create"
[ "$(q 'sum(f["fired"] for f in s["faults"])')" = 2 ] || fail "faults did not fire: $(q 's["faults"]')"
fakeazure_ctl POST /_fake/faults '[
 {"service":"arm","method":"GET","path":"operation","kind":"503","retry_after":0},
 {"service":"arm","method":"GET","path":"deployments/nutgen-infra$","kind":"reset"},
 {"service":"vault","method":"GET","path":"/keys/","kind":"expired"}]' >/dev/null
expect_exit 0 infra up "$T/infra.json" -o "$T/target.json"
for l in "infrastructure: no change" \
	"kek nutgen-kek: created (RSA-HSM 4096, key_ops import)" "target.json: written" "kek fingerprint: "; do
	grep -q "$l" "$T/out" || fail "up: no '$l': $(cat "$T/out")"
done
[ "$(q 'sum(f["fired"] for f in s["faults"])')" -ge 3 ] || fail "faults did not fire: $(q 's["faults"]')"
fakeazure_ctl POST /_fake/faults '[]' >/dev/null
FP=$(sed -n 's/^kek fingerprint: //p' "$T/out")
grep -q "NoChange .*Microsoft.KeyVault/vaults/kv-infra-test" "$T/out" || fail "no what-if lines: $(cat "$T/out")"

# 3. The stand-in holds every resource with the settings, and target.json
#    matches it; the fingerprint recomputed by python3-cryptography.
fakeazure_state >"$T/state.json"
"$PY" - "$T/state.json" "$T/target.json" "$FP" "$OP" <<'PY' || fail "stand-in state or target.json wrong"
import json, sys, hashlib, base64
from cryptography.hazmat.primitives import serialization
s, t, fp, op = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
res = {r["type"].lower() + "/" + r["name"]: r for r in s["arm"]["resources"].values()}
kv = res["microsoft.keyvault/vaults/kv-infra-test"]["properties"]
assert kv["sku"]["name"] == "premium" and kv["enableRbacAuthorization"] and kv["enableSoftDelete"] and kv["enablePurgeProtection"], kv
sa = res["microsoft.storage/storageaccounts/devstoreaccount1"]["properties"]
assert sa["supportsHttpsTrafficOnly"] and sa["minimumTlsVersion"] == "TLS1_2" and sa["allowBlobPublicAccess"] is False, sa
assert res["microsoft.storage/storageaccounts/blobservices/containers/devstoreaccount1/default/encfs"]["properties"]["publicAccess"] == "None"
assert "microsoft.storage/storageaccounts/fileservices/shares/devstoreaccount1/default/caddy" in res
assert "microsoft.attestation/attestationproviders/attestnutshelltee" in res
mi_id = [r["id"] for r in s["arm"]["resources"].values() if r["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities"][0]
roles = [r for r in s["arm"]["resources"].values() if r["type"] == "Microsoft.Authorization/roleAssignments"]
got = sorted((r["scope"].split("/")[0], r["properties"]["roleDefinitionId"].rsplit("/", 1)[1], r["properties"]["principalId"] == op) for r in roles)
want = sorted([("Microsoft.KeyVault", "08bbd89e-9f13-488c-ac41-acfcb10c90ab", False),
               ("Microsoft.KeyVault", "4633458b-17de-408a-b874-0445c86b69e6", False),
               ("Microsoft.Storage", "ba92f5b4-2d11-453d-a403-e96b0029c9fe", False),
               ("Microsoft.KeyVault", "14b46e9e-c2b7-41b4-b07b-48a6ebf60603", True),
               ("Microsoft.Storage", "ba92f5b4-2d11-453d-a403-e96b0029c9fe", True)])
assert got == want, got
pid = [r["properties"]["principalId"] for r in roles if r["properties"]["principalId"] != op]
assert set(pid) == {t["identity"]["principal_id"]}, pid
assert t["identity"]["resource_id"] == mi_id and t["identity"]["client_id"]
assert t["key_vault"]["uri"] == s["endpoints"]["vault"] + "/" and t["attestation"]["endpoint"] == s["endpoints"]["attest"]
assert t["storage"] == {"account": "devstoreaccount1", "blob_endpoint": s["endpoints"].get("blob", t["storage"]["blob_endpoint"]),
                        "container": "encfs", "blob": "encfs.img", "share": "caddy"}
k = s["vault"]["keys"]["nutgen-kek"]["versions"][-1] if "versions" in s["vault"]["keys"]["nutgen-kek"] else s["vault"]["keys"]["nutgen-kek"]
assert k["kty"] == "RSA-HSM" and k["key_ops"] == ["import"], k
assert t["kek"]["kid"] == k["kid"], (t["kek"]["kid"], k["kid"])
pub = serialization.load_pem_public_key(t["kek"]["public_key_pem"].encode())
assert pub.key_size == 4096
der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
assert len(fp) == 64 and "sha256:" + fp == t["kek"]["sha256"] == "sha256:" + hashlib.sha256(der).hexdigest(), fp
PY

# 4. up again: nothing deployed, nothing created, says so; plan agrees.
cp "$T/target.json" "$T/target.first"
before=$(nreq PUT deployments)
expect_exit 0 infra up "$T/infra.json" -o "$T/target.json"
grep -q "infrastructure: no change" "$T/out" || fail "second up: $(cat "$T/out")"
grep -q "kek nutgen-kek: present" "$T/out" || fail "second up: $(cat "$T/out")"
cmp -s "$T/target.json" "$T/target.first" || fail "second up changed target.json"
grep -q "kek fingerprint: $FP" "$T/out" || fail "second up printed another fingerprint"
[ "$(nreq PUT deployments)" = "$before" ] || fail "second up deployed again"
[ "$(q "len([r for r in s['requests'] if r['path'].endswith('/create') and r['status']==200])")" = 1 ] || fail "the KEK was created twice"
expect_exit 0 infra plan "$T/infra.json"
grep -q "plan: 0 change(s)" "$T/out" || fail "plan after up: $(cat "$T/out")"

# 5. nutgen: the typed fingerprint gates the file (any accepted form).
colon=$(printf '%s' "${FP#sha256:}" | tr a-f A-F | sed 's/../&:/g; s/:$//')
expect_exit 0 "$NUTGEN" target check "$T/target.json" --kek-fingerprint "$colon"
grep -q "kek fingerprint sha256:$FP: matches" "$T/out" || fail "target check: $(cat "$T/out")"
grep -q "identity.client_id " "$T/out" || fail "target check shows no names"
# another fingerprint: the first digit changed (to 1 when it is 0, else to 0)
wrong=$(printf '%s' "${FP#sha256:}" | sed 's/^0/x/; s/^[^x]/0/; s/^x/1/')
expect_exit 1 "$NUTGEN" target check "$T/target.json" --kek-fingerprint "$wrong"
expect_err "the KEK's SHA-256 does not match --kek-fingerprint"
expect_exit 1 "$NUTGEN" target check "$T/target.json" --kek-fingerprint 1234
expect_err "want the 64 hex digits"
# a substituted KEK (another key, the recorded fingerprint left as it was)
"$PY" - "$T/target.json" "$T/evil.json" <<'PY'
import json, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
t = json.load(open(sys.argv[1]))
k = rsa.generate_private_key(65537, 4096).public_key()
t["kek"]["public_key_pem"] = k.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
json.dump(t, open(sys.argv[2], "w"))
PY
expect_exit 1 "$NUTGEN" target check "$T/evil.json" --kek-fingerprint "$FP"
expect_err "does not match --kek-fingerprint"

# 5b. An existing Managed HSM and a shared attestation provider named in the
#     file: neither is created (nor any vault role), the KEK goes there; down
#     --quick (no volume yet: Azurite holds no encfs container) deletes the
#     group and touches neither.
cat >"$T/hsm.json" <<JSON
{"subscription": "$FAKEAZURE_SUBSCRIPTION", "resource_group": "rg-hsm", "storage_account": "devstoreaccount1",
 "managed_hsm": "$FAKEAZURE_VAULT", "attestation_endpoint": "$FAKEAZURE_ATTEST", "kek_name": "kek-hsm"}
JSON
echo '{"subscription": "x", "managed_hsm": "http://hsm.example"}' >"$T/badhsm.json"
expect_exit 1 infra plan "$T/badhsm.json"
expect_err "badhsm.json: managed_hsm: want an https:// URL"
LOCATION=westeurope expect_exit 0 infra up "$T/hsm.json" -o "$T/target-hsm.json"
grep -q "kek kek-hsm: created" "$T/out" || fail "hsm up: $(cat "$T/out")"
[ "$(q 'sorted(r["type"] for r in s["arm"]["resources"].values() if "/rg-hsm/" in r["id"] and "Authorization" not in r["type"])')" = \
	"['Microsoft.ManagedIdentity/userAssignedIdentities', 'Microsoft.Storage/storageAccounts', 'Microsoft.Storage/storageAccounts/blobServices/containers', 'Microsoft.Storage/storageAccounts/fileServices/shares']" ] ||
	fail "hsm: unexpected resources: $(q '[r["id"] for r in s["arm"]["resources"].values() if "/rg-hsm/" in r["id"]]')"
[ "$(q 'len([r for r in s["arm"]["resources"].values() if "/rg-hsm/" in r["id"] and r["type"].endswith("roleAssignments")])')" = 1 ] || fail "hsm: role assignments"
[ "$("$PY" -c 'import json,sys; t=json.load(open(sys.argv[1])); k=t["key_vault"]; print(k["kind"], k["uri"], t["attestation"]["endpoint"], t["kek"]["kid"].startswith(k["uri"].rstrip("/") + "/keys/kek-hsm/"))' "$T/target-hsm.json")" = \
	"managedhsm $FAKEAZURE_VAULT $FAKEAZURE_ATTEST True" ] || fail "hsm target.json: $(cat "$T/target-hsm.json")"
expect_exit 0 "$NUTGEN" target check "$T/target-hsm.json" --kek-fingerprint "$(sed -n 's/^kek fingerprint: //p' "$T/out")"
LOCATION=westeurope expect_exit 0 infra down "$T/hsm.json" --yes --quick
grep -q "resource group rg-hsm: deleted" "$T/out" || fail "down --quick: $(cat "$T/out")"
grep -qi "vault\|attestation" "$T/out" && fail "down touched the HSM or the shared provider: $(cat "$T/out")"
[ "$(q '"rg-hsm" in s["arm"]["resource_groups"]')" = False ] || fail "down --quick kept the group"

# 5c. --purge: a vault without purge protection (as the seed made them) is
#     purged after its delete; the group without a volume is deleted.
cat >"$T/bare.json" <<JSON
{"subscription": "$FAKEAZURE_SUBSCRIPTION", "resource_group": "rg-bare", "location": "westeurope",
 "key_vault": "kv-bare-test", "storage_account": "devstoreaccount1"}
JSON
expect_exit 0 infra up "$T/bare.json" -o "$T/target-bare.json"
printf 'Authorization: Bearer %s\n' "$(fakeazure_token https://management.azure.com)" >"$T/arm.hdr"
curl -sS --fail-with-body --cacert "$FAKEAZURE_CA" -X PUT -H @"$T/arm.hdr" -H 'Content-Type: application/json' \
	--data-binary '{"location": "westeurope", "properties": {"enableSoftDelete": true, "enablePurgeProtection": false}}' \
	"$FAKEAZURE_ARM/subscriptions/$FAKEAZURE_SUBSCRIPTION/resourceGroups/rg-bare/providers/Microsoft.KeyVault/vaults/kv-bare-test?api-version=2023-07-01" >/dev/null ||
	fail "could not make the vault unprotected"
expect_exit 0 infra down "$T/bare.json" --yes --purge
for l in "key vault kv-bare-test: purged" "storageAccounts devstoreaccount1: deleted" "resource group rg-bare: deleted"; do
	grep -q "$l" "$T/out" || fail "down --purge: no '$l': $(cat "$T/out")"
done
[ "$(q 's["arm"]["purged_vaults"]')" = "['kv-bare-test']" ] || fail "the vault was not purged"

# 6. The volume: a blob with data in Azurite's encfs container: 12 MiB, the
#    first 8 written (more than one Get Blob of 4 MiB), the last 4 never.
az_oracle mkcontainer encfs
"$PY" -c 'import os,sys; b=bytearray(12<<20); b[0:4096]=os.urandom(4096); b[5<<20:(5<<20)+4096]=os.urandom(4096); open(sys.argv[1],"wb").write(b)' "$T/vol.img"
az_oracle put encfs/encfs.img "$T/vol.img" nutapply_state=complete
sum0=$(az_oracle sha256-full encfs/encfs.img)

# 7. down: --yes needed; --delete-data only with a download; --quick refuses
#    while the volume exists; an unwritable download target stops everything.
expect_exit 2 infra down "$T/infra.json"
expect_err "add --yes"
expect_exit 2 infra down "$T/infra.json" --yes --delete-data
expect_err "--delete-data goes with --download FILE"
expect_exit 2 infra down "$T/infra.json" --yes --delete-data --snapshot
expect_err "not --snapshot (a snapshot dies with its blob's account)"
expect_exit 2 infra up "$T/infra.json" --purge
expect_err "are options of down"
expect_exit 1 infra down "$T/infra.json" --yes --quick
expect_err "--quick refused: devstoreaccount1 holds the encfs volume"
expect_exit 1 infra down "$T/infra.json" --yes --quick --snapshot
expect_err "--quick refused"
expect_exit 1 infra down "$T/infra.json" --yes --delete-data --download "$T/no/such/dir/saved.img"
[ "$(q '"rg-infra" in s["arm"]["resource_groups"] and any(r["name"]=="kv-infra-test" for r in s["arm"]["resources"].values())')" = True ] ||
	fail "a refused down deleted something"

# 8. down without --delete-data (faults on ARM deletes and the deleted vault
#    read): the account and the blob stay byte-identical; the vault is
#    soft-deleted, purge protection forbids --purge with a clear line.
fakeazure_ctl POST /_fake/faults '[{"service":"arm","method":"DELETE","path":"vaults","kind":"503","retry_after":0},
 {"service":"arm","method":"GET","path":"deletedVaults","kind":"reset"}]' >/dev/null
expect_exit 0 infra down "$T/infra.json" --yes --purge
for l in "container group nutshell-tee: deleted" "Microsoft.KeyVault/vaults kv-infra-test: deleted" \
	"storage account devstoreaccount1: kept with its resource group: it holds the encfs volume" \
	"key vault kv-infra-test: soft-deleted with purge protection: recoverable until its retention ends; it cannot be purged"; do
	grep -q "$l" "$T/out" || fail "down: no '$l': $(cat "$T/out")"
done
[ "$(q 'sum(f["fired"] for f in s["faults"])')" = 2 ] || fail "faults did not fire: $(q 's["faults"]')"
fakeazure_ctl POST /_fake/faults '[]' >/dev/null
[ "$(az_oracle sha256-full encfs/encfs.img)" = "$sum0" ] || fail "down changed the volume blob"
[ "$(q 'any(r["name"]=="devstoreaccount1" for r in s["arm"]["resources"].values())')" = True ] || fail "storage account deleted"
[ "$(q 'list(s["arm"]["deleted_vaults"])')" = "['kv-infra-test']" ] || fail "vault not soft-deleted"
[ "$(q 's["arm"]["purged_vaults"]')" = "['kv-bare-test']" ] || fail "a purge-protected vault was purged"

# 9. up again while the vault is soft-deleted: one clear line (seed H22).
expect_exit 1 infra up "$T/infra.json" -o "$T/target2.json"
expect_err "soft deleted vault"
[ ! -e "$T/target2.json" ] || fail "a failed up wrote target.json"

# 10. down --snapshot: a snapshot, and the account (where the snapshot lives)
#     kept with its group and the blob as it was.
expect_exit 0 infra down "$T/infra.json" --yes --snapshot
grep -q "volume blob: snapshot " "$T/out" || fail "no snapshot: $(cat "$T/out")"
grep -q "kept with its resource group: it holds the encfs volume and its snapshot" "$T/out" ||
	fail "account not kept: $(cat "$T/out")"
[ "$(az_oracle snapshots encfs | wc -l)" = 1 ] || fail "no snapshot in Azurite"
[ "$(az_oracle sha256-full encfs/encfs.img)" = "$sum0" ] || fail "down --snapshot changed the volume blob"
[ "$(q '"rg-infra" in s["arm"]["resource_groups"]')" = True ] || fail "the group holding the volume was deleted"

# 11. down --quick --delete-data --download: the copy first (equal to the
#     blob by SHA-256 and size), then the group with the account and blob.
expect_exit 0 infra down "$T/infra.json" --yes --quick --delete-data --download "$T/saved.img"
grep -q "volume blob: downloaded to $T/saved.img (12582912 bytes, each range.s Content-MD5 checked)" "$T/out" ||
	fail "no download: $(cat "$T/out")"
[ "$(sha256sum <"$T/saved.img" | cut -d' ' -f1) $(stat -c %s "$T/saved.img")" = "$sum0" ] ||
	fail "the download differs from the blob"
[ "$(stat -c %a "$T/saved.img")" = 600 ] || fail "the download is not private"
[ "$(stat -c %b "$T/saved.img")" -le 16448 ] || fail "the never-written 4 MiB were written: $(stat -c %b "$T/saved.img") blocks"
ls "$T" | grep -q 'saved.img.*tmp' && fail "a temporary download was left behind"
grep -q "resource group rg-infra: deleted" "$T/out" || fail "group not deleted: $(cat "$T/out")"
[ "$(q '"rg-infra" in s["arm"]["resource_groups"] or any(r["name"]=="devstoreaccount1" for r in s["arm"]["resources"].values())')" = False ] ||
	fail "group or account not deleted"

# down again with nothing left: still a clean run
expect_exit 0 infra down "$T/infra.json" --yes

# 12. No secret anywhere: client secret, storage keys, tokens.
for f in "$T/target.json" "$T/out" "$T/err" "$T/state.json"; do
	[ -f "$f" ] || continue
	for s in "$FAKEAZURE_CLIENT_SECRET" "$AZURE_STORAGE_KEY" "fake."; do
		[ "$f" = "$T/state.json" ] && [ "$s" != "$FAKEAZURE_CLIENT_SECRET" ] && continue
		grep -qF -- "$s" "$f" && fail "secret-like '$s' in $f"
	done
done
exit 0
