# nutgen encfs create at the default 1 GiB: wall time, CPU time and allocated
# size, against a baseline in the same run: cp --sparse=always of the
# finished image (the floor for producing a file with the same allocated
# bytes, fsync included). Targets (docs/encfs.md): under 1 s wall, under
# 24 MiB allocated. Wall time on a loaded machine is mostly waiting for the
# disk (the image is fsynced): the load average is printed with it.
set -eu
W=$NG_BENCHTMP
export PATH="$PATH:/usr/sbin:/sbin"
head -c 32 /dev/urandom >"$W/k"
now() { date +%s.%N; }
best=999 cpu=999
for i in 1 2 3; do
	rm -f "$W/e.img"
	s=$(now)
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f "%U %S" -o "$W/cpu" "$NUTGEN" encfs create --key-file "$W/k" --out "$W/e.img" --quiet
	else
		"$NUTGEN" encfs create --key-file "$W/k" --out "$W/e.img" --quiet
		echo "0 0" >"$W/cpu"
	fi
	e=$(now)
	t=$(echo "$s $e" | awk '{ printf "%.3f", $2 - $1 }')
	c=$(awk '{ printf "%.3f", $1 + $2 }' "$W/cpu")
	best=$(echo "$best $t" | awk '{ print ($2 < $1) ? $2 : $1 }')
	cpu=$(echo "$cpu $c" | awk '{ print ($2 < $1) ? $2 : $1 }')
done
alloc=$(($(stat -c %b "$W/e.img") * $(stat -c %B "$W/e.img")))
s=$(now)
cp --sparse=always "$W/e.img" "$W/copy.img"
sync -f "$W/copy.img" 2>/dev/null || sync
e=$(now)
base=$(echo "$s $e" | awk '{ printf "%.3f", $2 - $1 }')
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?")
echo "encfs create 1GiB: best of 3 $best s wall, $cpu s CPU (user+sys; mke2fs child included), load average $load (target < 1 s wall: $(echo "$best" | awk '{print ($1 < 1) ? "met" : "MISSED"}'))"
echo "encfs allocated: $alloc bytes = $(echo "$alloc" | awk '{ printf "%.1f", $1 / 1048576 }') MiB (target < 24 MiB: $([ "$alloc" -lt 25165824 ] && echo met || echo MISSED))"
echo "baseline cp --sparse=always + sync of the image: $base s; ratio create/cp = $(echo "$best $base" | awk '{ printf "%.1f", ($2 > 0) ? $1 / $2 : 0 }')x"
