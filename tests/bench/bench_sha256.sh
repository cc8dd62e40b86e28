# The hashing floor every other benchmark is compared with: sha256sum over
# 256 MiB of data in this process's file cache, in MB/s.
set -eu
f=$NG_BENCHTMP/floor.bin
head -c 268435456 /dev/urandom >"$f"
cat "$f" >/dev/null
s=$(date +%s.%N)
sha256sum "$f" >/dev/null
e=$(date +%s.%N)
echo "$s $e" | awk '{ printf "sha256sum floor: %.0f MB/s (256 MiB)\n", 268.435456 / ($2 - $1) }'
