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
# measure CMD...: best of 3 runs: "wall_seconds cpu_seconds peak_rss_kib"
# (CPU time stays meaningful when the machine is shared).
measure() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
best_w = best_c = 1e9
rss = 0
for _ in range(3):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
    w = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    best_w, best_c = min(best_w, w), min(best_c, c)
    rss = max(rss, r1.ru_maxrss)
print("%.4f %.4f %d" % (best_w, best_c, rss))
PY
}
sha=$(measure sha256sum "$L")
ng=$(measure "$NUTGEN" layer-hash -q "$L")
echo "$size $sha $ng" | awk '{
	mb = $1 / 1e6
	printf "sha256sum floor:   %.0f MB/s wall, %.0f MB/s per CPU second\n", mb / $2, mb / $3
	printf "layer-hash (tar):  %.0f MB/s wall, %.0f MB/s per CPU second of tar input\n", mb / $5, mb / $6
	printf "  ratio to sha256sum: %.2fx its wall time, %.2fx its CPU time (target <= 2x)\n", $5 / $2, $6 / $3
	printf "  vs the Go reference (~200 MB/s, research note 12): %.1fx by CPU time\n", mb / $6 / 200
	printf "peak RSS:          %.1f MiB (target < 64 MiB)\n", $7 / 1024 }'

# gzip input: inflate dominates.
gzip -1 -c "$L" >"$L.gz"
cat "$L.gz" >/dev/null
gz=$(measure "$NUTGEN" layer-hash -q "$L.gz")
echo "$size $gz" | awk '{ printf "layer-hash (gzip): %.0f MB/s wall, %.0f MB/s per CPU second of tar input\n", $1 / 1e6 / $2, $1 / 1e6 / $3 }'

# -j scaling: four layers, one at a time vs all cores.
for i in 1 2 3 4; do ln -f "$L" "$B/l$i.tar"; done
cores=$(nproc 2>/dev/null || echo 2)
t1=$(measure "$NUTGEN" layer-hash -q -j 1 "$B"/l1.tar "$B"/l2.tar "$B"/l3.tar "$B"/l4.tar | cut -d' ' -f1)
tn=$(measure "$NUTGEN" layer-hash -q -j "$cores" "$B"/l1.tar "$B"/l2.tar "$B"/l3.tar "$B"/l4.tar | cut -d' ' -f1)
echo "$t1 $tn $cores" | awk '{ printf "-j scaling:        4 layers, -j 1 %.2fs, -j %d %.2fs: %.2fx speed-up on %d cores\n", $1, $3, $2, $1 / $2, $3 }'
