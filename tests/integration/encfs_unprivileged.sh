# nutgen makes and checks the image as an ordinary user with /usr/sbin off
# PATH: no root, no device-mapper, no /run/cryptsetup. When the tests run as
# root, drop to nobody for this; otherwise every encfs test already proves it.
. "$NG_SRCDIR/tests/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "already unprivileged: the other encfs tests cover this"
command -v setpriv >/dev/null || skip "setpriv (util-linux) missing: cannot drop root"
# $T is root's 0700 directory: nobody needs its own.
d=$(mktemp -d "${TMPDIR:-/tmp}/nutgen-nobody.XXXXXX")
trap 'rm -rf "$d"' EXIT
chmod 0777 "$d"
head -c 32 /dev/urandom >"$d/k"
chmod 0644 "$d/k"
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env -i TMPDIR="$d" PATH=/usr/bin:/bin HOME="$d" "$@"
}
as_nobody "$NUTGEN" encfs create --key-file "$d/k" --out "$d/e.img" --size 64MiB >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "encfs create as nobody"; }
[ "$(stat -c %U "$d/e.img")" = nobody ] || fail "image not made by nobody"
as_nobody "$NUTGEN" encfs check "$d/e.img" --key-file "$d/k" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "encfs check as nobody"; }
grep -q "e2fsck clean" "$T/out" || fail "check output: $(cat "$T/out")"
[ -z "$(find "$d" -name 'nutgen-encfs*')" ] || fail "scratch directories left in TMPDIR"
echo "created and checked as nobody"
