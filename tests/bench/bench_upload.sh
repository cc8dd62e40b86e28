# Volume upload to Azurite (HTTPS, loopback): a 1 GiB sparse volume with
# 64 MiB of scattered random data. Prints the bytes put on the wire for Put
# Page calls (headers included) against the non-zero data (target: within
# 10%), and the time of the parallel upload beside a plain sequential upload
# of the same ranges (the same code with one connection). Both include the
# read-back verification. Ratios only: no timed pass/fail.
set -eu
NG_TESTTMP=$NG_BENCHTMP
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/azurite.sh"
. "$NG_SRCDIR/tests/volume_lib.sh"
azurite_start
az_oracle mkcontainer vol
truncate -s 1G "$T/img"
head -c 2097152 /dev/urandom | dd of="$T/img" conv=notrunc 2>/dev/null
for i in $(seq 1 31); do
	head -c 2097152 /dev/urandom | dd of="$T/img" bs=2097152 seek=$((i * 16)) conv=notrunc 2>/dev/null
done
nz=$(nonzero_bytes "$T/img")
t() { date +%s.%N; }
s=$(t)
"$NUTAPPLY" volume upload -q --json --parallel 8 --ca-file "$AZ_CA" --image "$T/img" \
	--bundle-id b1 --volume-id v1 "$AZ_URL/vol/par.img" >"$T/par.json"
m=$(t)
"$NUTAPPLY" volume upload -q --json --parallel 1 --ca-file "$AZ_CA" --image "$T/img" \
	--bundle-id b1 --volume-id v1 "$AZ_URL/vol/seq.img" >"$T/seq.json"
e=$(t)
sent=$(json_get "$T/par.json" sent_bytes)
calls=$(json_get "$T/par.json" put_calls)
echo "$s $m $e $nz $sent $calls" | awk '{
	printf "upload: 1 GiB volume, %.1f MiB non-zero, %d Put Page calls\n", $4 / 1048576, $6
	printf "upload: bytes sent %d = %.4f x non-zero data (target <= 1.10)\n", $5, $5 / $4
	printf "upload: parallel (8) %.2f s, sequential (1 connection) %.2f s: %.2fx\n", $2 - $1, $3 - $2, ($3 - $2) / ($2 - $1)
	printf "upload: %.1f MiB/s of non-zero data in parallel\n", $4 / 1048576 / ($2 - $1)
}'
