# Faults between nutapply and Azurite (tests/faultproxy.py): 429 with
# Retry-After, 503, 500, connection resets mid-upload, truncated and slow
# replies. The upload still completes and the blob equals the image; with a
# service that only fails, it stops within its budget with one line naming
# the request ids, and no credential is ever printed.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/azurite.sh"
. "$NG_SRCDIR/tests/volume_lib.sh"
azurite_start
az_oracle mkcontainer vol
MKIMAGE_MID=16777216 mkimage "$T/img"
export NUTAPPLY_HTTP_BACKOFF_BASE=0.05
start_proxy f --fault 429:3:1 --fault 503:5 --fault reset:7 --fault truncate:11 \
	--fault 500:13 --fault slow:4:0.3
NUTAPPLY_HTTP_DEBUG=1 expect_exit 0 "$NUTAPPLY" volume upload --json --ca-file "$AZ_CA" \
	--image "$T/img" --bundle-id b1 --volume-id v1 "$PROXY_URL/vol/encfs.img"
[ "$(json_get "$T/out" action)" = created ] || fail "upload: $(cat "$T/out")"
for k in "429 429" "503 503" "reset" "truncate" "500 500" "slow"; do
	grep -q -- "-> $k" "$T/f.log" || fail "fault '$k' never injected: $(cat "$T/f.log")"
done
az_oracle compare vol/encfs.img "$T/img" >/dev/null || fail "blob differs after faults"
! grep -q -e "$AZ_KEY" -e "SharedKey " "$T/err" || fail "debug log leaks a credential"
# Retry-After: 1 was honoured: the retry after a 429 came >= 1 s later
grep -q "http: < 429" "$T/err" || fail "no 429 seen by the client"
grep -q "http: retry in 1.000s (Retry-After)" "$T/err" || fail "Retry-After: 1 not honoured"

# every request fails: stops within the budget, one line, request ids
start_proxy dead --fault 503:1
s=$(date +%s)
expect_exit 1 "$NUTAPPLY" volume upload -q --budget 3 --ca-file "$AZ_CA" --image "$T/img" \
	--bundle-id b1 --volume-id v2 "$PROXY_URL/vol/other.img"
e=$(date +%s)
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "not one line: $(cat "$T/err")"
expect_err "503 ServerBusy"
expect_err "request id faultproxy-"
[ $((e - s)) -lt 20 ] || fail "took $((e - s)) s with a 3 s budget"
az_oracle meta vol/other.img >/dev/null 2>&1 && fail "a blob was created through a dead service"
echo "ok: faults survived; dead service stopped in $((e - s)) s"
