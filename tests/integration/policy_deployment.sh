# nutgen policy DEPLOYMENT.json: the ARM template, policy, hostdata, sidecar
# arguments, release policy and importkey config rendered for the seed-shaped
# deployment, checked with independent oracles: the confcom model
# (tests/policy_oracle.py) on the rendered template, strict decoders of the
# sidecar/Key Vault formats (tests/strict_sidecars.py), sha256sum, base64 -d.
. "$NG_SRCDIR/tests/lib.sh"
D=$NG_SRCDIR/tests/data/deployment
PY=python3
command -v $PY >/dev/null || skip "python3 missing"
FACTS="--image-info $D/image-skr.json --image-info $D/image-encfs.json --image-info $D/image-caddy.json --image-info $D/image-mint.json"
# The seed scripts' variables must not leak in from the caller's environment.
for v in RESOURCE_GROUP LOCATION KEY_VAULT_NAME STORAGE_ACCOUNT ATTESTATION_PROVIDER \
	MANAGED_IDENTITY_NAME CONTAINER_GROUP_NAME NUTSHELL_IMAGE CADDY_IMAGE ENCFS_IMAGE CADDY_DEBUG \
	CADDY_FILE_SHARE PIN_IMAGE_DIGESTS ENCFS_KEY_ID ENCFS_KEY_TYPE ENCFS_READ_WRITE ENCFS_LOG_LEVEL \
	ENCFS_BLOB_SAS CUSTOM_DOMAIN ACME_EMAIL DNS_NAME_LABEL IMAGE_REGISTRY_SERVER \
	IMAGE_REGISTRY_USERNAME DOCKERHUB_USERNAME; do unset $v; done

R=$T/r
expect_exit 0 $NUTGEN policy "$D/deployment.json" $FACTS --render-dir "$R" --hostdata
hd=$(cat "$T/out")
[ "$hd" = "$(sha256sum "$R/policy.rego" | cut -d' ' -f1)" ] || fail "hostdata is not sha256(policy)"
[ "$(cat "$R/hostdata")" = "$hd" ] || fail "hostdata file"

# The template carries exactly that policy; confcom's model computes the same
# bytes from the template and the image facts (pinned by digest).
$PY - "$R/arm-template.json" "$R/policy.rego" "$hd" <<'PYEOF' || fail "ARM template checks"
import base64, json, sys
arm = json.load(open(sys.argv[1])); pol = open(sys.argv[2], "rb").read()
g = [r for r in arm["resources"] if r["type"] == "Microsoft.ContainerInstance/containerGroups"][0]
p = g["properties"]
assert base64.b64decode(p["confidentialComputeProperties"]["ccePolicy"]) == pol
assert p["sku"] == "Confidential" and p["osType"] == "Linux" and p["restartPolicy"] == "Always"
assert g["tags"]["nutgen-hostdata"] == sys.argv[3]
names = [c["name"] for c in p["containers"]]
assert names == ["skr-sidecar", "encfs-sidecar", "caddy", "nutshell-mint"], names
c = {x["name"]: x["properties"] for x in p["containers"]}
for n, x in c.items():
    assert "@sha256:" in x["image"], (n, x["image"])
e = c["encfs-sidecar"]
assert e["command"] == ["/encfs.sh"] and e["securityContext"]["privileged"] is True
assert e["volumeMounts"] == [{"name": "remotemounts", "mountPath": "/mnt/remote"}]
assert c["nutshell-mint"]["volumeMounts"] == [{"name": "remotemounts", "mountPath": "/app/data"}]
vols = {v["name"]: v for v in p["volumes"]}
assert vols["remotemounts"] == {"name": "remotemounts", "emptyDir": {}}
af = vols["caddydata"]["azureFile"]
assert af["shareName"] == "caddy" and af["storageAccountKey"] == "[parameters('storageAccountKey')]"
assert arm["parameters"]["storageAccountKey"]["type"] == "securestring"
assert "defaultValue" not in arm["parameters"]["storageAccountKey"]
assert [q["port"] for q in c["caddy"]["ports"]] == [80, 443]
assert [q["port"] for q in p["ipAddress"]["ports"]] == [80, 443]
assert p["ipAddress"]["dnsNameLabel"] == "nutshell-test"
assert c["caddy"]["volumeMounts"][0]["mountPath"] == "/tmp/caddy-data"
assert [q["port"] for q in c["nutshell-mint"]["ports"]] == [3338]
env = {v["name"]: v["value"] for v in c["nutshell-mint"]["environmentVariables"]}
assert env["MAA_ENDPOINT"] == "https://attestnutshelltee.neu.attest.azure.net"
assert env["SKR_ENDPOINT"] == "http://localhost:8080" and env["MINT_DATABASE"] == "/app/data/mint"
assert env["KEY_VAULT_NAME"] == "kv-nutshell-tee"
cenv = {v["name"]: v["value"] for v in c["caddy"]["environmentVariables"]}
assert cenv["CADDY_DOMAIN"] == "nutshell-test.northeurope.azurecontainer.io", cenv
assert cenv["ACME_EMAIL"] == "ops@example.com"
ident = g["identity"]
assert ident["type"] == "UserAssigned" and list(ident["userAssignedIdentities"]) == [
    "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-nutshell-tee')]"]
assert p["imageRegistryCredentials"] == []
for x in c.values():
    for v in x.get("environmentVariables", []):
        assert "secureValue" not in v
PYEOF
# the oracle needs the facts under the pinned names the template uses
$PY - "$R" "$D" <<'PYEOF'
import json, sys, os
r, d = sys.argv[1], sys.argv[2]
arm = json.load(open(os.path.join(r, "arm-template.json")))
imgs = [c["properties"]["image"] for c in arm["resources"][0]["properties"]["containers"]]
for k, img in zip(["skr", "encfs", "caddy", "mint"], imgs):
    f = json.load(open(os.path.join(d, f"image-{k}.json")))
    assert img.endswith("@" + f["manifest_digest"]), (img, f["manifest_digest"])
    f["image"] = img
    json.dump(f, open(os.path.join(r, f"facts-{k}.json"), "w"))
PYEOF
$PY "$NG_SRCDIR/tests/policy_oracle.py" --nutgen "$R/arm-template.json" current 0 "$R"/facts-skr.json \
	"$R"/facts-encfs.json "$R"/facts-caddy.json "$R"/facts-mint.json >"$T/oracle.rego" || fail "oracle failed"
cmp "$T/oracle.rego" "$R/policy.rego" || fail "policy differs from the confcom model on the same template"
# and our confcom mode gives the model's confcom bytes for the rendered template
$PY "$NG_SRCDIR/tests/policy_oracle.py" "$R/arm-template.json" current 0 "$R"/facts-skr.json \
	"$R"/facts-encfs.json "$R"/facts-caddy.json "$R"/facts-mint.json >"$T/oracle-confcom.rego"
expect_exit 0 $NUTGEN policy --arm "$R/arm-template.json" --image-info "$R/facts-skr.json" \
	--image-info "$R/facts-encfs.json" --image-info "$R/facts-caddy.json" --image-info "$R/facts-mint.json" -o "$T/confcom.rego"
cmp "$T/confcom.rego" "$T/oracle-confcom.rego" || fail "confcom mode differs from the model on the rendered template"

# Safety rules: no shells, sidecar args pinned exactly, no wildcard but MAA-free.
grep -q '/bin/sh' "$R/policy.rego" && fail "debug shell in a default policy"
grep -q 'allow_dump_stacks := false' "$R/policy.rego" || fail "dump_stacks allowed"
grep -q "\"EncfsSideCarArgs=$(cat "$R/encfs-sidecar-args.b64")\",\"required\":true,\"strategy\":\"string\"" "$R/policy.rego" ||
	fail "EncfsSideCarArgs not pinned as an exact string"
grep -q "\"SkrSideCarArgs=$(cat "$R/skr-sidecar-args.b64")\",\"required\":true,\"strategy\":\"string\"" "$R/policy.rego" ||
	fail "SkrSideCarArgs not pinned as an exact string"
grep -q '=\.\*"' "$R/policy.rego" && fail "a wildcard env rule without a secret"

# Strict decoding against sidecars.md.
$PY "$NG_SRCDIR/tests/strict_sidecars.py" encfs "$R/encfs-sidecar-args.b64" >"$T/encfs.json" || fail "EncfsSideCarArgs"
$PY "$NG_SRCDIR/tests/strict_sidecars.py" skr "$R/skr-sidecar-args.b64" >/dev/null || fail "SkrSideCarArgs"
$PY "$NG_SRCDIR/tests/strict_sidecars.py" release "$R/release-policy.json" "$hd" >/dev/null || fail "release policy"
$PY "$NG_SRCDIR/tests/strict_sidecars.py" importkey "$R/importkeyconfig.json" "$hd" >/dev/null || fail "importkeyconfig"
$PY - "$T/encfs.json" <<'PYEOF' || fail "EncfsSideCarArgs values"
import json, sys
f = json.load(open(sys.argv[1]))["azure_filesystems"][0]
assert f["mount_point"] == "/mnt/remote/mint"
assert f["azure_url"] == "https://stnutshelltee.blob.core.windows.net/encfs/encfs.img"
assert f["azure_url_private"] is True and f["read_write"] is True
assert f["key"] == {"kid": "encfs-key", "kty": "RSA-HSM",
    "authority": {"endpoint": "attestnutshelltee.neu.attest.azure.net"},
    "akv": {"endpoint": "kv-nutshell-tee.vault.azure.net"}}
assert f["key_derivation"] == {"salt": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "label": "encfs"}
PYEOF
# the strict decoder itself rejects a misspelt field
printf '{"azure_filesystem":[]}' | base64 -w0 >"$T/bad.b64"
$PY "$NG_SRCDIR/tests/strict_sidecars.py" encfs "$T/bad.b64" 2>/dev/null && fail "strict decoder accepted a misspelt field"
grep -Eq '"(k|d|bearer_token)"' "$R/importkeyconfig.json" && fail "key material in importkeyconfig"
grep -q 'x-ms-sevsnpvm-hostdata' "$R/explain.txt" || fail "explain lacks release requirements"

# --debug is allowed and loud.
expect_exit 0 $NUTGEN policy "$D/deployment.json" $FACTS --debug --render-dir "$T/dbg"
grep -q '"command":\["/bin/sh"\]' "$T/dbg/policy.rego" || fail "--debug has no shells"
grep -q 'WARNING: DEBUG POLICY' "$T/dbg/explain.txt" || fail "debug not marked in explain"
$PY "$NG_SRCDIR/tests/policy_oracle.py" --nutgen "$T/dbg/arm-template.json" current 1 "$R"/facts-*.json >"$T/oracle-dbg.rego"
cmp "$T/oracle-dbg.rego" "$T/dbg/policy.rego" || fail "debug policy differs from the confcom model"

# Environment overrides (the seed scripts' habits) and their validation.
NUTSHELL_IMAGE=ghcr.io/x/mint:2 ENCFS_READ_WRITE=false KEY_VAULT_NAME=kv-other \
	expect_exit 1 $NUTGEN policy "$D/deployment.json" $FACTS
expect_err 'containers.mint.image ghcr.io/x/mint:2: no image facts'
ENCFS_READ_WRITE=false KEY_VAULT_NAME=kv-other DNS_NAME_LABEL=other \
	expect_exit 0 $NUTGEN policy "$D/deployment.json" $FACTS --render-dir "$T/env"
$PY "$NG_SRCDIR/tests/strict_sidecars.py" encfs "$T/env/encfs-sidecar-args.b64" | grep -q '"read_write": false' || fail "ENCFS_READ_WRITE"
grep -q '"endpoint": "kv-other.vault.azure.net"' "$T/env/importkeyconfig.json" || fail "KEY_VAULT_NAME"
grep -q '"dnsNameLabel": "other"' "$T/env/arm-template.json" || fail "DNS_NAME_LABEL"
ENCFS_READ_WRITE=maybe expect_exit 1 $NUTGEN policy "$D/deployment.json" $FACTS
expect_err 'ENCFS_READ_WRITE: must be true or false'
ENCFS_KEY_TYPE=AES expect_exit 1 $NUTGEN policy "$D/deployment.json" $FACTS
expect_err 'encfs.key_type: must be RSA-HSM or oct-HSM'

# Unknown fields and invalid values name their JSON path; no output is left.
printf '{"dns":{"label":"x"},"encfs":{"read_wrte":true}}' >"$T/d1.json"
expect_exit 1 $NUTGEN policy "$T/d1.json" $FACTS --render-dir "$T/none1"
expect_err '\$.encfs.read_wrte: unknown field'
[ ! -e "$T/none1" ] || fail "output left after a failure"
printf '{"dns":{"label":"x"},"encfs":{"read_write":"true"}}' >"$T/d2.json"
expect_exit 1 $NUTGEN policy "$T/d2.json" $FACTS
expect_err '\$.encfs.read_write: must be a boolean'
printf '{"dns":{"label":"x"},"containers":{"mint":{"env":{"BAD-NAME":"1"}}}}' >"$T/d3.json"
expect_exit 1 $NUTGEN policy "$T/d3.json" $FACTS
expect_err 'containers.mint.env.BAD-NAME: not a valid variable name'
printf '{"dns":{"label":"x"},"encfs":{"blob_sas":"sv=2020&sig=SECRETSIG"}}' >"$T/d4.json"
expect_exit 1 $NUTGEN policy "$T/d4.json" $FACTS
expect_err 'encfs.blob_sas'
grep -q SECRETSIG "$T/err" && fail "SAS echoed in an error"
printf '{"dns":{"label":"x"}}' >"$T/d5.json"
expect_exit 1 $NUTGEN policy "$T/d5.json" $FACTS
expect_err 'needs its HKDF salt'
expect_exit 0 $NUTGEN policy "$T/d5.json" $FACTS --key-salt 0a0b --hostdata
printf '{}' >"$T/d6.json"
expect_exit 1 $NUTGEN policy "$T/d6.json" $FACTS
expect_err '\$.dns: set custom_domain or label'

# A container whose image has no command is an error, not a dead policy.
$PY -c "import json,sys; f=json.load(open('$D/image-mint.json')); f['config']['Entrypoint']=None; f['config']['Cmd']=None; json.dump(f,open('$T/mint-nocmd.json','w'))"
expect_exit 1 $NUTGEN policy "$D/deployment.json" --image-info "$D/image-skr.json" --image-info "$D/image-encfs.json" \
	--image-info "$D/image-caddy.json" --image-info "$T/mint-nocmd.json"
expect_err 'nutshell-mint: neither the deployment nor image'

# Custom cloud on loopback, oct-HSM key (no key derivation).
expect_exit 0 $NUTGEN policy "$D/deployment-loopback.json" $FACTS --render-dir "$T/lo"
$PY "$NG_SRCDIR/tests/strict_sidecars.py" encfs "$T/lo/encfs-sidecar-args.b64" >"$T/lo.json" || fail "loopback encfs args"
$PY - "$T/lo.json" "$T/lo/release-policy.json" <<'PYEOF' || fail "loopback endpoints"
import json, sys
f = json.load(open(sys.argv[1]))["azure_filesystems"][0]
assert f["azure_url"] == "https://127.0.0.1:10000/devstoreaccount1/encfs/encfs.img", f
assert f["key"]["akv"]["endpoint"] == "127.0.0.1:8445"
assert f["key"]["authority"]["endpoint"] == "127.0.0.1:8446"
assert f["key"]["kty"] == "oct-HSM" and "key_derivation" not in f
assert json.load(open(sys.argv[2]))["anyOf"][0]["authority"] == "https://127.0.0.1:8446"
PYEOF
grep -q '"CADDY_DOMAIN"' "$T/lo/arm-template.json" && grep -q 'mint.example.com' "$T/lo/arm-template.json" || fail "custom domain"

# nutgen init writes the seed's defaults, refuses to overwrite, and the
# result renders once a DNS name is set.
DNS_NAME_LABEL=mint1 expect_exit 0 $NUTGEN init "$T/init"
expect_exit 1 $NUTGEN init "$T/init"
expect_err 'exists'
$PY - "$T/init/deployment.json" <<'PYEOF' || fail "init defaults"
import json, sys
d = json.load(open(sys.argv[1]))
t = d["target"]
assert (t["resource_group"], t["location"], t["key_vault"], t["storage_account"], t["attestation_provider"],
        t["managed_identity"], t["container_group"]) == ("rg-nutshell-tee", "northeurope", "kv-nutshell-tee",
        "stnutshelltee", "attestnutshelltee", "id-nutshell-tee", "nutshell-tee")
c = d["containers"]
assert [c[k]["name"] for k in ("skr", "encfs", "caddy", "mint")] == ["skr-sidecar", "encfs-sidecar", "caddy", "nutshell-mint"]
assert c["caddy"]["file_share"] == "caddy" and c["caddy"]["data_mount"] == "/tmp/caddy-data"
assert c["mint"]["env"]["ENCFS_REQUIRE_SENTINEL"] == "true" and c["mint"]["data_mount"] == "/app/data"
assert d["encfs"]["key_name"] == "encfs-key" and d["encfs"]["key_type"] == "RSA-HSM"
assert d["encfs"]["mount_point"] == "/mnt/remote/mint" and d["encfs"]["blob_container"] == "encfs"
assert d["debug"] is False and d["dns"]["label"] == "mint1"
PYEOF
expect_exit 0 $NUTGEN explain "$T/init/deployment.json" $FACTS --key-salt 00ff
grep -q 'Container nutshell-mint' "$T/out" || fail "explain output"
exit 0
