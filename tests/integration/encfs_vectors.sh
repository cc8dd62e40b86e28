# The HKDF-SHA256 RSA-HSM vectors (tests/data/encfs, from
# ../shared/research/sidecars-vectors, cross-checked with Go's x/crypto/hkdf)
# reproduce end to end: an image made from each vector key opens in
# cryptsetup with the vector's expected passphrase.
. "$NG_SRCDIR/tests/lib.sh"
command -v cryptsetup >/dev/null || skip "cryptsetup not installed (make deps)"
PY=$(find_python_crypto) || skip "no python3 with the cryptography package"
V="$NG_SRCDIR/tests/data/encfs/hkdf-rsa-vectors.json"
[ -f "$V" ] || skip "tests/data/encfs/hkdf-rsa-vectors.json missing"
export PATH="$PATH:/usr/sbin:/sbin"

# nutgen key files always carry a salt and a label (sidecars.md §1.6), so the
# cases with an empty salt are covered by the unit test only.
"$PY" - "$V" "$T" <<'PYEOF'
import base64, json, os, sys
from cryptography.hazmat.primitives import serialization
v = json.load(open(sys.argv[1]))
keys = {k["name"]: k["pkcs8_pem"] for k in v["keys"]}
i = 0
for c in v["cases"]:
    if not c["salt_hex"] or not c["label"]:
        continue
    key = serialization.load_pem_private_key(keys[c["key"]].encode(), None)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    doc = {"kty": "RSA-HSM", "pkcs8": base64.urlsafe_b64encode(der).rstrip(b"=").decode(),
           "key_derivation": {"salt": c["salt_hex"], "label": c["label"]}}
    fd = os.open("%s/v%d.key" % (sys.argv[2], i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, json.dumps(doc).encode())
    os.close(fd)
    open("%s/v%d.pass" % (sys.argv[2], i), "wb").write(bytes.fromhex(c["derived_key_hex"]))
    i += 1
print(i)
PYEOF
n=0
for k in "$T"/v*.key; do
	v=${k%.key}
	expect_exit 0 "$NUTGEN" encfs create --key-file "$v.key" --out "$v.img" --size 64MiB
	cryptsetup open --test-passphrase --key-slot 0 --key-file "$v.pass" "$v.img" ||
		fail "$(basename "$v"): keyslot 0 does not open with the vector's passphrase"
	n=$((n + 1))
done
[ "$n" -ge 4 ] || fail "only $n vector cases ran"
echo "$n HKDF vector cases open their images"
