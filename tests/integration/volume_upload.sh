# nutapply volume upload against real Azurite (HTTPS, test CA): a 1 GiB
# sparse image is read back equal in every byte by an independent client;
# only non-zero pages are sent; a second run sends nothing and says so; a
# blob of another volume is never touched without --replace-volume, and with
# it a snapshot exists first.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/azurite.sh"
. "$NG_SRCDIR/tests/volume_lib.sh"
azurite_start
az_oracle mkcontainer vol
mkimage "$T/img"
img_sha=$(sha256sum "$T/img" | cut -d' ' -f1)
nz=$(nonzero_bytes "$T/img")
B=$AZ_URL/vol/encfs.img
up() { "$NUTAPPLY" volume upload -q --ca-file "$AZ_CA" "$@"; }

# 1. fresh upload: every byte equal, only non-zero data sent, marked complete
expect_exit 0 up --json --image "$T/img" --bundle-id b1 --volume-id v1 "$B"
cp "$T/out" "$T/r1.json"
[ "$(json_get "$T/r1.json" action)" = created ] || fail "first upload: $(cat "$T/r1.json")"
[ "$(json_get "$T/r1.json" nonzero_bytes)" = "$nz" ] || fail "non-zero bytes $(json_get "$T/r1.json" nonzero_bytes), python says $nz"
put=$(json_get "$T/r1.json" put_bytes)
[ "$put" -ge "$nz" ] && [ "$put" -le $((nz + nz / 10)) ] || fail "sent $put bytes of page data for $nz non-zero"
got=$(az_oracle sha256 vol/encfs.img | cut -d' ' -f1)
[ "$got" = "$img_sha" ] || fail "blob read back differs: $got != $img_sha"
az_oracle meta vol/encfs.img >"$T/meta"
grep -qx 'nutapply_state=complete' "$T/meta" || fail "metadata: $(cat "$T/meta")"
grep -qx 'nutapply_volume=v1' "$T/meta" || fail "metadata: $(cat "$T/meta")"
grep -qx 'nutapply_bundle=b1' "$T/meta" || fail "metadata: $(cat "$T/meta")"
# no written page outside the image's non-zero pages (+ small merged gaps)
written=$(az_oracle ranges vol/encfs.img | awk '{ s += $2 - $1 + 1 } END { print s + 0 }')
[ "$written" -eq "$put" ] || fail "blob has $written bytes written, $put sent"

# 2. again: nothing sent, and it says so; the debug log shows no write and no secret
NUTAPPLY_HTTP_DEBUG=1 expect_exit 0 up --image "$T/img" --bundle-id b1 --volume-id v1 "$B"
grep -q "unchanged" "$T/out" || fail "second run does not say unchanged: $(cat "$T/out")"
! grep -q "http: > PUT" "$T/err" || fail "second run wrote: $(grep 'http: > PUT' "$T/err")"
grep -q "http: > HEAD" "$T/err" || fail "debug log missing"
! grep -q -e "$AZ_KEY" -e "SharedKey" "$T/err" || fail "debug log leaks a credential"

# 3. a blob holding another volume is refused and left as it was
head -c 1048576 /dev/urandom >"$T/other"
az_oracle put vol/other.img "$T/other" nutapply_volume=someone nutapply_state=complete
before=$(az_oracle sha256 vol/other.img)
expect_exit 1 up --image "$T/img" --bundle-id b1 --volume-id v1 "$AZ_URL/vol/other.img"
expect_err "replace-volume"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "refusal is not one line: $(cat "$T/err")"
[ "$(az_oracle sha256 vol/other.img)" = "$before" ] || fail "foreign blob was modified"
[ -z "$(az_oracle snapshots vol)" ] || fail "snapshot taken without --replace-volume"
# a blob with no nutapply metadata at all is refused too
az_oracle put vol/plain.img "$T/other"
expect_exit 1 up --image "$T/img" --bundle-id b1 --volume-id v1 "$AZ_URL/vol/plain.img"
expect_err "not made by nutapply"

# 4. --replace-volume: snapshot first, then the image
expect_exit 0 up --json --replace-volume --image "$T/img" --bundle-id b1 --volume-id v1 "$AZ_URL/vol/other.img"
snap=$(json_get "$T/out" snapshot)
[ "$(json_get "$T/out" action)" = replaced ] && [ -n "$snap" ] || fail "replace: $(cat "$T/out")"
az_oracle snapshots vol | grep -q "^other.img $snap" || fail "no snapshot $snap: $(az_oracle snapshots vol)"
az_oracle compare vol/other.img "$T/img" >/dev/null || fail "replaced blob differs"
az_oracle meta vol/other.img | grep -qx 'nutapply_volume=v1' || fail "replaced blob metadata"

# 5. bad input: one line, no request
expect_exit 1 up --image /nonexistent --bundle-id b1 --volume-id v1 "$B"
expect_err "/nonexistent"
truncate -s 1000 "$T/odd"
expect_exit 1 up --image "$T/odd" --bundle-id b1 --volume-id v1 "$B"
expect_err "multiple of 512"
expect_exit 2 up --image "$T/img" --bundle-id b1 --volume-id v1 "$B?sig=x"
expect_exit 1 up --image "$T/img" --bundle-id 'b 1' --volume-id v1 "$B"
expect_err "bundle/volume id"
# TLS is verified: without the test CA the upload stops
expect_exit 1 "$NUTAPPLY" volume status -q "$B"
expect_err "ca-file"
echo "ok: 1 GiB image, $nz non-zero bytes, $put sent"
