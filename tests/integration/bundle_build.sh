# nutgen build: a reference-only deployment builds byte-identically twice with
# the same SOURCE_DATE_EPOCH, and GNU tar lists it; a create bundle carries
# encfs.img sparse (GNU tar restores it with the manifest's SHA-256, no larger
# than the image's allocated size + 1 MiB) and the key only BYOK-wrapped; a
# KEK whose fingerprint differs is refused; a second create is refused without
# --new-volume; --existing-volume references the volume with its salt;
# --expires makes verify refuse it later.
. "$NG_SRCDIR/tests/lib.sh"
PY=$(find_python_crypto) || skip "python3 with cryptography not found (make deps)"
cd "$T"
D=$NG_SRCDIR/tests/data/deployment
export NUTGEN_STATE_DIR="$T/state" SOURCE_DATE_EPOCH=1764000000
INFO="--image-info $D/image-mint.json --image-info $D/image-skr.json --image-info $D/image-encfs.json --image-info $D/image-caddy.json"
"$NUTGEN" keygen -o s.pem --no-passphrase >/dev/null 2>&1

# Reference-only (the test deployment names an existing volume's salt).
expect_exit 0 "$NUTGEN" build "$D/deployment.json" --sign-key s.pem -o r1.tgz $INFO
expect_exit 0 "$NUTGEN" build "$D/deployment.json" --sign-key s.pem -o r2.tgz $INFO
cmp r1.tgz r2.tgz || fail "two reference builds differ"
tar -tvzf r1.tgz >list || fail "GNU tar cannot list the bundle"
for m in MANIFEST.json arm-template.json deployment.json explain.txt hostdata.txt \
	importkeyconfig.json policy.rego release-policy.json sidecar-args.json; do
	grep -q " $m\$" list || fail "member $m missing: $(cat list)"
done
grep -q "encfs.img\|key-byok" list && fail "a reference bundle carries a volume or key"
expect_exit 0 "$NUTGEN" verify r1.tgz --trust s.pub
mkdir r && (cd r && tar -xzf ../r1.tgz)
[ "$(sha256sum <r/policy.rego | cut -c1-64)" = "$(cut -c1-64 r/hostdata.txt)" ] ||
	fail "hostdata.txt is not the SHA-256 of policy.rego"
grep -q "\"action\": \"reference\"" r/MANIFEST.json || fail "manifest does not say reference"

# Create: a KEK as target.json describes it, its fingerprint typed by the operator.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out kek.key 2>/dev/null
openssl pkey -in kek.key -pubout -out kek.pub
fp=$(openssl pkey -pubin -in kek.pub -outform DER | sha256sum | cut -c1-64)
"$PY" - "$D/deployment.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
del d["encfs"]["existing_volume"]
d["encfs"]["size_mib"] = 128
json.dump(d, open("new.json", "w"))
import hashlib, subprocess
der = subprocess.run(["openssl", "pkey", "-pubin", "-in", "kek.pub", "-outform", "DER"],
                     capture_output=True, check=True).stdout
sub, rg = d["target"]["subscription"], "rg-nutshell-tee"
json.dump({"format": "nutgen-target/1", "cloud": "AzureCloud", "subscription": sub,
           "resource_group": rg, "location": "northeurope",
           "key_vault": {"name": "kv-nutshell-tee", "uri": "https://kv-nutshell-tee.vault.azure.net/", "kind": "vault"},
           "kek": {"name": "kek", "kid": "https://kv-nutshell-tee.vault.azure.net/keys/kek/1",
                   "public_key_pem": open("kek.pub").read(), "sha256": "sha256:" + hashlib.sha256(der).hexdigest()},
           "attestation": {"name": "attestnutshelltee", "endpoint": "https://attestnutshelltee.neu.attest.azure.net"},
           "identity": {"name": "id-nutshell-tee", "client_id": "11111111-2222-4333-8444-555555555555",
                        "principal_id": "66666666-7777-4888-9999-000000000000",
                        "resource_id": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-nutshell-tee" % (sub, rg)},
           "storage": {"account": "stnutshelltee", "blob_endpoint": "https://stnutshelltee.blob.core.windows.net/",
                       "container": "encfs", "blob": "encfs.img", "share": "caddy"}}, open("target.json", "w"))
PYEOF
bad=$(printf '%s' "$fp" | tr 0123456789abcdef 123456789abcdef0)
expect_exit 1 "$NUTGEN" build new.json --sign-key s.pem -o c.tgz $INFO --target target.json --kek-fingerprint "$bad"
expect_err "may have been substituted"
[ ! -e c.tgz ] || fail "bundle written despite a KEK mismatch"
expect_exit 2 "$NUTGEN" build new.json --sign-key s.pem -o c.tgz $INFO
expect_err "wrapped for the vault\|--key-out"
expect_exit 0 "$NUTGEN" build new.json --sign-key s.pem -o c.tgz $INFO --target target.json \
	--kek-fingerprint "$(echo "$fp" | tr a-f A-F | sed 's/../&:/g; s/:$//')"
grep -q "create (new volume and key)" "$T/out" || fail "not a create bundle: $(cat "$T/out")"
mkdir c && (cd c && tar -xzf ../c.tgz --sparse) || fail "GNU tar cannot extract"
grep -q "\"sha256\": \"$(sha256sum <c/encfs.img | cut -c1-64)\"" c/MANIFEST.json ||
	fail "GNU tar's encfs.img differs from the manifest's SHA-256"
[ "$(stat -c %s c/encfs.img)" -eq 134217728 ] || fail "encfs.img size"
alloc=$(($(stat -c %b c/encfs.img) * $(stat -c %B c/encfs.img)))
size=$(stat -c %s c.tgz)
[ "$size" -le $((alloc + 1048576)) ] || fail "bundle $size bytes > allocated $alloc + 1 MiB"
if command -v cryptsetup >/dev/null; then
	cryptsetup luksDump c/encfs.img >dump 2>&1 || fail "cryptsetup does not accept encfs.img"
	grep -q "LUKS2\|Version:.*2" dump || fail "not LUKS2: $(head -3 dump)"
fi
grep -q "\"kek_fingerprint\": \"sha256:$fp\"" c/MANIFEST.json || fail "fingerprint not in the manifest"
grep -q '"alg"' c/key-byok.json || fail "key-byok.json is not a BYOK transfer blob"
grep -rq "pkcs8\|PRIVATE KEY" c && fail "key material in clear in the bundle"
expect_exit 0 "$NUTGEN" verify c.tgz --trust s.pub
# --expires is relative to the creation time (SOURCE_DATE_EPOCH, in 2025):
# verify reads the clock, so this bundle is already expired.
expect_exit 0 "$NUTGEN" build "$D/deployment.json" --sign-key s.pem -o e.tgz $INFO --expires +30d
expect_exit 1 "$NUTGEN" verify e.tgz --trust s.pub
expect_err "expired at 2025-12-24T16:00:00Z"

# A second create for the target is refused; --existing-volume references it.
expect_exit 1 "$NUTGEN" build new.json --sign-key s.pem -o c2.tgz $INFO --target target.json --kek-fingerprint "$fp"
expect_err "already has a volume"
[ ! -e c2.tgz ] || fail "second create bundle written"
expect_exit 0 "$NUTGEN" build new.json --sign-key s.pem -o ref.tgz $INFO --existing-volume
mkdir ref && (cd ref && tar -xzf ../ref.tgz)
salt=$("$PY" -c 'import json,base64; a=json.load(open("c/sidecar-args.json")); print(base64.b64decode(a["EncfsSideCarArgs"]).decode())' | grep -o '"salt": *"[0-9a-f]*"')
[ -n "$salt" ] || fail "no salt in the create bundle's sidecar arguments"
"$PY" -c 'import json,base64; a=json.load(open("ref/sidecar-args.json")); print(base64.b64decode(a["EncfsSideCarArgs"]).decode())' |
	grep -q "$salt" || fail "the reference bundle does not carry the volume's salt"
expect_exit 1 "$NUTGEN" diff c.tgz ref.tgz
grep -q 'manifest $.volume.action: "create" -> "reference"' "$T/out" || fail "diff: $(cat "$T/out")"
# An older serial than this machine signed is refused.
SOURCE_DATE_EPOCH=1700000000 expect_exit 1 "$NUTGEN" build new.json --sign-key s.pem -o old.tgz $INFO --existing-volume
expect_err "rollback"
ls ./*.tmp 2>/dev/null && fail "temporary files left behind"
exit 0
