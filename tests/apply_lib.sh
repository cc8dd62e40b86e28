# Sourced by the apply_* integration tests after lib.sh: one Azurite and one
# stand-in, and signed bundles made by nutgen (keygen, key new --kek, pack)
# whose manifest names the fake's endpoints as a custom cloud (SPEC §5.2
# deployment.custom_cloud).
. "$NG_SRCDIR/tests/azurite.sh"
. "$NG_SRCDIR/tests/fakeazure.sh"
. "$NG_SRCDIR/tests/volume_lib.sh"

# apply_setup [FAKEAZURE OPTIONS]: starts both servers, the signing key
# s.pem/s.pub, the KEK, cas.pem trusting both; the test then runs in $T.
apply_setup() {
	azurite_start
	fakeazure_start --kek kek1 --resource-group rg1 --storage-account rg1/acct1 \
		--lro-polls 1 --retry-after 0 "$@"
	trap 'fakeazure_stop; azurite_stop' EXIT
	trap 'fakeazure_stop; azurite_stop; exit 1' INT TERM
	fakeazure_env "$T/cloud.json"
	export NUTAPPLY_HTTP_BACKOFF_BASE=0.05 NUTAPPLY_ARM_POLL_S=0.1
	export NUTAPPLY_REGISTRY_PASSWORD="regpw-$$-secret"
	az_oracle mkcontainer vol
	"$NUTGEN" keygen -o "$T/s.pem" --no-passphrase >/dev/null 2>&1 || fail "keygen"
	KEK_KID=$("$FAKEAZURE_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["keks"]["kek1"])' \
		"$FAKEAZURE_DIR/endpoints.json")
	curl -sS --fail --cacert "$FAKEAZURE_CA" \
		-H "Authorization: Bearer $(fakeazure_token https://vault.azure.net)" \
		"$KEK_KID?api-version=7.4" >"$T/kek.json" || fail "cannot read the KEK"
	"$FAKEAZURE_PY" - "$T/kek.json" "$T/kek.pem" <<'PY'
import json, sys, base64
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization
k = json.load(open(sys.argv[1]))["key"]
i = lambda s: int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")
pub = rsa.RSAPublicNumbers(i(k["e"]), i(k["n"])).public_key()
open(sys.argv[2], "wb").write(pub.public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo))
PY
	cat "$AZ_CA" "$FAKEAZURE_CA" >"$T/cas.pem"
	cd "$T"
}

# mkvolume FILE MIB: a sparse LUKS-like image: dense header, scattered
# blocks, a larger region in the middle (random data).
mkvolume() {
	truncate -s "$2M" "$1"
	head -c 1048576 /dev/urandom | dd of="$1" conv=notrunc 2>/dev/null
	for i in 1 2 3 4; do
		head -c 4096 /dev/urandom | dd of="$1" bs=4096 seek=$((600 + i * 37)) conv=notrunc 2>/dev/null
	done
	head -c "${MKVOLUME_MID:-4194304}" /dev/urandom | dd of="$1" bs=1048576 seek=$(($2 / 2)) conv=notrunc 2>/dev/null
}

# mkbundle DIR OUT BLOB_URL KEYNAME [SIGNKEY] [CLOUD.json] [EXTRA_FIELDS_PY]:
# a create bundle in DIR: volume DIR/encfs.img (made if absent), a key made
# by nutgen and wrapped to the fake's KEK (plaintext in DIR/key), the
# stand-in's template with the policy embedded, the release policy.
mkbundle() {
	d=$1 out=$2 blob=$3 kname=$4 sk=${5:-$T/s.pem} cloud=${6:-$T/cloud.json}
	mkdir -p "$d"
	[ -f "$d/encfs.img" ] || mkvolume "$d/encfs.img" 64
	[ -f "$d/key-byok.json" ] || "$NUTGEN" key new --type RSA-HSM --out "$d/key" --kek "$T/kek.pem" \
		--kek-kid "$KEK_KID" --byok-out "$d/key-byok.json" >/dev/null || fail "nutgen key new"
	[ -f "$d/policy.rego" ] || printf 'package policy\n# %s\n' "$d" >"$d/policy.rego"
	h=$(sha256sum <"$d/policy.rego" | cut -c1-64)
	echo "$h" >"$d/hostdata.txt"
	"$FAKEAZURE_PY" "$NG_SRCDIR/tests/fakeazure/mkkeys.py" policy "$FAKEAZURE_ATTEST" "$h" "$d/release-policy.json"
	"$FAKEAZURE_PY" - "$d" "$blob" "$kname" "$cloud" "$h" "$NG_SRCDIR/tests/data/fakeazure/template.json" \
		"$FAKEAZURE_VAULT" "$FAKEAZURE_SUBSCRIPTION" "${7:-}" <<'PY'
import json, sys, base64, os
d, blob, kname, cloud, h, tmpl, vault, sub, extra = sys.argv[1:]
t = json.load(open(tmpl))
t["parameters"]["ccePolicy"]["defaultValue"] = base64.b64encode(open(d + "/policy.rego", "rb").read()).decode()
json.dump(t, open(d + "/arm-template.json", "w"), indent=1)
f = {"created": "2026-01-01T00:00:00Z", "serial": 7,
     "deployment": {"cloud": "custom", "custom_cloud": json.load(open(cloud)), "subscription": sub,
                    "resource_group": "rg1", "location": "westeurope", "container_group": "mint",
                    "storage_account": "acct1"},
     "policy": {"profile": "test", "hostdata": h, "debug": False},
     "volume": {"action": "create", "blob": blob, "size": os.path.getsize(d + "/encfs.img")},
     "key": {"action": "create", "name": kname, "type": "RSA-HSM", "vault": vault, "delivery": "byok"}}
if extra:
    exec(extra)
json.dump(f, open(d + "/fields.json", "w"))
PY
	"$NUTGEN" pack --fields "$d/fields.json" --sign-key "$sk" -o "$out" --sparse encfs.img \
		arm-template.json="$d/arm-template.json" encfs.img="$d/encfs.img" \
		hostdata.txt="$d/hostdata.txt" key-byok.json="$d/key-byok.json" \
		policy.rego="$d/policy.rego" release-policy.json="$d/release-policy.json" >/dev/null ||
		fail "nutgen pack"
}
