# The volume step of `nutapply apply` to Azurite (HTTPS, loopback): a bundle
# with a 1 GiB sparse volume holding 64 MiB of scattered random data.
# Prints the Put Page body bytes against the non-zero data (target: within
# 10%), and the volume step's time with --parallel 8 beside a plain
# sequential upload of the same ranges (--parallel 1, one connection), both
# from the receipt. Ratios only: no timed pass/fail.
set -eu
NG_TESTTMP=$NG_BENCHTMP
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/apply_lib.sh"
apply_setup
mkdir b
truncate -s 1G b/encfs.img
head -c 2097152 /dev/urandom | dd of=b/encfs.img conv=notrunc 2>/dev/null
for i in $(seq 1 31); do
	head -c 2097152 /dev/urandom | dd of=b/encfs.img bs=2097152 seek=$((i * 16)) conv=notrunc 2>/dev/null
done
nz=$(nonzero_bytes b/encfs.img)
mkbundle b par.tgz "$AZ_URL/vol/par.img" mint
mkbundle b seq.tgz "$AZ_URL/vol/seq.img" mint
# run N BUNDLE: "<volume step seconds> <page bytes sent> <Put Page calls>"
run() {
	NUTAPPLY_HTTP_DEBUG=1 "$NUTAPPLY" apply "$2" --parallel "$1" --json -q --trust s.pub \
		--ca-file cas.pem >"r$1.json" 2>"r$1.err"
	python3 - "r$1.json" "$(grep -c 'http: > PUT .*comp=page (try 1)' "r$1.err")" <<'PY'
import json, re, sys
s = {x["step"]: x for x in json.load(open(sys.argv[1]))["steps"]}["volume"]
print(s["seconds"], re.search(r"(\d+) bytes of page data sent", s["result"]).group(1), sys.argv[2])
PY
}
par=$(run 8 par.tgz)
seq=$(run 1 seq.tgz)
echo "$nz $par $seq" | awk '{
	printf "upload: 1 GiB volume, %.1f MiB non-zero, %d Put Page calls\n", $1 / 1048576, $4
	printf "upload: bytes sent %d = %.4f x non-zero data (target <= 1.10)\n", $3, $3 / $1
	printf "upload: parallel (8) %.2f s, sequential (1 connection) %.2f s: %.2fx\n", $2, $5, $5 / $2
	printf "upload: %.1f MiB/s of non-zero data in parallel\n", $1 / 1048576 / $2
}'
