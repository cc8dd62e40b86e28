# Sourced by the volume_* integration tests after lib.sh and azurite.sh.

# mkimage FILE: a 1 GiB sparse volume like nutgen's encfs.img: a dense
# header, scattered 4 KiB blocks with zero gaps, an unaligned write, a
# larger region in the middle and one at the end (random data).
mkimage() {
	truncate -s 1G "$1"
	head -c 2097152 /dev/urandom | dd of="$1" conv=notrunc 2>/dev/null
	for i in 1 2 3 4 5 6 7 8; do
		head -c 4096 /dev/urandom | dd of="$1" bs=4096 seek=$((1024 + i * 17)) conv=notrunc 2>/dev/null
	done
	head -c 1000 /dev/urandom | dd of="$1" bs=1 seek=12345678 conv=notrunc 2>/dev/null
	head -c "${MKIMAGE_MID:-6291456}" /dev/urandom | dd of="$1" bs=1048576 seek=300 conv=notrunc 2>/dev/null
	head -c 1048576 /dev/urandom | dd of="$1" bs=1048576 seek=1023 conv=notrunc 2>/dev/null
}

# nonzero_bytes FILE: bytes in non-zero 512-byte pages, computed by the
# blob oracle's reader (tests/azblob.py), not by nutapply.
nonzero_bytes() {
	python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import azblob
print(512 * sum(1 for _ in azblob.nonzero_pages(open(sys.argv[2], "rb"))))' "$NG_SRCDIR/tests" "$1"
}

# json_get FILE KEY
json_get() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# start_proxy NAME ARGS...: faultproxy in front of Azurite; sets PROXY_URL.
start_proxy() {
	name=$1
	shift
	rm -f "$T/$name.port"
	python3 "$NG_SRCDIR/tests/faultproxy.py" --cert "$T/az/server.pem" --key "$T/az/server.key" \
		--upstream "127.0.0.1:$AZ_PORT" --upstream-ca "$AZ_CA" --port-file "$T/$name.port" \
		--log "$T/$name.log" "$@" &
	AZ_EXTRA_PIDS="${AZ_EXTRA_PIDS:-} $!"
	i=0
	while [ ! -f "$T/$name.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -f "$T/$name.port" ] || fail "faultproxy did not start"
	PROXY_URL=https://127.0.0.1:$(cat "$T/$name.port")/devstoreaccount1
}
