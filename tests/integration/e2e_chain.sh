# End-to-end simulation (issue 14): nutgen build of a first-deployment bundle
# for a target made of Azurite (blob) and the local Azure stand-in (Entra,
# ARM, Key Vault with BYOK, MAA), nutapply applies it, then a simulated TEE
# gets the key released by the stored release policy, derives the encfs
# passphrase in Python (sidecars.md §1.6, independent of our C), opens the
# blob read back from Azurite with cryptsetup, decrypts the data segment with
# python3-cryptography and finds the marker with debugfs.
# Each link is also broken on purpose (E2E_BREAK=salt|policy|volkey runs
# the whole chain with one link corrupted and must fail at that link; without
# it the script proves every such break is caught at the right step).
. "$NG_SRCDIR/tests/lib.sh"
command -v cryptsetup >/dev/null || skip "cryptsetup not installed (make deps)"
export PATH="$PATH:/usr/sbin:/sbin"
command -v debugfs >/dev/null || skip "debugfs not installed (make deps)"
. "$NG_SRCDIR/tests/azurite.sh"
. "$NG_SRCDIR/tests/fakeazure.sh"
# The stand-in first: it exits by itself when this shell is gone, so a
# failing Azurite start cannot leave it behind (the reverse could).
fakeazure_start --kek kek1 --resource-group rg1 --storage-account rg1/acct1 --lro-polls 0 --retry-after 0
azurite_start
trap 'fakeazure_stop; azurite_stop' EXIT
trap 'fakeazure_stop; azurite_stop; exit 1' INT TERM
fakeazure_env "$T/cloud.json"
export NUTAPPLY_HTTP_BACKOFF_BASE=0.05 NUTAPPLY_ARM_POLL_S=0.1
PY=$FAKEAZURE_PY
ORACLE="$NG_SRCDIR/tests/oracles/encfs_oracle.py"
D=$NG_SRCDIR/tests/data/deployment
cd "$T"

# --- 1. nutgen build: the target's KEK from the vault, a custom cloud -------
kek=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["keks"]["kek1"])' "$FAKEAZURE_DIR/endpoints.json")
curl -sS --fail --cacert "$FAKEAZURE_CA" -H "Authorization: Bearer $(fakeazure_token https://vault.azure.net)" \
	"$kek?api-version=7.4" >kek.json
"$PY" - "$D/deployment.json" "$kek" <<'PYEOF'
import base64, json, os, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
def b64u_int(s):
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")
jwk = json.load(open("kek.json"))["key"]
pub = rsa.RSAPublicNumbers(b64u_int(jwk["e"]), b64u_int(jwk["n"])).public_key()
pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
open("kek.pub", "w").write(pem)
e = os.environ
d = json.load(open(sys.argv[1]))
del d["encfs"]["existing_volume"]
d["encfs"]["size_mib"] = 64
# target.json as `nutapply infra up` writes it (docs/infra.md), naming the
# stand-ins; nutgen build takes these live names over the deployment's.
import hashlib
der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
# (the deployment file's defaults, templates/deployment/defaults.json, where unset)
tg, sub = d["target"], e["FAKEAZURE_SUBSCRIPTION"]
ident = tg.get("managed_identity", "id-nutshell-tee")
json.dump({"format": "nutgen-target/1", "cloud": "custom", "subscription": sub,
           "resource_group": "rg1", "location": tg.get("location", "northeurope"),
           "key_vault": {"name": tg.get("key_vault", "kv-nutshell-tee"), "uri": e["FAKEAZURE_VAULT"], "kind": "vault"},
           "kek": {"name": "kek1", "kid": sys.argv[2], "public_key_pem": pem,
                   "sha256": "sha256:" + hashlib.sha256(der).hexdigest()},
           "attestation": {"name": tg.get("attestation_provider", "attestnutshelltee"), "endpoint": e["FAKEAZURE_ATTEST"]},
           "identity": {"name": ident,
                        "resource_id": "/subscriptions/%s/resourceGroups/rg1/providers/"
                                       "Microsoft.ManagedIdentity/userAssignedIdentities/%s" % (sub, ident),
                        "client_id": "11111111-2222-3333-4444-555555555555",
                        "principal_id": "66666666-7777-8888-9999-000000000000"},
           "storage": {"account": "acct1", "blob_endpoint": e["AZ_URL"],
                       "container": d["encfs"].get("blob_container", "encfs"),
                       "blob": d["encfs"].get("blob_name", "encfs.img"),
                       "share": "caddy"}}, open("target.json", "w"))
d["target"].update({
    "cloud": "custom", "subscription": e["FAKEAZURE_SUBSCRIPTION"], "resource_group": "rg1",
    "storage_account": "acct1", "container_group": "mint",
    "custom_cloud": {"resource_manager": e["FAKEAZURE_ARM"], "active_directory": e["FAKEAZURE_ENTRA"],
                     "key_vault_suffix": "vault.azure.net", "managed_hsm_suffix": "managedhsm.azure.net",
                     "storage_suffix": "core.windows.net", "attestation_suffix": "attest.azure.net",
                     "container_dns_suffix": "azurecontainer.io",
                     # the stand-in issues Azure's audiences; its IMDS is on Entra's port
                     "resource_manager_audience": "https://management.azure.com",
                     "imds": e["FAKEAZURE_ENTRA"]},
    "endpoints": {"key_vault": e["FAKEAZURE_VAULT"], "storage_blob": e["AZ_URL"],
                  "attestation": e["FAKEAZURE_ATTEST"]}})
json.dump(d, open("deployment.json", "w"), indent=1)
PYEOF
fp=$(openssl pkey -pubin -in kek.pub -outform DER | sha256sum | cut -c1-64)
"$NUTGEN" keygen -o sign.pem --no-passphrase >/dev/null 2>&1
INFO="--image-info $D/image-mint.json --image-info $D/image-skr.json --image-info $D/image-encfs.json --image-info $D/image-caddy.json"
export NUTGEN_STATE_DIR="$T/state"
expect_exit 0 "$NUTGEN" build deployment.json --sign-key sign.pem -o bundle.tgz $INFO \
	--target target.json --kek-fingerprint "$fp" --quiet
grep -q "create (new volume and key)" "$T/out" || fail "not a first-deployment bundle: $(cat "$T/out")"
expect_exit 0 "$NUTGEN" verify bundle.tgz --trust sign.pub
# What the TEE side needs, read with GNU tar and Python, not with our C.
mkdir b && (cd b && tar -xzf ../bundle.tgz --sparse) || fail "GNU tar cannot extract the bundle"
HD=$(cut -c1-64 b/hostdata.txt)
[ "$(sha256sum <b/policy.rego | cut -c1-64)" = "$HD" ] || fail "hostdata.txt is not SHA-256(policy.rego)"
"$PY" - >args.env <<'PYEOF'
import base64, json
a = json.loads(base64.b64decode(json.load(open("b/sidecar-args.json"))["EncfsSideCarArgs"]))
fs = a["azure_filesystems"][0]
print("KID=%s SALT=%s LABEL=%s BLOB=%s" % (fs["key"]["kid"], fs["key_derivation"]["salt"],
      fs["key_derivation"]["label"], fs["azure_url"]))
PYEOF
. ./args.env
case $BLOB in "$AZ_URL"/*) ;; *) fail "encfs blob $BLOB is not on this Azurite ($AZ_URL)" ;; esac
[ ${#SALT} -eq 64 ] || fail "encfs salt '$SALT' is not 32 bytes of hex"
BLOBPATH=${BLOB#"$AZ_URL"/}

# --- 2. apply -----------------------------------------------------------------
# The storage container exists before apply (what `nutapply infra up` makes).
az_oracle mkcontainer "${BLOBPATH%%/*}"
cat "$FAKEAZURE_CA" "$AZ_CA" >cas.pem
export NUTAPPLY_REGISTRY_PASSWORD="regpw-$$"
# The real link: nutapply apply of the bundle nutgen build made, unchanged.
expect_exit 0 "$NUTAPPLY" apply bundle.tgz --trust sign.pub --ca-file cas.pem --quiet
APPLIED_WITH="nutapply apply"
echo "applied with: $APPLIED_WITH"
[ "$(fakeazure_q 's["vault"]["keys"]["'"$KID"'"]["versions"][-1]["source"]')" = byok ] ||
	fail "the vault's $KID was not imported BYOK"
# What ARM holds decides the group's hostdata: SHA-256 of the deployed
# ccePolicy (sidecars.md §5). It must be the bundle's, and so must the policy
# the vault stores (compared semantically: the vault re-serialises it).
fakeazure_state >state.json
"$PY" - state.json b/release-policy.json "$HD" "$KID" <<'PYEOF' || fail "the applied state does not carry the bundle's hostdata"
import base64, hashlib, json, sys
s = json.load(open(sys.argv[1]))
hd = sys.argv[3]
cces = [r["properties"]["confidentialComputeProperties"]["ccePolicy"]
        for d in s["arm"]["deployments"].values() for r in d["resources"]
        if r.get("type", "").endswith("containerGroups")]
assert cces, "no container group deployed"
for c in cces:
    got = hashlib.sha256(base64.b64decode(c)).hexdigest()
    assert got == hd, "deployed ccePolicy hashes to %s, bundle says %s" % (got, hd)
pol = s["vault"]["keys"][sys.argv[4]]["versions"][-1]["release_policy"]["policy"]
assert pol == json.load(open(sys.argv[2])), "the vault's release policy is not the bundle's"
PYEOF

# --- 3. the simulated TEE ------------------------------------------------------
# What encfs reads: the blob as Azurite serves it (independent client).
az_oracle get "$BLOBPATH" blob.img || fail "cannot read the blob back from Azurite"
cmp -s blob.img b/encfs.img || fail "the blob read back differs from the bundle's encfs.img"
cryptsetup luksDump --dump-json-metadata blob.img >hdr.json || fail "luksDump refused the blob"
MARKER=/.persist-sentinel

# set_release_policy FILE: FILE becomes the release policy of the current version of the
# vault's key $KID, through Key Vault's Update Key (PATCH, api-version 7.4) as the stand-in
# enforces it; the vault then evaluates releases against it.
set_release_policy() {
	data=$(base64 -w0 <"$1" | tr '+/' '-_' | tr -d '=')
	curl -sS --fail-with-body --cacert "$FAKEAZURE_CA" -X PATCH -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $(fakeazure_token https://vault.azure.net)" \
		--data-binary "{\"release_policy\":{\"contentType\":\"application/json; charset=utf-8\",\"data\":\"$data\"}}" \
		"$FAKEAZURE_VAULT/keys/$KID?api-version=7.4" >/dev/null
}

# flip_hex HEX: the same hex with its last digit changed.
flip_hex() {
	printf '%s' "$1" | sed 's/.$//'
	case $1 in *0) printf 1 ;; *) printf 0 ;; esac
}

# chain BREAK: runs the TEE side of the chain, with one link corrupted when
# BREAK is salt, policy or volkey; prints the step where it stopped
# (release, passphrase, volkey, decrypt, marker) or "ok".
chain() {
	brk=$1 salt=$SALT
	rm -f pass.hex pass.bin vk.bin plain.img holes
	[ "$brk" = salt ] && salt=$(flip_hex "$SALT")
	if [ "$brk" = policy ]; then
		# The stored release policy names another hostdata (the rest as
		# the bundle's): the vault must then refuse the bundle's group.
		sed "s/$HD/$(printf '%064d' 7)/" b/release-policy.json >other-policy.json
		set_release_policy other-policy.json || fail "setting the policy break in the vault"
	fi
	# Released by the stand-in's Key Vault against its stored policy for a
	# token of the stand-in's MAA carrying the bundle's hostdata; the
	# passphrase derived as encfs does (tee.py: HKDF-SHA256 over the minimal
	# big-endian d, salt, label; sidecars.md §1.6).
	if ! "$PY" -B "$NG_SRCDIR/tests/fakeazure/tee.py" "$FAKEAZURE_DIR" "$KID" "$HD" \
		--derive "$salt" "$LABEL" >pass.hex 2>tee.err; then
		echo release
	elif ! "$PY" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(open("pass.hex").read().strip()))' >pass.bin ||
		! cryptsetup open --test-passphrase --key-file pass.bin blob.img 2>/dev/null; then
		echo passphrase
	elif ! cryptsetup luksDump --dump-volume-key --volume-key-file vk.bin --key-file pass.bin \
		--batch-mode blob.img >/dev/null 2>&1; then
		echo passphrase
	else
		[ "$brk" = volkey ] && "$PY" -c 'import sys; b=bytearray(open("vk.bin","rb").read()); b[0]^=1; open("vk.bin","wb").write(b)'
		# The volume key must be the one the header's digest names (LUKS2
		# on-disk spec: digest = PBKDF2(hash, volume key, salt, iterations)).
		if ! "$PY" - <<'PYEOF'; then
import base64, hashlib, json, sys
h = json.load(open("hdr.json"))
vk = open("vk.bin", "rb").read()
ok = False
for d in h["digests"].values():
    want = base64.b64decode(d["digest"])
    ok |= d["type"] == "pbkdf2" and "0" in d["segments"] and \
        hashlib.pbkdf2_hmac(d["hash"], vk, base64.b64decode(d["salt"]), d["iterations"], len(want)) == want
sys.exit(0 if ok else 1)
PYEOF
			echo volkey
		elif ! "$PY" "$ORACLE" decrypt blob.img vk.bin 16777216 plain.img holes >/dev/null 2>&1; then
			echo decrypt
		elif ! debugfs -R "stat $MARKER" plain.img 2>/dev/null | grep -q "^Inode:"; then
			echo marker
		else
			echo ok
		fi
	fi
	if [ "$brk" = policy ]; then
		set_release_policy b/release-policy.json || fail "restoring the bundle's policy in the vault"
	fi
}

if [ -n "${E2E_BREAK:-}" ]; then
	# The whole chain with one link broken, as a test run: must fail.
	got=$(chain "$E2E_BREAK")
	[ "$got" = ok ] || fail "chain broken (E2E_BREAK=$E2E_BREAK) at step: $got"
	exit 0
fi

got=$(chain none)
[ "$got" = ok ] || { cat tee.err >&2; fail "the intact chain stopped at step: $got"; }
e2fsck -fn plain.img >fsck.txt 2>&1 || { cat fsck.txt; fail "the decrypted volume is not a clean ext4"; }
# Each corrupted link is caught where it is, not later and not earlier.
for c in salt:passphrase policy:release volkey:volkey; do
	got=$(chain "${c%%:*}")
	[ "$got" = "${c#*:}" ] || fail "break ${c%%:*}: chain stopped at '$got', expected '${c#*:}'"
	[ "${c%%:*}" != policy ] || grep -q "does not satisfy the release policy" tee.err ||
		fail "policy break refused for another reason: $(cat tee.err)"
done
# A volume key that does not match the header also decrypts to no file system.
cryptsetup luksDump --dump-volume-key --volume-key-file vk-good.bin --key-file pass.bin \
	--batch-mode blob.img >/dev/null 2>&1 || fail "luksDump --dump-volume-key"
"$PY" -c 'import sys; b=bytearray(open("vk-good.bin","rb").read()); b[0]^=1; open("vk-bad.bin","wb").write(b)'
"$PY" "$ORACLE" decrypt blob.img vk-bad.bin 16777216 bad.img holes >/dev/null 2>&1 || true
debugfs -R "stat $MARKER" bad.img 2>/dev/null | grep -q "^Inode:" && fail "a wrong volume key still shows the marker"

# --- 4. tokens the stored policy must refuse ---------------------------------
# Another hostdata, a debuggable guest, VMPL 1, and a token from another
# signer than the stand-in's MAA: the vault releases nothing (tee.py exit 3).
nrel() { fakeazure_q 'len([r for r in s["vault"]["releases"] if r["released"]])'; }
# First the control: the bundle's own token gets the key (the policy is the
# bundle's again after the policy break), so the refusals below are the tokens'.
"$PY" -B "$NG_SRCDIR/tests/fakeazure/tee.py" "$FAKEAZURE_DIR" "$KID" "$HD" >/dev/null 2>tee.err ||
	fail "the bundle's token gets no key after the breaks: $(cat tee.err)"
released=$(nrel)
for c in "hostdata:{}:$(printf '%064d' 1)" 'debuggable:{"x-ms-sevsnpvm-is-debuggable":true}:' \
	'vmpl:{"x-ms-sevsnpvm-vmpl":1}:' 'rogue:{}:'; do
	name=${c%%:*} rest=${c#*:}
	claims=${rest%:*} hd=${rest##*:}
	signer=maa
	[ "$name" = rogue ] && signer=rogue
	set +e
	"$PY" -B "$NG_SRCDIR/tests/fakeazure/tee.py" "$FAKEAZURE_DIR" "$KID" "${hd:-$HD}" --claims "$claims" \
		--signer "$signer" --out "leak-$name.der" >/dev/null 2>tee.err
	rc=$?
	set -e
	[ $rc -eq 3 ] || fail "token with $name: the vault released the key (tee.py exit $rc: $(cat tee.err))"
	[ ! -s "leak-$name.der" ] || fail "token with $name: key material written"
done
[ "$(nrel)" = "$released" ] || fail "a refused token still counted as a release"

# --- 5. nutapply verify on the stand-in's tokens -----------------------------
# The provider is the one the bundle names (deployment.attestation_endpoint);
# its signing keys come from the stand-in's /certs over TLS.
fakeazure_maa_tokens tok- "$HD"
V() { vx=$1; shift; expect_exit "$vx" "$NUTAPPLY" verify bundle.tgz --trust sign.pub --ca-file "$FAKEAZURE_CA" "$@"; }
V 0 --token tok-good.json --nonce c0ffee
grep -q '^verdict: PASS' out || fail "verify: no PASS for the simulated TEE's token: $(cat out)"
grep -q "^ok    maa.hostdata .*$(printf '%s' "$HD" | cut -c1-8)" out || fail "verify: hostdata row: $(cat out)"
for vc in rogue:maa.signature iss:maa.issuer hd:maa.hostdata exp:maa.validity; do
	V 1 --token "tok-${vc%%:*}.json"
	grep -q "^FAIL  ${vc#*:} " out || fail "verify ${vc%%:*}: no FAIL ${vc#*:}: $(cat out)"
done
echo "chain: intact ok; salt->passphrase, policy->release, volkey->volkey; refused tokens get no key; verify ok"
echo "applied with: $APPLIED_WITH"
