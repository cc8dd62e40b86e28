# nutapply infra up, then nutgen build with the target.json it wrote: the
# bundle's release policy authority, sidecar arguments, ARM template, import
# config and BYOK header name exactly the stand-in's resources (checked by an
# independent python3 reading the stand-in's state and the extracted bundle),
# and the stand-in's vault imports the BYOK blob with the KEK's private half.
# A wrong --kek-fingerprint, and a deployment naming another resource group,
# are refused with one line and no bundle.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/infra_lib.sh"
unset NUTSHELL_IMAGE ENCFS_KEY_TYPE
cd "$T"
cat >infra.json <<JSON
{"subscription": "$FAKEAZURE_SUBSCRIPTION", "resource_group": "rg-build", "location": "westeurope",
 "key_vault": "kv-build-test", "storage_account": "devstoreaccount1", "managed_identity": "id-build",
 "caddy_file_share": "caddyshare"}
JSON
expect_exit 0 "$NUTAPPLY" infra up infra.json -o target.json $c
FP=$(sed -n 's/^kek fingerprint: //p' "$T/out")
[ -n "$FP" ] || fail "up printed no fingerprint: $(cat "$T/out")"

# The deployment names the same subscription and group, default names
# elsewhere (so the vault, identity, share... all come from target.json).
D=$NG_SRCDIR/tests/data/deployment
INFO="--image-info $D/image-mint.json --image-info $D/image-skr.json --image-info $D/image-encfs.json --image-info $D/image-caddy.json"
"$PY" - "$D/deployment.json" "$FAKEAZURE_SUBSCRIPTION" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
del d["encfs"]["existing_volume"]
d["encfs"]["size_mib"] = 64
d["target"].update(subscription=sys.argv[2], resource_group="rg-build")
json.dump(d, open("dep.json", "w"))
d["target"]["resource_group"] = "rg-elsewhere"
json.dump(d, open("other-rg.json", "w"))
PYEOF
export NUTGEN_STATE_DIR="$T/state" SOURCE_DATE_EPOCH=1764000000
"$NUTGEN" keygen -o s.pem --no-passphrase >/dev/null 2>&1

# A wrong fingerprint: one line, no bundle (checked before the images).
wrong=$(printf '%s' "$FP" | tr 0123456789abcdef 123456789abcdef0)
expect_exit 1 "$NUTGEN" build dep.json --sign-key s.pem -o b.tgz $INFO --target target.json --kek-fingerprint "$wrong"
expect_err "target.json: the KEK's SHA-256 does not match --kek-fingerprint"
expect_err "second channel"
[ "$(wc -l <"$T/err")" = 1 ] || fail "more than one error line: $(cat "$T/err")"
[ ! -e b.tgz ] || fail "bundle written despite a wrong fingerprint"
# A deployment for another resource group than the target's.
expect_exit 1 "$NUTGEN" build other-rg.json --sign-key s.pem -o b.tgz $INFO --target target.json --kek-fingerprint "$FP"
expect_err "other-rg.json: \$.target.resource_group is rg-elsewhere but target.json names rg-build"
[ "$(wc -l <"$T/err")" = 1 ] || fail "more than one error line: $(cat "$T/err")"
[ ! -e b.tgz ] || fail "bundle written for another resource group"

expect_exit 0 "$NUTGEN" build dep.json --sign-key s.pem -o b.tgz $INFO --target target.json --kek-fingerprint "sha256:$FP"
grep -q "create (new volume and key)" "$T/out" || fail "not a create bundle: $(cat "$T/out")"
for l in '$.target.key_vault: kv-build-test (from target.json; the deployment said kv-nutshell-tee)' \
	'$.target.managed_identity: id-build' '$.containers.caddy.file_share: caddyshare'; do
	grep -qF "$l" "$T/err" || fail "build did not say '$l': $(cat "$T/err")"
done
mkdir b && (cd b && tar -xzf ../b.tgz) || fail "tar cannot extract the bundle"

fakeazure_state >state.json
"$PY" - state.json target.json b "$FP" <<'PYEOF' || fail "the bundle does not name the target's resources"
import base64, json, sys, uuid
from urllib.parse import urlsplit
s, t, b, fp = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
rd = lambda n: open(b + "/" + n).read()
host = lambda u: urlsplit(u).netloc
# the stand-in's own view (not target.json's) of what exists
arm = list(s["arm"]["resources"].values())
ident = [r for r in arm if r["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities" and r["name"] == "id-build"]
assert len(ident) == 1, ident
vault, attest = s["endpoints"]["vault"].rstrip("/"), s["endpoints"]["attest"].rstrip("/")
kek = s["vault"]["keys"]["nutgen-kek"]
kek_kid = kek["versions"][-1]["kid"] if "versions" in kek else kek["kid"]
# the stand-in derives clientId from the resource id on every read (infra.py)
client_id = str(uuid.uuid5(uuid.NAMESPACE_URL, ident[0]["id"].lower() + "#c"))
blob = t["storage"]["blob_endpoint"].rstrip("/") + "/encfs/encfs.img"
assert t["identity"]["client_id"] == client_id and t["kek"]["kid"] == kek_kid

rp = json.loads(rd("release-policy.json"))
assert [a["authority"] for a in rp["anyOf"]] == [attest], rp
hd = rd("hostdata.txt").strip()
assert {"claim": "x-ms-sevsnpvm-hostdata", "equals": hd} in rp["anyOf"][0]["allOf"], rp

side = json.loads(rd("sidecar-args.json"))
enc = json.loads(base64.b64decode(side["EncfsSideCarArgs"], validate=True))
skr = json.loads(base64.b64decode(side["SkrSideCarArgs"], validate=True))
fs = enc["azure_filesystems"]
assert len(fs) == 1 and fs[0]["azure_url"] == blob and fs[0]["azure_url_private"] is True, fs
assert fs[0]["key"]["kid"] == "encfs-key" and fs[0]["key"]["akv"]["endpoint"] == host(vault), fs
assert fs[0]["key"]["authority"]["endpoint"] == host(attest), fs
assert enc["azure_info"]["identity"] == {"client_id": client_id}, enc
assert skr["identity"] == {"client_id": client_id}, skr

ik = json.loads(rd("importkeyconfig.json"))
assert ik["key"]["akv"]["endpoint"] == host(vault) and ik["key"]["authority"]["endpoint"] == host(attest), ik

tmpl = json.loads(rd("arm-template.json"))
g = [r for r in tmpl["resources"] if r["type"] == "Microsoft.ContainerInstance/containerGroups"][0]
assert list(g["identity"]["userAssignedIdentities"]) == [ident[0]["id"]], g["identity"]
assert g["location"] == "westeurope", g["location"]
env = {c["name"]: {e["name"]: e.get("value") for e in c["properties"].get("environmentVariables", [])}
       for c in g["properties"]["containers"]}
assert env["encfs-sidecar"]["EncfsSideCarArgs"] == side["EncfsSideCarArgs"]
assert env["skr-sidecar"]["SkrSideCarArgs"] == side["SkrSideCarArgs"]
assert env["nutshell-mint"]["MAA_ENDPOINT"] == attest and env["nutshell-mint"]["KEY_VAULT_NAME"] == "kv-build-test", env
vol = [v for v in g["properties"]["volumes"] if "azureFile" in v][0]["azureFile"]
assert vol["shareName"] == "caddyshare" and vol["storageAccountName"] == "devstoreaccount1", vol
shares = [r for r in arm if r["type"].endswith("fileServices/shares")]
assert any(r["name"].endswith("/caddyshare") for r in shares), [r["name"] for r in shares]

byok = json.loads(rd("key-byok.json").rstrip("\0"))
assert byok["header"]["kid"] == kek_kid, byok["header"]

m = json.loads(rd("MANIFEST.json"))
mf = m.get("fields", m)
assert mf["key"]["kek_fingerprint"] == "sha256:" + fp and mf["key"]["kek_kid"] == kek_kid, mf["key"]
assert mf["deployment"]["resource_group"] == "rg-build" and mf["deployment"]["key_vault"] == "kv-build-test", mf["deployment"]
assert mf["volume"]["blob"] == blob and mf["key"]["vault"].rstrip("/") == vault, (mf["volume"], mf["key"])
PYEOF

# The stand-in's vault unwraps the BYOK blob with the KEK's private half and
# takes the release policy as the bundle has it: the import `nutapply` makes
# (azure-rest.md §3.2), sent here by curl with a token of the test client.
"$PY" - b >import.json <<'PYEOF'
import base64, json, sys
b = sys.argv[1]
enc = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
m = json.load(open(b + "/MANIFEST.json"))
blob = open(b + "/key-byok.json", "rb").read().rstrip(b"\0")
json.dump({"key": {"kty": m.get("fields", m)["key"]["type"], "key_hsm": enc(blob)}, "Hsm": True,
           "attributes": {"exportable": True},
           "release_policy": {"contentType": "application/json; charset=utf-8", "immutable": False,
                              "data": enc(open(b + "/release-policy.json", "rb").read())}}, sys.stdout)
PYEOF
vault=$("$PY" -c 'import json; print(json.load(open("target.json"))["key_vault"]["uri"].rstrip("/"))')
printf 'Authorization: Bearer %s\n' "$(fakeazure_token https://vault.azure.net)" >auth.hdr
curl -sS --fail-with-body --cacert "$FAKEAZURE_CA" -X PUT -H @auth.hdr -H 'Content-Type: application/json' \
	--data-binary @import.json "$vault/keys/encfs-key?api-version=7.4" >imported.json ||
	fail "the vault refused the import: $(cat imported.json)"
fakeazure_state >state2.json
"$PY" - state2.json b/release-policy.json <<'PYEOF' || fail "the vault does not hold the key with the bundle's policy"
import json, sys
k = json.load(open(sys.argv[1]))["vault"]["keys"]["encfs-key"]["versions"][-1]
assert k["source"] == "byok" and k["exportable"], k
assert k["release_policy"]["policy"] == json.load(open(sys.argv[2])), k["release_policy"]
PYEOF
# A later bundle references the volume when built with the same target.json;
# without it the names differ, and nutgen says so rather than guessing.
expect_exit 1 "$NUTGEN" build dep.json --sign-key s.pem -o r.tgz $INFO --existing-volume
expect_err "recorded no volume for this target: build with the same --target"
expect_exit 0 "$NUTGEN" build dep.json --sign-key s.pem -o r.tgz $INFO --existing-volume --target target.json --kek-fingerprint "$FP"
grep -q "reference bundle" "$T/out" || fail "not a reference bundle: $(cat "$T/out")"
ls ./*.tmp 2>/dev/null && fail "temporary files left behind"
exit 0
