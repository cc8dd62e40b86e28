# An upload killed with SIGKILL midway resumes: the rerun says "resumed",
# does not resend what is there, clears a stray page written meanwhile, and
# the blob equals the image.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/azurite.sh"
. "$NG_SRCDIR/tests/volume_lib.sh"
azurite_start
az_oracle mkcontainer vol
MKIMAGE_MID=33554432 mkimage "$T/img"
# slow Put Page replies (0.5 s each) so the kill lands midway
start_proxy slow --match comp=page --fault slow:1:0.5
B=vol/encfs.img
"$NUTAPPLY" volume upload -q --parallel 2 --ca-file "$AZ_CA" --image "$T/img" --bundle-id b1 \
	--volume-id v1 "$PROXY_URL/$B" >"$T/killed.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 200 ]; do
	n=$(az_oracle ranges $B 2>/dev/null | wc -l || true)
	[ "${n:-0}" -ge 2 ] && break
	sleep 0.1
	i=$((i + 1))
done
kill -9 $pid
wait $pid 2>/dev/null || true
[ "${n:-0}" -ge 2 ] || fail "upload never started: $(cat "$T/killed.out")"
az_oracle meta $B | grep -qx 'nutapply_state=uploading' || fail "killed upload not marked uploading: $(az_oracle meta $B)"
"$NUTAPPLY" volume status --json --ca-file "$AZ_CA" "$AZ_URL/$B" >"$T/st.json"
[ "$(json_get "$T/st.json" state)" = uploading ] || fail "status: $(cat "$T/st.json")"

# a stray page outside the image (stale data) must be cleared, not kept
az_oracle putpage $B 943718400
expect_exit 0 "$NUTAPPLY" volume upload -q --json --ca-file "$AZ_CA" --image "$T/img" \
	--bundle-id b1 --volume-id v1 "$AZ_URL/$B"
[ "$(json_get "$T/out" action)" = resumed ] || fail "rerun: $(cat "$T/out")"
nz=$(json_get "$T/out" nonzero_bytes)
put=$(json_get "$T/out" put_bytes)
[ "$put" -lt "$nz" ] || fail "resume resent everything ($put of $nz)"
[ "$(json_get "$T/out" cleared_ranges)" -ge 1 ] || fail "stray page not cleared: $(cat "$T/out")"
az_oracle compare $B "$T/img" >/dev/null || fail "resumed blob differs from the image"
az_oracle meta $B | grep -qx 'nutapply_state=complete' || fail "not complete after resume"
echo "ok: resumed, sent $put of $nz bytes"
