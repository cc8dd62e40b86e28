# nutgen image inspect on images built from scratch by tests/oci/mkoci.py:
# OCI layouts, oci-archive tars (plain, gzip), docker-save archives,
# multi-platform indexes, gzip/zstd/plain layers; digests compared with those
# the generator computed with hashlib; every broken variant rejected with one
# line naming the offending digest and nothing on stdout; the layer cache.
. "$NG_SRCDIR/tests/lib.sh"

command -v python3 >/dev/null || skip "python3 is needed to build test images"
python3 "$NG_SRCDIR/tests/oci/mkoci.py" "$T/img" "$NG_SRCDIR/tests/data/vectors" ||
	fail "mkoci.py failed"
export XDG_CACHE_HOME="$T/cache"
I="$T/img"

# check CASE FILE: the facts in FILE match what the generator recorded.
check() {
	python3 - "$I/expect.json" "$1" "$2" <<'PY' || fail "facts of $1 differ from the generator's"
import json, sys
exp = json.load(open(sys.argv[1]))[sys.argv[2]]
f = json.load(open(sys.argv[3]))
assert set(["image", "config", "layer_roothashes"]) <= set(f), f.keys()
assert set(f["config"]) == {"Env", "Entrypoint", "Cmd", "WorkingDir", "User", "StopSignal"}
if "manifest_digest" in exp:
    assert f["manifest_digest"] == exp["manifest_digest"], (f["manifest_digest"], exp)
    assert f["manifest_verified"] is True
assert f["config_digest"] == exp["config_digest"]
assert [l["diff_id"] for l in f["layers"]] == exp["diff_ids"]
assert [l["digest"] for l in f["layers"]] == exp["digests"]
if "media_types" in exp:
    assert [l["media_type"] for l in f["layers"]] == exp["media_types"]
    assert [l["size"] for l in f["layers"]] == exp["sizes"]
assert f["layer_roothashes"] == [l["root_hash"] for l in f["layers"]]
for r in f["layer_roothashes"]:
    assert len(r) == 64 and all(c in "0123456789abcdef" for c in r)
if "roots" in exp:  # golden roots from hcsshim tar2ext4 (tests/data/vectors)
    assert f["layer_roothashes"] == exp["roots"], (f["layer_roothashes"], exp["roots"])
if f["image"] is not None:
    assert f["image"].endswith("@" + f["manifest_digest"]), f["image"]
PY
}

for c in layout archive.tar archive.tar.gz multi tagonly; do
	expect_exit 0 "$NUTGEN" image inspect -q --no-cache "$I/$c"
	cp "$T/out" "$T/$c.json"
	check "$c" "$T/$c.json"
done
grep -q '"image": "example.azurecr.io/nut/mint@sha256:' "$T/layout.json" || fail "layout: reference"
grep -q '"platform": "linux/amd64"' "$T/layout.json" || fail "layout: platform"
grep -q '"WorkingDir": "/app"' "$T/layout.json" || fail "layout: WorkingDir"
grep -q '"image": "docker.io/library/multi@sha256:' "$T/multi.json" || fail "multi: reference"
# A ref.name that is only a tag names no repository: image is null and a
# warning says how to name it; --reference supplies it.
grep -q '"image": null' "$T/tagonly.json" || fail "tag-only ref.name should give image null"
grep -q 'pass --reference' "$T/tagonly.json" || fail "tag-only: no warning"
expect_exit 0 "$NUTGEN" image inspect -q --reference myreg.azurecr.io/app/x:1.0 "$I/tagonly"
grep -q '"image": "myreg.azurecr.io/app/x@sha256:' "$T/out" || fail "--reference not used"
expect_exit 1 "$NUTGEN" image inspect -q --reference "myreg.azurecr.io/app/x@sha256:$(printf '%064d' 7)" "$I/tagonly"
expect_err "sha256:0000000000000000000000000000000000000000000000000000000000000007"
# The same image from a layout, its tar and its gzip'd tar: identical facts.
cmp -s "$T/layout.json" "$T/archive.tar.json" || fail "layout and oci-archive differ"
cmp -s "$T/layout.json" "$T/archive.tar.gz.json" || fail "layout and gzip oci-archive differ"
if command -v zstd >/dev/null; then
	zstd -q "$I/archive.tar" -o "$T/archive.tar.zst"
	expect_exit 0 "$NUTGEN" image inspect -q --no-cache "$T/archive.tar.zst"
	cmp -s "$T/layout.json" "$T/out" || fail "layout and zstd oci-archive differ"
fi
s=$(wc -c <"$I/archive.tar.gz")
head -c $((s - 4)) "$I/archive.tar.gz" >"$T/trunc.tar.gz"
expect_exit 1 "$NUTGEN" image inspect -q "$T/trunc.tar.gz"
expect_err "trunc.tar.gz: truncated gzip data"

expect_exit 0 "$NUTGEN" image inspect -q -j 2 --platform linux/arm64 "$I/multi"
check multi-arm64 "$T/out"
grep -q '"platform": "linux/arm64/v8"' "$T/out" || fail "multi arm64 platform"
expect_exit 1 "$NUTGEN" image inspect -q --platform linux/s390x "$I/multi"
expect_err "no image for linux/s390x"
expect_exit 2 "$NUTGEN" image inspect -q --platform bogus "$I/multi"

if [ -d "$I/zstd" ]; then
	expect_exit 0 "$NUTGEN" image inspect -q -j 2 "$I/zstd"
	check zstd "$T/out"
	grep -q 'tar+zstd' "$T/out" || fail "zstd media type"
fi

# Several images in one layout: --reference's tag picks by ref name.
expect_exit 1 "$NUTGEN" image inspect -q "$I/two"
expect_err "holds 2 images for linux/amd64"
expect_exit 0 "$NUTGEN" image inspect -q --reference example.com/app:1.0 "$I/two"
check two-1.0 "$T/out"
expect_exit 0 "$NUTGEN" image inspect -q --reference example.com/app:latest "$I/two"
check two-1.0 "$T/out"
expect_exit 0 "$NUTGEN" image inspect -q --reference example.com/app:2.0 "$I/two"
check two-2.0 "$T/out"
grep -q '"image": "example.com/app@sha256:' "$T/out" || fail "two: reference"

# Golden layer vectors inside an image: the roots the reference computes.
expect_exit 0 "$NUTGEN" image inspect -q -j 2 --no-cache "$I/vectors"
check vectors "$T/out"

# Each root equals what `nutgen layer-hash` prints for the same blob.
for c in layout zstd vectors; do
	[ -d "$I/$c" ] || continue
	expect_exit 0 "$NUTGEN" image inspect -q --no-cache "$I/$c"
	python3 -c 'import json,sys
for l in json.load(open(sys.argv[1]))["layers"]: print(l["root_hash"], l["digest"][7:])' "$T/out" |
		while read -r root hex; do
			got=$("$NUTGEN" layer-hash -q "$I/$c/blobs/sha256/$hex" | cut -d' ' -f1)
			[ "$got" = "$root" ] || fail "$c: layer $hex: inspect says $root, layer-hash $got"
		done
done

# docker save: needs the registry digest, says it is unverified.
expect_exit 2 "$NUTGEN" image inspect -q "$I/docker.tar"
expect_err "pass --digest"
D=sha256:$(printf '%064d' 42)
expect_exit 0 "$NUTGEN" image inspect -q --digest "$D" "$I/docker.tar"
check docker.tar "$T/out"
grep -q '"manifest_verified": false' "$T/out" || fail "docker-save must be unverified"
grep -q "could not be verified" "$T/out" || fail "docker-save warning missing"
grep -q "\"image\": \"registry.example/app@$D\"" "$T/out" || fail "docker-save reference"
expect_exit 1 "$NUTGEN" image inspect -q --digest "$D" "$I/layout"
expect_err "but --digest says $D"

# Broken inputs: exit 1, nothing on stdout, one line naming the digest.
eval "$(python3 -c 'import json,sys
e = json.load(open(sys.argv[1]))["layout"]
print("M=%s C=%s L0=%s L1=%s L2=%s" % ((e["manifest_digest"], e["config_digest"]) + tuple(e["digests"])))' "$I/expect.json")"
bad() { # bad CASE PATTERN...
	c=$1
	shift
	expect_exit 1 "$NUTGEN" image inspect -q --no-cache "$I/$c"
	[ ! -s "$T/out" ] || fail "$c: printed facts despite failing"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "$c: error is not one line: $(cat "$T/err")"
	for p in "$@"; do expect_err "$p"; done
}
bad bad/flip-layer "layer $L2" "corrupt or tampered"
bad bad/flip-config "config $C" "corrupt or tampered"
bad bad/flip-manifest "manifest $M" "corrupt or tampered"
bad bad/missing-layer "layer $L1" "is missing"
bad bad/symlink-layer "layer $L1" "symlink"
bad bad/fifo-layer "layer $L1" "not a regular file"
bad bad/symlink-blobs-dir "manifest $M" "symlink"
bad bad/extra-layer "lists 4 layers" "config $C has 3"
bad bad/wrong-diffid "layer $L0" "diff_id"
bad bad/wrong-mediatype "layer $L1" "gzip"
bad bad/wrong-size "layer $L0" "196"
bad bad/wrong-platform "is for linux/arm64"
bad bad/escape-digest "sha256:../../"
bad bad/dup-key-manifest "manifest sha256:" "appears twice"
bad bad/huge-config "config sha256:" "over the limit"
bad bad/malformed-index "index.json: malformed JSON"
bad bad/huge-index "index.json" "over the limit"
bad badtar/dotdot.tar "'../evil'"
bad badtar/absolute.tar "'/etc/evil'"
bad badtar/duplicate.tar "'index.json' appears twice"
bad badtar/device.tar "member 'dev'"
bad badtar/symlink-out.tar "layer $L0" "not a regular file inside the archive"
expect_exit 1 "$NUTGEN" image inspect -q --digest "$D" "$I/badtar/docker-dotdot.tar"
expect_err "leaves the archive"
expect_exit 1 "$NUTGEN" image inspect -q --digest "$D" "$I/badtar/docker-flip-config.tar"
expect_err "corrupt or tampered"
expect_exit 1 "$NUTGEN" image inspect -q "$I/no-such-dir"
expect_exit 2 "$NUTGEN" image inspect -q -j 0 "$I/layout"
expect_exit 2 "$NUTGEN" image frobnicate
expect_exit 0 "$NUTGEN" image inspect --help
grep -q "^Usage: nutgen image inspect" "$T/out" || fail "image inspect --help"

# Layer cache: first run fills it, the second reads it, a corrupt entry is
# recomputed (never trusted), --no-cache neither reads nor writes.
rm -rf "$XDG_CACHE_HOME"
expect_exit 0 "$NUTGEN" image inspect -q "$I/layout"
grep -q '"cached": true' "$T/out" && fail "cold cache reported a hit"
cp "$T/out" "$T/cold.json"
expect_exit 0 "$NUTGEN" image inspect -q "$I/layout"
[ "$(grep -c '"cached": true' "$T/out")" -eq 3 ] || fail "warm cache: not every layer cached"
strip() { grep -v '"cached"' "$1"; }
[ "$(strip "$T/out")" = "$(strip "$T/cold.json")" ] || fail "cached facts differ"
# A cached root never vouches for a blob: a flipped byte is still caught.
expect_exit 1 "$NUTGEN" image inspect -q "$I/bad/flip-layer"
expect_err "layer $L2 in .*corrupt or tampered"
n=0
for e in "$XDG_CACHE_HOME"/nutgen/layers/*; do
	n=$((n + 1))
	case $n in
	1) # a different, well-formed root under a now stale checksum
		python3 -c 'import sys; p = sys.argv[1]; s = open(p).read(); i = s.index("root ") + 5
open(p, "w").write(s[:i] + ("1" if s[i] == "0" else "0") + s[i + 1:])' "$e" ;;
	2) printf 'garbage' >"$e" ;;
	3) : ;;
	esac
done
expect_exit 0 "$NUTGEN" image inspect -q "$I/layout"
[ "$(grep -c '"cached": true' "$T/out")" -eq 1 ] || fail "corrupt cache entries were trusted"
[ "$(strip "$T/out")" = "$(strip "$T/cold.json")" ] || fail "facts changed after cache corruption"
rm -rf "$XDG_CACHE_HOME"
expect_exit 0 "$NUTGEN" image inspect -q --no-cache "$I/layout"
[ ! -d "$XDG_CACHE_HOME/nutgen/layers" ] || [ -z "$(ls "$XDG_CACHE_HOME/nutgen/layers")" ] ||
	fail "--no-cache wrote the cache"
exit 0
