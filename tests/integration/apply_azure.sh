# nutapply apply/plan/status/logs/restart/delete against the Azure stand-in
# (ARM and Key Vault parts; the blob is apply_bundle's and apply_safety's):
# a missing secret stops before ARM is asked, secure parameters filled in
# ARM's stored deployment, both async styles followed, ARM's failure message
# in one line, restart, a container that does not come up named, delete;
# the key from --key-file for a bundle without BYOK, policy update on the
# current version and what it releases, a non-exportable key refused; faults
# on every endpoint; throttled for good leaves no deployment; plan says what
# a bundle would change; no secret on any output.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/apply_lib.sh"
apply_setup
A() {
	c=$1
	shift
	expect_exit "$c" "$NUTAPPLY" "$@" --trust s.pub --ca-file "$T/cas.pem"
	cat out err >>all.log
}
one_line() { [ "$(wc -l <err)" -eq 1 ] || fail "not one line: $(cat err)"; }
armw() { fakeazure_q 'len([r for r in s["requests"] if r["service"]=="arm" and r["method"]!="GET"])'; }
ndep() { fakeazure_q 'len(s["arm"]["deployments"])'; }
mkvolume v.img 8
for b in b c d e; do
	mkdir $b && cp v.img $b/encfs.img
	mkbundle $b $b.tgz "$AZ_URL/vol/encfs.img" mint
done

# 1. A secure parameter without a source: one line, ARM never asked.
w=$(armw)
(
	unset NUTAPPLY_REGISTRY_PASSWORD
	A 1 apply b.tgz -q
)
expect_err "registryPassword needs a value: set NUTAPPLY_REGISTRY_PASSWORD"
one_line
[ "$(armw)" = "$w" ] || fail "a missing secret still reached ARM"

# 2. apply: ARM holds the template with the secure parameters filled.
A 0 apply b.tgz
fakeazure_state >state.json
"$FAKEAZURE_PY" - state.json <<'PY' || fail "ARM's deployment does not hold the filled secure parameters"
import json, sys, os
s = json.load(open(sys.argv[1]))
(d,) = s["arm"]["deployments"].values()
cg = d["resources"][0]["properties"]
assert cg["volumes"][0]["azureFile"]["storageAccountKey"] == s["arm"]["storage_keys"]["acct1"][0]
assert cg["imageRegistryCredentials"][0]["password"] == os.environ["NUTAPPLY_REGISTRY_PASSWORD"]
assert d["mode"] == "Incremental"
PY

# 3. ARM refuses the deployment, reported in every async style (the fake
#    rotates Azure-AsyncOperation / Location / both / none): ARM's own
#    message, one line. Then the same bundle goes through: restarted.
for i in 1 2 3 4; do
	fakeazure_ctl POST /_fake/arm/fail-deployment \
		'{"code":"InvalidCcePolicy","message":"The CCE Policy cannot be left empty"}' >/dev/null
	A 1 apply c.tgz -q
	expect_err "deployment nutgen-[0-9a-f]* Failed: InvalidCcePolicy: The CCE Policy cannot be left empty"
	one_line
done
A 0 apply c.tgz
grep -q "restarted" out || fail "existing group not restarted: $(cat out)"
[ "$(fakeazure_q 'sorted(set(p for r in s["requests"] for p in ("operationStatuses","operationResults") if p in r["path"]))')" = \
	"['operationResults', 'operationStatuses']" ] || fail "did not follow both Azure-AsyncOperation and Location"

# 4. A container that does not come up: named; status shows it; restart.
fakeazure_ctl POST /_fake/arm/container \
	'{"group":"mint","container":"encfs","state":"Terminated","exitCode":1,"detailStatus":"Error"}' >/dev/null
A 1 restart c.tgz --timeout 1 -q
expect_err "container encfs is Terminated"
one_line
A 0 status c.tgz
grep -q "container encfs: Terminated" out || fail "status: $(cat out)"
fakeazure_ctl POST /_fake/arm/container '{"group":"mint","container":"encfs","state":"Running"}' >/dev/null
r=$(fakeazure_q 's["arm"]["container_groups"]["mint"]["restarts"]')
A 0 restart c.tgz
[ "$(fakeazure_q 's["arm"]["container_groups"]["mint"]["restarts"]')" = $((r + 1)) ] || fail "restart count"
A 0 logs c.tgz mint
grep -q "fakeazure log of mint" out || fail "logs: $(cat out)"

# 5. Faults on every endpoint (Entra, ARM, Key Vault): a new bundle still
#    completes; its policy lands on the key's current version, no new version.
fakeazure_ctl POST /_fake/faults '[
 {"service":"entra","kind":"503","retry_after":0,"nth":1},
 {"service":"arm","method":"POST","path":"listKeys","kind":"expired"},
 {"service":"arm","method":"PUT","path":"deployments","kind":"429","retry_after":1},
 {"service":"arm","method":"GET","path":"operation","kind":"503","retry_after":0},
 {"service":"arm","method":"GET","path":"containerGroups/mint$","kind":"reset"},
 {"service":"arm","method":"GET","path":"deployments/nutgen-[^/]*$","kind":"truncated"},
 {"service":"arm","method":"POST","path":"restart","kind":"slow","delay":1},
 {"service":"vault","method":"GET","kind":"429","retry_after":1},
 {"service":"vault","method":"GET","kind":"truncated","nth":2},
 {"service":"vault","method":"PATCH","kind":"503","retry_after":0},
 {"service":"vault","method":"GET","kind":"expired","nth":4}]' >/dev/null
A 0 apply d.tgz
grep -q "release policy updated" out && grep -q "restarted" out || fail "through faults: $(cat out)"
[ "$(fakeazure_q 'sum(1 for f in s["faults"] if f["fired"])')" -ge 9 ] || fail "faults did not fire: $(fakeazure_q 's["faults"]')"
[ "$(fakeazure_q 'len(s["vault"]["keys"]["mint"]["versions"])')" = 1 ] || fail "a new key version"
[ "$(fakeazure_q 'json.dumps(s["vault"]["keys"]["mint"]["versions"][0]["release_policy"]["policy"],separators=(",",":"))')" = "$(cat d/release-policy.json)" ] ||
	fail "release policy not updated"
fakeazure_ctl POST /_fake/faults '[]' >/dev/null
# What that policy lets out: a simulated group with d's hostdata gets the
# very key nutgen wrapped for b; one with c's hostdata gets nothing.
"$FAKEAZURE_PY" - b/key <<'PY' >key.hex
import json, sys, base64
k = json.load(open(sys.argv[1]))["pkcs8"]
print(base64.urlsafe_b64decode(k + "=" * (-len(k) % 4)).hex())
PY
"$FAKEAZURE_PY" -B "$NG_SRCDIR/tests/fakeazure/tee.py" "$FAKEAZURE_DIR" mint "$(cat d/hostdata.txt)" \
	--out released.der || fail "release with the policy's hostdata refused"
[ "$(od -An -tx1 -v released.der | tr -d ' \n')" = "$(cat key.hex)" ] || fail "released key differs"
set +e
"$FAKEAZURE_PY" -B "$NG_SRCDIR/tests/fakeazure/tee.py" "$FAKEAZURE_DIR" mint "$(cat c/hostdata.txt)" 2>/dev/null
[ $? -eq 3 ] || fail "a group with another hostdata got the key"
set -e

# 6. plan for the next bundle, then ARM throttled for good: one line, no
#    deployment half made.
A 3 plan e.tgz
grep -q "release policy differs" out && grep -q "would deploy and restart" out || fail "plan: $(cat out)"
n=$(ndep)
fakeazure_ctl POST /_fake/faults '[{"service":"arm","method":"PUT","kind":"503","count":0,"retry_after":0}]' >/dev/null
A 1 apply e.tgz -q
expect_err "HTTP 503"
one_line
[ "$(ndep)" = "$n" ] || fail "a half-made deployment"
fakeazure_ctl POST /_fake/faults '[]' >/dev/null

# 7. A bundle without BYOK (key.delivery key-file): the key comes from
#    --key-file, the vault holds that very JWK with the bundle's policy.
"$FAKEAZURE_PY" "$NG_SRCDIR/tests/fakeazure/mkkeys.py" jwk jwk.json jwk.d
# keyfile_bundle DIR KEYNAME: DIR.tgz, a bundle with key.delivery key-file
# and no wrapped key (mkbundle's, repacked without key-byok.json).
keyfile_bundle() {
	mkdir "$1" && cp v.img "$1/encfs.img"
	mkbundle "$1" "$1-byok.tgz" "$AZ_URL/vol/encfs.img" "$2"
	"$FAKEAZURE_PY" -c 'import json,sys; f=json.load(open(sys.argv[1])); f["key"]["delivery"]="key-file"; json.dump(f,open(sys.argv[1],"w"))' "$1/fields.json"
	"$NUTGEN" pack --fields "$1/fields.json" --sign-key s.pem -o "$1.tgz" --sparse encfs.img \
		arm-template.json="$1/arm-template.json" encfs.img="$1/encfs.img" \
		hostdata.txt="$1/hostdata.txt" policy.rego="$1/policy.rego" \
		release-policy.json="$1/release-policy.json" >/dev/null || fail "pack $1"
}
keyfile_bundle j mintj
A 1 apply j.tgz -q
expect_err "no key mintj and no wrapped key: use --key-file"
A 0 apply j.tgz --key-file jwk.json
[ "$(fakeazure_q 's["vault"]["keys"]["mintj"]["versions"][0]["rsa_d_hex"]')" = "$(cat jwk.d)" ] ||
	fail "the vault's key differs from the JWK"
[ "$(fakeazure_q 'json.dumps(s["vault"]["keys"]["mintj"]["versions"][0]["release_policy"]["policy"],separators=(",",":"))')" = "$(cat j/release-policy.json)" ] ||
	fail "the vault's release policy differs from the bundle's"
[ "$(fakeazure_q '(s["vault"]["keys"]["mintj"]["versions"][0]["exportable"], s["vault"]["keys"]["mintj"]["versions"][0]["release_policy"]["immutable"])')" = "(True, False)" ] ||
	fail "not exportable, or immutable"

# 7b. The key file `nutgen key new` wrote (RSA as PKCS#8) is accepted as it
#     is: the vault holds that key's d, as python-cryptography reads it.
keyfile_bundle n mintn
A 0 apply n.tgz --key-file n/key
d=$("$FAKEAZURE_PY" -c 'import json, sys, base64
from cryptography.hazmat.primitives.serialization import load_der_private_key
s = json.load(open(sys.argv[1]))["pkcs8"]
print(format(load_der_private_key(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), None).private_numbers().d, "x"))' n/key)
[ "$(fakeazure_q 's["vault"]["keys"]["mintn"]["versions"][0]["rsa_d_hex"]')" = "$d" ] ||
	fail "the vault's key differs from nutgen's key file"
printf '{"kty":"RSA-HSM","pkcs8":"AAAA"}' >bad.key
keyfile_bundle x mintx
A 1 apply x.tgz --key-file bad.key -q
expect_err "--key-file bad.key: pkcs8 is not an RSA private key"
one_line
[ "$(fakeazure_q '"mintx" in s["vault"]["keys"]')" = False ] || fail "a bad key file reached the vault"

# 8. A key that exists and is not exportable (the KEK): refused, one line,
#    no deployment.
mkdir k && cp v.img k/encfs.img
mkbundle k k.tgz "$AZ_URL/vol/encfs.img" kek1
n=$(ndep)
A 1 apply k.tgz -q
expect_err "key kek1 is not exportable"
one_line
[ "$(ndep)" = "$n" ] || fail "deployed after the key was refused"

# 9. delete: refused without --yes, then gone; absent is fine.
A 2 delete j.tgz
A 0 delete j.tgz --yes
[ "$(fakeazure_q '"mint" in s["arm"]["container_groups"]')" = False ] || fail "group not deleted"
A 0 delete j.tgz --yes
A 1 status j.tgz
expect_err "ResourceNotFound"

# 10. No secret on any output.
skey=$(fakeazure_q 's["arm"]["storage_keys"]["acct1"][0]')
for s in "$skey" "$NUTAPPLY_REGISTRY_PASSWORD" "$FAKEAZURE_CLIENT_SECRET" "$(cut -c1-40 jwk.d)"; do
	grep -qF -- "$s" all.log && fail "a secret on the output: $(grep -F -- "$s" all.log | head -1 | cut -c1-20)..."
done
! grep -q "Bearer" all.log || fail "a token on the output"
exit 0
