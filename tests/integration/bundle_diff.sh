# nutgen diff: a reviewer sees each change once, by path: the manifest's
# identity, the CCE policy per container and field (confcom example 01 as the
# base), the release policy, the ARM template, the sidecar arguments decoded,
# and the volume only by digest. Exit 0 when equal (times and serial aside),
# 1 when different.
. "$NG_SRCDIR/tests/lib.sh"
PY=$(find_python_crypto) || skip "python3 with cryptography not found (make deps)"
D=$NG_SRCDIR/tests/data/bundle
cd "$T"
"$NUTGEN" keygen -o k.pem --no-passphrase >/dev/null 2>&1
mkdir a b
cp "$D/policy-01.rego" a/policy.rego
cp "$D/arm-template-01.json" a/arm-template.json
cp "$D/release-policy.json" a/release-policy.json
printf '%s\n' "$(sha256sum <a/policy.rego | cut -c1-64)" >a/hostdata.txt
truncate -s 1M a/encfs.img
printf 'secret-looking-ciphertext' | dd of=a/encfs.img bs=1 seek=4096 conv=notrunc 2>/dev/null
"$PY" - <<'PYEOF'
import base64, json, re
enc = {"azure_filesystems": [{"mount_point": "/mnt/remote/share", "read_write": True,
       "key": {"kid": "encfs-key", "kty": "RSA-HSM"}}]}
skr = {"certcache": {"endpoint": "americas.test.acccache.azure.net"}}
def args(e, s):
    return {"EncfsSideCarArgs": base64.b64encode(json.dumps(e).encode()).decode(),
            "SkrSideCarArgs": base64.b64encode(json.dumps(s).encode()).decode()}
json.dump(args(enc, skr), open("a/sidecar-args.json", "w"))
fields = {"created": "2026-01-01T00:00:00Z", "serial": 1,
          "deployment": {"cloud": "AzureCloud", "resource_group": "rg-a", "container_group": "mint"},
          "images": [{"container": "mint", "image": "nutshell:1", "digest": "sha256:" + "a" * 64}],
          "volume": {"action": "create", "size": 1048576}}
json.dump(fields, open("fa.json", "w"))
# B: changed command and first layer of container1, a release policy claim,
# the template's image, the encfs sidecar's read_write, the resource group and
# image digest; no volume (a reference bundle).
pol = open("a/policy.rego").read()
m = re.search(r"^containers := (.*)$", pol, re.M)
cs = json.loads(m.group(1))
cs[0]["command"] = ["/bin/sh", "-c", "evil"]
cs[0]["layers"][0] = "f" * 64
pol = pol[:m.start(1)] + json.dumps(cs, separators=(",", ":")) + pol[m.end(1):]
open("b/policy.rego", "w").write(pol)
rp = json.load(open("a/release-policy.json"))
json.dump(rp, open("b/release-policy.json", "w"))
t = json.load(open("a/arm-template.json"))
t["resources"][0]["properties"]["containers"][0]["properties"]["image"] = "evil/image:latest"
json.dump(t, open("b/arm-template.json", "w"))
enc["azure_filesystems"][0]["read_write"] = False
json.dump(args(enc, skr), open("b/sidecar-args.json", "w"))
fields.update({"created": "2026-02-01T00:00:00Z", "serial": 2})
fields["deployment"]["resource_group"] = "rg-b"
fields["images"][0]["digest"] = "sha256:" + "b" * 64
fields["volume"] = {"action": "reference"}
json.dump(fields, open("fb.json", "w"))
PYEOF
printf '%s\n' "$(sha256sum <b/policy.rego | cut -c1-64)" >b/hostdata.txt
# The release policy's first claim value changes too.
sed 's/"equals":"[^"]*"/"equals":"changed"/' a/release-policy.json >b/release-policy.json
cmp -s a/release-policy.json b/release-policy.json && fail "release policy fixture did not change"

pack() { # DIR FIELDS OUT [encfs]
	set -- "$@"
	dir=$1 fields=$2 out=$3
	shift 3
	members="policy.rego=$dir/policy.rego arm-template.json=$dir/arm-template.json"
	members="$members release-policy.json=$dir/release-policy.json hostdata.txt=$dir/hostdata.txt"
	members="$members sidecar-args.json=$dir/sidecar-args.json"
	[ $# -eq 0 ] || members="$members encfs.img=$dir/encfs.img"
	expect_exit 0 "$NUTGEN" pack --fields "$fields" --sign-key k.pem --sparse encfs.img -o "$out" $members
}
pack a fa.json A.tgz encfs
pack b fb.json B.tgz

expect_exit 0 "$NUTGEN" diff A.tgz A.tgz
grep -q "^no differences$" "$T/out" || fail "diff A A: $(cat "$T/out")"
expect_exit 1 "$NUTGEN" diff A.tgz B.tgz
cat "$T/out"
has() { grep -qF -- "$1" "$T/out" || fail "diff does not show: $1"; }
has 'manifest $.deployment.resource_group: "rg-a" -> "rg-b"'
has 'manifest $.images[container=mint].digest: "sha256:aaaa'
has 'manifest $.volume.action: "create" -> "reference"'
has 'policy.rego $.containers[name=container1].command: null -> ["/bin/sh","-c","evil"]'
has "policy.rego \$.containers[name=container1].layers[0]: "
has 'hostdata: '
has 'release-policy.json $'
has '"changed"'
has 'arm-template.json $.resources[name=group1].properties.containers[name=container1].properties.image: "mcr'
has 'sidecar-args.json $.EncfsSideCarArgs.azure_filesystems[0].read_write: true -> false'
has 'member encfs.img: removed (1048576 bytes, sha256'
has '(info) manifest serial: 1 -> 2'
has '(info) member policy.rego: changed'
grep -q "^11 difference(s)$" "$T/out" || fail "expected 11 differences"
# A JSON member changed in bytes only (reformatted) still counts.
"$PY" -c 'import json; json.dump(json.load(open("a/arm-template.json")), open("r.json", "w"), indent=8)'
cp -r a r && cp r.json r/arm-template.json
pack r fa.json R.tgz encfs
expect_exit 1 "$NUTGEN" diff A.tgz R.tgz
grep -q "^member arm-template.json: changed" "$T/out" || fail "byte-only change not shown: $(cat "$T/out")"
grep -q "secret-looking" "$T/out" && fail "diff printed volume content"
# Only times and serial differ: equal.
sed 's/"serial": 1/"serial": 9/; s/2026-01-01/2026-03-01/' fa.json >fc.json
pack a fc.json C.tgz encfs
expect_exit 0 "$NUTGEN" diff A.tgz C.tgz
grep -q "^no differences$" "$T/out" || fail "diff A C: $(cat "$T/out")"
expect_exit 2 "$NUTGEN" diff A.tgz
exit 0
