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
# run N BUNDLE: "<volume step seconds> <page bytes sent>"
run() {
	"$NUTAPPLY" apply "$2" --parallel "$1" --json -q --trust s.pub --ca-file cas.pem >"r$1.json"
	python3 - "r$1.json" <<'PY'
import json, re, sys
s = {x["step"]: x for x in json.load(open(sys.argv[1]))["steps"]}["volume"]
print(s["seconds"], re.search(r"(\d+) bytes of page data sent", s["result"]).group(1))
PY
}
par=$(run 8 par.tgz)
seq=$(run 1 seq.tgz)
# On loopback one Node thread (Azurite) is the bottleneck, so parallel Put
# Pages cannot win; they pay off when each request waits on the network. The
# same again through a proxy that holds every reply 50 ms, as a WAN would.
start_proxy wan --fault slow:1:0.05
mkbundle b wpar.tgz "$PROXY_URL/vol/wpar.img" mint
mkbundle b wseq.tgz "$PROXY_URL/vol/wseq.img" mint
wpar=$(run 8 wpar.tgz)
wseq=$(run 1 wseq.tgz)
echo "$nz $par $seq $wpar $wseq" | awk '{
	printf "upload: 1 GiB volume, %.1f MiB non-zero; each time includes the read-back (azure-rest.md 8.4)\n", $1 / 1048576
	printf "upload: bytes sent %d = %.4f x non-zero data (target <= 1.10)\n", $3, $3 / $1
	printf "upload: loopback: parallel (8) %.2f s, sequential (1 connection) %.2f s: %.2fx\n", $2, $4, $4 / $2
	printf "upload: 50 ms per reply: parallel (8) %.2f s, sequential %.2f s: %.2fx\n", $6, $8, $8 / $6
	printf "upload: %.1f MiB/s of non-zero data in parallel on loopback\n", $1 / 1048576 / $2
}'
