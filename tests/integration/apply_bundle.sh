# nutapply apply BUNDLE against real HTTPS Azurite and the Azure stand-in:
# the blob read back equals the bundle's image, the vault holds the key
# nutgen wrapped (unwrapped by the fake's HSM) with the bundle's release
# policy, ARM holds the template with the secure parameters filled; a second
# apply changes nothing and says so; plan/status/logs/restart/delete.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/apply_lib.sh"
apply_setup
mkbundle b1 b1.tgz "$AZ_URL/vol/encfs.img" mint
# Azurite and the stand-in have different test CAs: one bundle file for both.
cat "$AZ_CA" "$FAKEAZURE_CA" >cas.pem
A() { c=$1; shift; expect_exit "$c" "$NUTAPPLY" "$@" --trust s.pub --ca-file "$T/cas.pem"; }

# 0. plan before anything: everything pending (exit 3), nothing written.
A 3 plan b1.tgz
grep -q "absent: would be created" out || fail "plan: $(cat out)"
[ "$(fakeazure_q 'len([r for r in s["requests"] if r["method"] in ("PUT","PATCH","POST") and r["service"]!="entra"])')" = 0 ] ||
	fail "plan wrote"

# 1. apply: every step done, receipt in JSON.
A 0 apply b1.tgz --json -q
cp out r1.json
"$FAKEAZURE_PY" - r1.json "$(sha256sum <b1.tgz | cut -c1-64)" "$(cat b1/hostdata.txt)" <<'PY' || fail "receipt: $(cat r1.json)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["bundle_sha256"] == sys.argv[2] and r["hostdata"] == sys.argv[3] and r["changed"] is True
st = {s["step"]: s["result"] for s in r["steps"]}
assert st["volume"].startswith("created"), st
assert "imported" in st["key"] and "succeeded" in st["deploy"] and "every container runs" in st["group"], st
assert all(isinstance(s["seconds"], (int, float)) for s in r["steps"])
PY
# The blob, read back by an independent client, equals the image.
az_oracle compare vol/encfs.img b1/encfs.img >/dev/null || fail "blob differs from the bundle's image"
az_oracle meta vol/encfs.img | grep -qx nutapply_state=complete || fail "blob not marked complete"
# The vault holds the key nutgen wrapped, unwrapped by the fake HSM, with the policy.
"$FAKEAZURE_PY" - b1/key <<'PY' >key.hex
import json, sys, base64
k = json.load(open(sys.argv[1]))["pkcs8"]
print(base64.urlsafe_b64decode(k + "=" * (-len(k) % 4)).hex())
PY
[ "$(fakeazure_q 's["vault"]["keys"]["mint"]["versions"][0]["material_hex"]')" = "$(cat key.hex)" ] ||
	fail "the vault's unwrapped key differs from what nutgen wrapped"
[ "$(fakeazure_q 'json.dumps(s["vault"]["keys"]["mint"]["versions"][0]["release_policy"]["policy"],separators=(",",":"))')" = "$(cat b1/release-policy.json)" ] ||
	fail "the vault's release policy differs from the bundle's"
[ "$(fakeazure_q 's["vault"]["keys"]["mint"]["versions"][0]["exportable"]')" = True ] || fail "not exportable"
# ARM holds the bundle's template with the secure parameters filled.
fakeazure_state >state.json
"$FAKEAZURE_PY" - state.json b1/arm-template.json <<'PY' || fail "ARM does not hold the bundle's filled template"
import json, sys, os
s = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))
(name, d), = [(k, v) for k, v in s["arm"]["deployments"].items()]
assert name.startswith("nutgen-") and d["mode"] == "Incremental"
cg = d["resources"][0]["properties"]
assert cg["volumes"][0]["azureFile"]["storageAccountKey"] == s["arm"]["storage_keys"]["acct1"][0]
assert cg["imageRegistryCredentials"][0]["password"] == os.environ["NUTAPPLY_REGISTRY_PASSWORD"]
assert cg["confidentialComputeProperties"]["ccePolicy"] == t["parameters"]["ccePolicy"]["defaultValue"]
assert s["arm"]["container_groups"]["mint"]["restarts"] == 0
PY

# 2. Twice: nothing changes and it says so; no write anywhere.
nw() { fakeazure_q 'len([r for r in s["requests"] if r["method"] in ("PUT","PATCH","POST","DELETE") and r["service"]!="entra"])'; }
before=$(nw)
NUTAPPLY_HTTP_DEBUG=1 A 0 apply b1.tgz
grep -q "nothing changed: already applied" out || fail "second apply: $(cat out)"
grep -q "^volume *unchanged" out && grep -q "^key .*unchanged" out && grep -q "^deploy *unchanged" out ||
	fail "second apply does not say each step is unchanged: $(cat out)"
[ "$(nw)" = "$before" ] || fail "second apply wrote to ARM or the vault"
! grep "http: > \\(PUT\\|POST\\|PATCH\\|DELETE\\)" err | grep -qv "oauth2/" ||
	fail "second apply wrote: $(grep 'http: > P' err | grep -v oauth2/)"
A 0 plan b1.tgz
grep -q "nothing to change" out || fail "plan after apply: $(cat out)"

# 3. status, logs, restart, delete.
A 0 status b1.tgz
grep -q "hostdata: $(cat b1/hostdata.txt) (the bundle's)" out && grep -q "container encfs: Running" out ||
	fail "status: $(cat out)"
A 0 logs b1.tgz caddy
grep -q "fakeazure log of caddy" out || fail "logs: $(cat out)"
A 0 restart b1.tgz
[ "$(fakeazure_q 's["arm"]["container_groups"]["mint"]["restarts"]')" = 1 ] || fail "restart count"
A 2 delete b1.tgz
[ "$(fakeazure_q '"mint" in s["arm"]["container_groups"]')" = True ] || fail "deleted without --yes"

# 4. A new bundle for the same group (new policy, new key policy): the
#    volume is kept, the key's release policy updated on its current
#    version, the group redeployed and restarted.
mkdir b2 && cp b1/encfs.img b1/key b1/key-byok.json b2/ && printf 'package policy\n# two\n' >b2/policy.rego
mkbundle b2 b2.tgz "$AZ_URL/vol/encfs.img" mint
A 3 plan b2.tgz
grep -q "release policy differs" out && grep -q "would deploy and restart" out || fail "plan b2: $(cat out)"
A 0 apply b2.tgz
grep -q "^volume *unchanged" out || fail "b2 volume: $(cat out)"
grep -q "release policy updated" out && grep -q "restarted" out || fail "b2: $(cat out)"
[ "$(fakeazure_q 'len(s["vault"]["keys"]["mint"]["versions"])')" = 1 ] || fail "a new key version"
[ "$(fakeazure_q 'json.dumps(s["vault"]["keys"]["mint"]["versions"][0]["release_policy"]["policy"],separators=(",",":"))')" = "$(cat b2/release-policy.json)" ] ||
	fail "release policy not updated"
[ "$(fakeazure_q 's["arm"]["container_groups"]["mint"]["restarts"]')" = 2 ] || fail "group not restarted"

# 5. delete --yes: the group goes, the blob and the key stay.
A 0 delete b2.tgz --yes
[ "$(fakeazure_q '"mint" in s["arm"]["container_groups"]')" = False ] || fail "group not deleted"
az_oracle compare vol/encfs.img b1/encfs.img >/dev/null || fail "delete touched the blob"
for f in out err; do
	grep -qF "$NUTAPPLY_REGISTRY_PASSWORD" $f && fail "registry password in $f"
	grep -qF "$FAKEAZURE_CLIENT_SECRET" $f && fail "client secret in $f"
done
exit 0
