# Bundles with a 1 GiB encfs volume: `nutgen build` (new LUKS2 image + key +
# render + sign) and `nutgen verify`, wall and CPU time, beside the floor of
# hashing the image's 1 GiB with sha256sum in the same run (every bundle
# digest covers the full content, holes as zeros). Also the bundle's size
# against the image's allocated size (target: <= allocated + 1 MiB).
set -eu
W=$NG_BENCHTMP
D=$NG_SRCDIR/tests/data/deployment
export NUTGEN_STATE_DIR="$W/state" SOURCE_DATE_EPOCH=1764000000
"$NUTGEN" keygen -o "$W/s.pem" --no-passphrase >/dev/null 2>&1
python3 - "$D/deployment.json" "$W" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["encfs"]["existing_volume"]
json.dump(d, open(sys.argv[2] + "/new.json", "w"))
PY
now() { date +%s.%N; }
# timed OUTFILE CMD...: runs CMD, writes its CPU seconds (user + system) to OUTFILE.
timed() {
	out=$1
	shift
	python3 -c 'import resource, subprocess, sys
rc = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("%.3f 0\n" % (r.ru_utime + r.ru_stime))
sys.exit(rc)' "$out" "$@"
}
s=$(now)
timed "$W/build.time" "$NUTGEN" build "$W/new.json" --sign-key "$W/s.pem" \
	-o "$W/b.tgz" --key-out "$W/key.json" --quiet \
	--image-info "$D/image-mint.json" --image-info "$D/image-skr.json" \
	--image-info "$D/image-encfs.json" --image-info "$D/image-caddy.json"
e=$(now)
mkdir "$W/x" && (cd "$W/x" && tar -xzf ../b.tgz --sparse encfs.img)
s2=$(now)
timed "$W/verify.time" "$NUTGEN" verify "$W/b.tgz" --trust "$W/s.pub" --quiet
e2=$(now)
s3=$(now)
sha256sum "$W/x/encfs.img" >/dev/null
e3=$(now)
alloc=$(($(stat -c %b "$W/x/encfs.img") * $(stat -c %B "$W/x/encfs.img")))
size=$(stat -c %s "$W/b.tgz")
echo "$s $e $s2 $e2 $s3 $e3 $(cat "$W/build.time") $(cat "$W/verify.time") $size $alloc" | awk '{
	b = $2 - $1; v = $4 - $3; f = $6 - $5
	printf "build 1 GiB create bundle: %.2f s wall (%.2f s CPU), %.2fx the sha256sum floor (%.2f s)\n", b, $7 + $8, b / f, f
	printf "verify 1 GiB create bundle: %.2f s wall (%.2f s CPU), %.2fx the floor\n", v, $9 + $10, v / f
	printf "bundle %d bytes, image allocated %d bytes: +%d bytes (limit +1048576)\n", $11, $12, $11 - $12
}'
