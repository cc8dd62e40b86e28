# nutgen image inspect: a cold run (every layer verified and converted to
# ext4 + dm-verity) against `nutgen layer-hash` on the same layer files (the
# cost of verification on top of hashing), -j 2 against -j 1, and a warm run
# (layer cache filled: blobs only re-digested) against the cold one. The image
# is built from the layer vectors in tests/data/vectors, repeated to ~40 MiB.
set -eu
W=$NG_BENCHTMP
python3 - "$NG_SRCDIR/tests/data/vectors/layers" "$W/img" <<'PY'
import hashlib, json, os, sys
src, out = sys.argv[1], sys.argv[2]
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
names = ["multi-mb.tar", "many-files.tar", "many-dirs.tar", "realistic-small.tar"] * 3
os.makedirs(out + "/blobs/sha256")
def put(b):
    open(out + "/blobs/sha256/" + sha(b)[7:], "wb").write(b)
    return sha(b)
layers, ids = [], []
for i, n in enumerate(names):
    raw = open(os.path.join(src, n), "rb").read() + b"\0" * 512 * (i + 1)  # distinct diff_ids
    open(out + "/../layers.txt", "a").write(out + "/blobs/sha256/" + sha(raw)[7:] + "\n")
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": put(raw), "size": len(raw)})
    ids.append(sha(raw))
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": ids}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                             "digest": put(cfg), "size": len(cfg)}, "layers": layers}).encode()
md = put(man)
open(out + "/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(man)}]}))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
export XDG_CACHE_HOME="$W/cache"
now() { date +%s.%N; }
cat "$W"/img/blobs/sha256/* >/dev/null
t00=$(now); sha256sum $(cat "$W/layers.txt") >/dev/null; t0=$(now)
"$NUTGEN" layer-hash -q $(cat "$W/layers.txt") >/dev/null; t1=$(now)
"$NUTGEN" image inspect -q --no-cache "$W/img" >/dev/null; t2=$(now)
"$NUTGEN" image inspect -q --no-cache -j 2 "$W/img" >/dev/null; t3=$(now)
"$NUTGEN" image inspect -q "$W/img" >/dev/null; t4=$(now) # fills the cache
"$NUTGEN" image inspect -q "$W/img" >/dev/null; t5=$(now)
mb=$(du -sm "$W/img" | cut -f1)
echo "$t0 $t1 $t2 $t3 $t4 $t5 $mb $t00" | awk '{
	floor = $1 - $8
	lh = $2 - $1; cold = $3 - $2; j2 = $4 - $3; warm = $6 - $5
	printf "image: %d MiB in 12 layers\n", $7
	printf "layer-hash of the layer blobs: %.0f ms\n", lh * 1000
	printf "inspect cold -j1: %.0f ms (%.2fx layer-hash: cost of verifying)\n", cold * 1000, cold / lh
	printf "inspect cold -j2: %.0f ms (%.2fx faster than -j1)\n", j2 * 1000, cold / j2
	printf "inspect warm (cache): %.0f ms (%.0fx faster than cold; %.2fx sha256sum of the blobs, %.0f ms)\n", warm * 1000, cold / warm, warm / floor, floor * 1000
}'
