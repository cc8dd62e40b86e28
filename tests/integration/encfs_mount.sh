# The strongest check of the decrypted plaintext: the kernel's own ext4 mounts
# it through a loop device, a SQLite database is written and fsynced, and the
# file system is clean again after unmount. Needs root and loop devices.
. "$NG_SRCDIR/tests/lib.sh"
PY=$(find_python_crypto) || skip "no python3 with the cryptography package"
export PATH="$PATH:/usr/sbin:/sbin"
[ "$(id -u)" -eq 0 ] || skip "mount test needs root (loop devices); run make test as root to include it"
command -v losetup >/dev/null && command -v cryptsetup >/dev/null || skip "losetup/cryptsetup missing"
grep -qw ext4 /proc/filesystems || modprobe ext4 2>/dev/null || skip "kernel has no ext4"
ORACLE="$NG_SRCDIR/tests/oracles/encfs_oracle.py"

head -c 32 /dev/urandom >"$T/k"
expect_exit 0 "$NUTGEN" encfs create --key-file "$T/k" --out "$T/e.img" --size 64MiB --owner 1000:1000
cryptsetup luksDump --dump-volume-key --volume-key-file "$T/vk" --key-file "$T/k" --batch-mode \
	"$T/e.img" >/dev/null || fail "dump volume key"
"$PY" "$ORACLE" decrypt "$T/e.img" "$T/vk" 16777216 "$T/plain.img" "$T/holes" >/dev/null
loop=$(losetup -f --show "$T/plain.img" 2>/dev/null) || skip "no loop device available here"
mkdir "$T/mnt"
cleanup() { umount "$T/mnt" 2>/dev/null; losetup -d "$loop" 2>/dev/null; }
trap cleanup EXIT
mount -t ext4 "$loop" "$T/mnt" 2>"$T/mnterr" || { cat "$T/mnterr"; skip "mount refused here (container without mount rights?)"; }
[ -f "$T/mnt/.persist-sentinel" ] || fail "marker missing in the mounted file system"
[ "$(stat -c %u:%g "$T/mnt")" = 1000:1000 ] || fail "root dir owner $(stat -c %u:%g "$T/mnt")"
"$PY" - "$T/mnt" <<'PYEOF' || fail "writing through the kernel's ext4"
import os, sqlite3, sys
d = sys.argv[1]
db = sqlite3.connect(os.path.join(d, "mint.sqlite3"))
db.execute("PRAGMA journal_mode=WAL")
db.execute("create table proofs (id integer primary key, secret blob)")
for i in range(2000):
    db.execute("insert into proofs (secret) values (?)", (os.urandom(64),))
db.commit()
db.close()
with open(os.path.join(d, "big.bin"), "wb") as f:
    f.write(os.urandom(8 << 20))
    f.flush()
    os.fsync(f.fileno())
db = sqlite3.connect(os.path.join(d, "mint.sqlite3"))
assert db.execute("select count(*) from proofs").fetchone()[0] == 2000
assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
db.close()
PYEOF
sync
umount "$T/mnt"
losetup -d "$loop"
trap - EXIT
e2fsck -fn "$T/plain.img" >"$T/fsck" 2>&1 || { cat "$T/fsck"; fail "e2fsck after kernel writes"; }
echo "kernel ext4 mounted, wrote SQLite + 8 MiB, clean after unmount"
