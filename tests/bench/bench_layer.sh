# nutgen layer-hash on a generated layer of >= 200 MB with thousands of
# files: MB/s of tar input, the ratio to sha256sum of the same file (the
# hashing floor: the root needs at least one SHA-256 pass over the data), the
# ratio to the Go reference (~200 MB/s on this class of machine, research note
# §12), peak RSS, and -j scaling over several layers.
set -eu
B=$NG_BENCHTMP
L=$B/layer.tar
python3 - "$L" <<'PY'
import io, os, random, sys, tarfile
random.seed(7)
total, n = 0, 0
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    for d in range(60):
        ti = tarfile.TarInfo("usr/share/d%02d" % d)
        ti.type = tarfile.DIRTYPE
        ti.mode = 0o755
        t.addfile(ti)
    while total < 210 * 1000 * 1000:
        # mostly small files, some large ones, like a root file system
        size = random.choice([0, 100, 700, 3000, 9000, 30000, 60000, 120000, 250000] * 40 + [4000000])
        ti = tarfile.TarInfo("usr/share/d%02d/f%05d" % (n % 60, n))
        ti.size = size
        ti.mode = 0o644
        ti.mtime = 1700000000 + n
        t.addfile(ti, io.BytesIO(os.urandom(size)))
        total += size
        n += 1
print("generated layer: %d files, %.0f MB" % (n, os.path.getsize(sys.argv[1]) / 1e6))
PY
size=$(stat -c %s "$L")
cat "$L" >/dev/null
now() { date +%s.%N; }
mbps() { echo "$1 $2 $3" | awk '{ printf "%.0f", $1 / 1e6 / ($3 - $2) }'; }
best() { # best of 3 wall times of a command, in seconds
	b=""
	for i in 1 2 3; do
		s=$(now)
		"$@" >/dev/null
		e=$(now)
		b=$(echo "$s $e ${b:-1e9}" | awk '{ d = $2 - $1; print (d < $3 ? d : $3) }')
	done
	echo "$b"
}
t_sha=$(best sha256sum "$L")
t_ng=$(best "$NUTGEN" layer-hash -q "$L")
echo "$size $t_sha $t_ng" | awk '{
	sha = $1 / 1e6 / $2; ng = $1 / 1e6 / $3
	printf "sha256sum floor:   %.0f MB/s\n", sha
	printf "layer-hash (tar):  %.0f MB/s of tar input = %.2fx sha256sum time (target <= 2x), %.1fx the Go reference (~200 MB/s)\n", ng, $3 / $2, ng / 200 }'

# Peak RSS of one run.
if [ -x /usr/bin/time ]; then
	/usr/bin/time -v "$NUTGEN" layer-hash -q "$L" 2>"$B/time" >/dev/null
	awk -F: '/Maximum resident set size/ { printf "peak RSS:          %.1f MiB (target < 64 MiB)\n", $2 / 1024 }' "$B/time"
else
	python3 -c 'import resource, subprocess, sys
subprocess.run([sys.argv[1], "layer-hash", "-q", sys.argv[2]], stdout=subprocess.DEVNULL, check=True)
print("peak RSS:          %.1f MiB (target < 64 MiB)" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))' "$NUTGEN" "$L"
fi

# gzip input: inflate dominates.
gzip -1 -c "$L" >"$L.gz"
cat "$L.gz" >/dev/null
t_gz=$(best "$NUTGEN" layer-hash -q "$L.gz")
echo "layer-hash (gzip): $(mbps "$size" 0 "$t_gz") MB/s of tar input"

# -j scaling: four layers, one at a time vs all cores.
for i in 1 2 3 4; do ln -f "$L" "$B/l$i.tar"; done
cores=$(nproc 2>/dev/null || echo 2)
t1=$(best "$NUTGEN" layer-hash -q -j 1 "$B"/l1.tar "$B"/l2.tar "$B"/l3.tar "$B"/l4.tar)
tn=$(best "$NUTGEN" layer-hash -q -j "$cores" "$B"/l1.tar "$B"/l2.tar "$B"/l3.tar "$B"/l4.tar)
echo "$t1 $tn $cores" | awk '{ printf "-j scaling:        4 layers, -j 1 %.2fs, -j %d %.2fs: %.2fx speed-up on %d cores\n", $1, $3, $2, $1 / $2, $3 }'
