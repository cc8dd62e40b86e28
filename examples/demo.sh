#!/bin/sh
# `make demo`: the whole offline half on sample inputs, no network, no root.
# 1. small sample images (examples/mkimages.py) and the example deployment
#    (`nutgen init`, pointed at those images);
# 2. an author's and a reviewer's signing keys (`nutgen keygen`), and a stand-in
#    for the vault's key-exchange key as `nutapply infra up` would describe it
#    in target.json, with its fingerprint;
# 3. `nutgen build`: the first bundle creates the 1 GiB encrypted volume and the
#    key, wrapped for the vault (BYOK); then verify, show, explain;
# 4. the reviewer co-signs; verify with a threshold of 2;
# 5. a second bundle referencing the same volume, and `nutgen diff` of the two.
set -eu
BIN=${BIN:-bin}
N="$BIN/nutgen"
here=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/nutgen-demo.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
export NUTGEN_STATE_DIR="$W/state" SOURCE_DATE_EPOCH=1764000000
step() { printf '\n== %s\n' "$*"; }

step "sample images (no network) and the example deployment"
python3 "$here/mkimages.py" "$W/images"
"$N" init "$W/deploy" >/dev/null
python3 - "$W/deploy/deployment.json" "$W/images" <<'PY'
import json, sys
path, images = sys.argv[1:3]
d = json.load(open(path))
for k in ("skr", "encfs", "caddy", "mint"):
    d["containers"][k]["archive"] = "%s/%s.oci.tar" % (images, k)
d["dns"]["label"] = "nutshell-demo"
d["acme_email"] = "ops@example.com"
json.dump(d, open(path, "w"), indent=2)
PY
ls -l "$W/images"

step "signing keys (author, reviewer) and the vault's key-exchange key"
"$N" keygen -o "$W/author.pem" --no-passphrase 2>/dev/null
"$N" keygen -o "$W/reviewer.pem" --no-passphrase 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$W/kek-private.pem" 2>/dev/null
openssl pkey -in "$W/kek-private.pem" -pubout -out "$W/kek.pub"
python3 - "$W" <<'PY'
import hashlib, json, subprocess, sys
w = sys.argv[1]
der = subprocess.run(["openssl", "pkey", "-pubin", "-in", w + "/kek.pub", "-outform", "DER"],
                     capture_output=True, check=True).stdout
sub, rg, kv = "00000000-0000-0000-0000-000000000000", "rg-nutshell-tee", "https://kv-nutshell-tee.vault.azure.net/"
json.dump({"format": "nutgen-target/1", "cloud": "AzureCloud", "subscription": sub,
           "resource_group": rg, "location": "northeurope",
           "key_vault": {"name": "kv-nutshell-tee", "uri": kv, "kind": "vault"},
           "kek": {"name": "kek", "kid": kv + "keys/kek/0123456789abcdef",
                   "public_key_pem": open(w + "/kek.pub").read(),
                   "sha256": "sha256:" + hashlib.sha256(der).hexdigest()},
           "attestation": {"name": "attestnutshelltee", "endpoint": "https://attestnutshelltee.neu.attest.azure.net"},
           "identity": {"name": "id-nutshell-tee", "client_id": "11111111-2222-4333-8444-555555555555",
                        "principal_id": "66666666-7777-4888-9999-000000000000",
                        "resource_id": "/subscriptions/%s/resourceGroups/%s/providers/"
                                       "Microsoft.ManagedIdentity/userAssignedIdentities/id-nutshell-tee" % (sub, rg)},
           "storage": {"account": "stnutshelltee", "blob_endpoint": "https://stnutshelltee.blob.core.windows.net/",
                       "container": "encfs", "blob": "encfs.img", "share": "caddy"}},
          open(w + "/target.json", "w"), indent=2)
PY
fp=$(openssl pkey -pubin -in "$W/kek.pub" -outform DER | sha256sum | cut -c1-64)
echo "KEK fingerprint (what 'nutapply infra up' prints): $fp"

step "nutgen build: first bundle, creates the volume and the key (BYOK)"
start=$(date +%s.%N)
"$N" build "$W/deploy/deployment.json" --sign-key "$W/author.pem" -o "$W/bundle-1.tgz" \
	--target "$W/target.json" --kek-fingerprint "$fp" --quiet
end=$(date +%s.%N)
echo "$start $end" | awk '{ printf "built in %.2f s\n", $2 - $1 }'
ls -l "$W/bundle-1.tgz"
tar -tvzf "$W/bundle-1.tgz"

step "nutgen verify (author trusted)"
"$N" verify "$W/bundle-1.tgz" --trust "$W/author.pub"

step "nutgen show"
"$N" show "$W/bundle-1.tgz" --trust "$W/author.pub"

step "explain.txt (what a reviewer approves)"
"$N" show "$W/bundle-1.tgz" --member explain.txt

step "the reviewer co-signs; a threshold of 2 now holds"
"$N" sign "$W/bundle-1.tgz" --key "$W/reviewer.pem"
"$N" verify "$W/bundle-1.tgz" --trust "$W/author.pub" --trust "$W/reviewer.pub" --threshold 2

step "a second build is refused from creating another volume"
"$N" build "$W/deploy/deployment.json" --sign-key "$W/author.pem" -o "$W/refused.tgz" \
	--target "$W/target.json" --kek-fingerprint "$fp" --quiet || true

step "second bundle: references the volume; debug logging for Caddy; diff"
SOURCE_DATE_EPOCH=1764003600 CADDY_DEBUG=true "$N" build "$W/deploy/deployment.json" \
	--sign-key "$W/author.pem" -o "$W/bundle-2.tgz" --existing-volume --quiet \
	--target "$W/target.json" --kek-fingerprint "$fp"
ls -l "$W/bundle-2.tgz"
"$N" diff "$W/bundle-1.tgz" "$W/bundle-2.tgz" || true
echo
echo "demo done (work files in $W are removed on exit)"
