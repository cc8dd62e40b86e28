# encfs.img against independent oracles: cryptsetup (header, every keyslot),
# python3-cryptography (decrypting the data segment as dm-crypt does, holes
# included), e2fsck/debugfs/dumpe2fs (the ext4 inside). sidecars.md §2.3-§2.5.
. "$NG_SRCDIR/tests/lib.sh"
command -v cryptsetup >/dev/null || skip "cryptsetup not installed (make deps)"
PY=$(find_python_crypto) || skip "no python3 with the cryptography package"
ORACLE="$NG_SRCDIR/tests/oracles/encfs_oracle.py"
export PATH="$PATH:/usr/sbin:/sbin"

# An RSA-HSM key whose two private-exponent forms differ, so the image must
# carry two keyslots (sidecars.md §8.1); made by the oracle, not by nutgen.
"$PY" "$ORACLE" rsa-keyfile "$T/rsa.key" --two-forms
n=$("$PY" "$ORACLE" passphrases "$T/rsa.key" "$T/pass")
[ "$n" = 2 ] || fail "oracle derived $n passphrases, expected 2"

mkdir -p "$T/src/sub"
echo "config" >"$T/src/conf.txt"
echo "nested" >"$T/src/sub/n.txt"
echo "single" >"$T/one.txt"
expect_exit 0 "$NUTGEN" encfs create --key-file "$T/rsa.key" --out "$T/e.img" --size 64MiB \
	--owner 1000:1001 --add "$T/src:data" --add "$T/one.txt:etc/one.txt" --quiet
[ "$(stat -c %s "$T/e.img")" = 67108864 ] || fail "image size $(stat -c %s "$T/e.img")"
ls "$T" | grep -q '\.tmp$' && fail "temporary file left behind"

# Header: §2.3 parameters, and every keyslot opens with the oracle's passphrases.
cryptsetup luksDump --dump-json-metadata "$T/e.img" >"$T/hdr.json" || fail "luksDump refused the image"
"$PY" "$ORACLE" luks-params "$T/hdr.json" || fail "LUKS2 parameters"
cryptsetup luksDump "$T/e.img" >"$T/dump.txt"
grep -q "Version:.*2" "$T/dump.txt" || fail "not LUKS2"
grep -q "sector: 4096" "$T/dump.txt" || fail "sector size"
for slot in 0 1; do
	cryptsetup open --test-passphrase --key-slot "$slot" --key-file "$T/pass.$slot" "$T/e.img" ||
		fail "keyslot $slot does not open with passphrase $slot"
done
cryptsetup open --test-passphrase --key-file "$T/one.txt" "$T/e.img" 2>/dev/null &&
	fail "a wrong passphrase opened the image"

# Data segment: decrypt with the volume key cryptsetup reports.
cryptsetup luksDump --dump-volume-key --volume-key-file "$T/vk.bin" --key-file "$T/pass.0" \
	--batch-mode "$T/e.img" >/dev/null || fail "luksDump --dump-volume-key"
"$PY" "$ORACLE" decrypt "$T/e.img" "$T/vk.bin" 16777216 "$T/plain.img" "$T/holes" ||
	fail "oracle decryption"
e2fsck -fn "$T/plain.img" >"$T/fsck.txt" 2>&1 || { cat "$T/fsck.txt"; fail "e2fsck -fn not clean"; }
dumpe2fs "$T/plain.img" >"$T/dumpe2fs.txt" 2>/dev/null || fail "dumpe2fs"
"$PY" "$ORACLE" check-holes "$T/holes" "$T/dumpe2fs.txt" || fail "a hole lies in a used block"
grep -q "^Block size: *4096" "$T/dumpe2fs.txt" || fail "block size"
grep -q "^Filesystem volume name: *nutshell-data" "$T/dumpe2fs.txt" || fail "label"
feat=$(grep "^Filesystem features:" "$T/dumpe2fs.txt")
for f in orphan_file metadata_csum_seed resize_inode; do
	echo "$feat" | grep -qw "$f" && fail "feature $f present: $feat"
done
for f in has_journal extent 64bit flex_bg metadata_csum; do
	echo "$feat" | grep -qw "$f" || fail "feature $f missing: $feat"
done
grep -q "^Inode count: *4096" "$T/dumpe2fs.txt" || fail "inode count"
grep -q "^Total journal size: *16M" "$T/dumpe2fs.txt" || fail "journal size"

# Content: marker and directories with the right owner (debugfs reads the
# decrypted plaintext).
stat_of() { debugfs -R "stat $1" "$T/plain.img" 2>/dev/null | grep -E "^(Inode|.*User:)"; }
stat_of / | grep -q "User:  1000   Group:  1001" || { stat_of /; fail "root directory owner"; }
stat_of /.persist-sentinel | grep -q "User:  1000   Group:  1001" || fail "marker missing or owner"
stat_of /data/sub/n.txt | grep -q "User:  1000   Group:  1001" || fail "added tree owner"
debugfs -R "cat /etc/one.txt" "$T/plain.img" 2>/dev/null | grep -q single || fail "added file content"
debugfs -R "cat /data/sub/n.txt" "$T/plain.img" 2>/dev/null | grep -q nested || fail "added tree content"
debugfs -R "stat /lost+found" "$T/plain.img" 2>/dev/null | grep -q "User:     0   Group:     0" ||
	fail "lost+found should stay root's"

# nutgen's own check agrees, and refuses another key.
expect_exit 0 "$NUTGEN" encfs check "$T/e.img" --key-file "$T/rsa.key"
grep -q "2 keyslot(s)" "$T/out" || fail "check: $(cat "$T/out")"
head -c 32 /dev/urandom >"$T/other.key"
expect_exit 1 "$NUTGEN" encfs check "$T/e.img" --key-file "$T/other.key"
expect_err "no keyslot opens"

# The checker catches what the kernel would trip on: an in-use block left as
# a hole (superblock), and a corrupted inode table.
itab=$(grep -m1 "Inode table at" "$T/dumpe2fs.txt" | sed 's/.*Inode table at \([0-9]*\).*/\1/')
cp --sparse=always "$T/e.img" "$T/bad.img"
fallocate -p -o $((16777216 + 4096 * itab)) -l 4096 "$T/bad.img"
expect_exit 1 "$NUTGEN" encfs check "$T/bad.img" --key-file "$T/rsa.key"
expect_err "block $itab is in use but a hole"
fallocate -p -o 16777216 -l 4096 "$T/bad.img"
expect_exit 1 "$NUTGEN" encfs check "$T/bad.img" --key-file "$T/rsa.key"
expect_err "reading the ext4 block bitmaps: Bad magic number"
cp --sparse=always "$T/e.img" "$T/bad2.img"
head -c 4096 /dev/urandom | dd of="$T/bad2.img" bs=4096 seek=$((4096 + itab)) conv=notrunc 2>/dev/null
expect_exit 1 "$NUTGEN" encfs check "$T/bad2.img" --key-file "$T/rsa.key"
expect_err "e2fsck -fn found problems"

# The image is never overwritten.
expect_exit 1 "$NUTGEN" encfs create --key-file "$T/rsa.key" --out "$T/e.img" --size 128MiB
expect_err "never overwritten"
[ "$(stat -c %s "$T/e.img")" = 67108864 ] || fail "existing image was touched"

# oct-HSM at the default 1 GiB: one keyslot, the raw key is the passphrase.
expect_exit 0 "$NUTGEN" key new --type oct-HSM --out "$T/oct.key"
[ "$(stat -c %a "$T/oct.key")" = 600 ] || fail "key file mode $(stat -c %a "$T/oct.key")"
"$PY" "$ORACLE" passphrases "$T/oct.key" "$T/octpass" >/dev/null
expect_exit 0 "$NUTGEN" encfs create --key-file "$T/oct.key" --out "$T/oct.img"
[ "$(stat -c %s "$T/oct.img")" = 1073741824 ] || fail "default size"
cryptsetup open --test-passphrase --key-file "$T/octpass.0" "$T/oct.img" || fail "oct keyslot"
alloc=$(($(stat -c %b "$T/oct.img") * $(stat -c %B "$T/oct.img")))
[ "$alloc" -lt $((24 * 1048576)) ] || fail "1 GiB image allocates $alloc bytes"
expect_exit 0 "$NUTGEN" encfs check "$T/oct.img" --key-file "$T/octpass.0"
echo "1 GiB image: $alloc bytes allocated"
exit 0
