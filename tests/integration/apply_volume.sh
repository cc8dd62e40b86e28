# nutapply apply's volume step as real Azurite sees it (its debug log has
# every request's headers): the blob is created with If-None-Match: * and
# state "uploading" naming the bundle (SHA-256 of MANIFEST.json) and the
# volume (SHA-256 of encfs.img); every Put Page is 512-aligned, at most
# 4 MiB, its Content-Length the range's and its Content-MD5 the MD5 of the
# image there (computed here from the file); the bytes sent are the non-zero
# data (+ < 10% of bridged zero gaps); "complete" comes last; the blob read
# back (tests/azblob.py) equals the image. An "uploading" blob of this
# volume is resumed sending only what it lacks; a blob not made by nutapply
# is refused untouched; Retry-After is honoured; a dead blob service stops
# the run with one line before the key or the deployment. Under
# --replace-volume every write carries the lease (and another writer is
# refused meanwhile); a Put Page altered on the way is caught by the
# read-back and sent again, or the run fails and never marks it complete. What
# apply_safety.sh checks (foreign volume, --replace-volume, SIGKILL, faults)
# is not repeated here.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/apply_lib.sh"
AZ_DEBUG=1
apply_setup
A() { c=$1; shift; expect_exit "$c" "$NUTAPPLY" "$@" --trust s.pub --ca-file "$T/cas.pem"; }
# requests BLOB: one JSON line per request Azurite logged for vol/BLOB
requests() {
	python3 - "$T/az/debug.log" "$1" <<'PY'
import json, re, sys
for l in open(sys.argv[1]):
    m = re.search(r"RequestMethod=(\w+) RequestURL=\S*/devstoreaccount1/vol/([^?\s]+)(\?\S*)? RequestHeaders:(\{.*?\}) ClientIP", l)
    if m and m.group(2) == sys.argv[2]:
        print(json.dumps({"method": m.group(1), "query": (m.group(3) or "")[1:], "h": json.loads(m.group(4))}))
PY
}

# 1. plan, then apply a 64 MiB volume with an unaligned byte and 8 MiB of
#    data in the middle (cut into 4 MiB pieces).
mkdir v && MKVOLUME_MID=8388608 mkvolume v/encfs.img 64
printf 'x' | dd of=v/encfs.img bs=1 seek=5000000 conv=notrunc 2>/dev/null
mkbundle v v.tgz "$AZ_URL/vol/v.img" mintv
A 3 plan v.tgz
grep -q "absent: would be created" out || fail "plan: $(cat out)"
A 0 apply v.tgz --json -q --parallel 4
sent=$(python3 -c 'import json,re,sys; s={x["step"]: x["result"] for x in json.load(open(sys.argv[1]))["steps"]}; print(re.search(r"(\d+) bytes of page data sent", s["volume"]).group(1))' out) ||
	fail "receipt: $(cat out)"
nz=$(nonzero_bytes v/encfs.img)
tar -xzf v.tgz MANIFEST.json
requests v.img >v.req
python3 - v.req v/encfs.img "$(sha256sum <MANIFEST.json | cut -c1-64)" "$(sha256sum <v/encfs.img | cut -c1-64)" "$nz" "$sent" <<'PY' || fail "requests Azurite saw for v.img are wrong"
import base64, hashlib, json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
img = open(sys.argv[2], "rb").read()
bid, vid, nz, sent = sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
writes = [r for r in reqs if r["method"] == "PUT"]
first, last = writes[0]["h"], writes[-1]
assert writes[0]["query"] == "" and first["if-none-match"] == "*", first
assert first["x-ms-blob-content-length"] == str(len(img)), first
assert (first["x-ms-meta-nutapply_state"], first["x-ms-meta-nutapply_bundle"], first["x-ms-meta-nutapply_volume"]) == ("uploading", bid, vid), first
assert last["query"] == "comp=metadata" and last["h"]["x-ms-meta-nutapply_state"] == "complete", last
assert (last["h"]["x-ms-meta-nutapply_bundle"], last["h"]["x-ms-meta-nutapply_volume"]) == (bid, vid)
pages = [r["h"] for r in writes[1:-1]]
assert pages and all(r["query"] == "comp=page" for r in writes[1:-1])
total, seen = 0, []
for h in pages:
    s, e = map(int, h["x-ms-range"][len("bytes="):].split("-"))
    n = e + 1 - s
    assert h["x-ms-page-write"] == "update" and s % 512 == 0 and n % 512 == 0 and 0 < n <= 4 << 20, h
    assert int(h["content-length"]) == n, h
    assert h["content-md5"] == base64.b64encode(hashlib.md5(img[s:e + 1]).digest()).decode(), h
    assert img[s:s + 512] != bytes(512) and img[e - 511:e + 1] != bytes(512), ("range ends on a zero page", h)
    seen.append((s, e))
    total += n
seen.sort()
assert all(a[1] < b[0] for a, b in zip(seen, seen[1:])), "ranges overlap"
assert max(e + 1 - s for s, e in seen) == 4 << 20, "the 8 MiB region was not cut at 4 MiB"
assert total == sent and nz <= total <= nz * 1.1, (total, sent, nz)
PY
az_oracle compare vol/v.img v/encfs.img >/dev/null || fail "blob differs from the image"
az_oracle meta vol/v.img >meta
grep -qx nutapply_state=complete meta || fail "metadata: $(cat meta)"
A 0 plan v.tgz
grep -q "present, this volume: unchanged" out || fail "plan after apply: $(cat out)"

# 2. Resume: an "uploading" blob of this volume holding the first 32 MiB
#    (written by the oracle, 4 MiB aligned). Only the rest is sent.
cp v/encfs.img half
dd if=/dev/zero of=half bs=4194304 seek=8 count=8 conv=notrunc 2>/dev/null
az_oracle put vol/r.img half nutapply_state=uploading nutapply_volume="$(sha256sum <v/encfs.img | cut -c1-64)" \
	nutapply_bundle=earlier
mkbundle v r.tgz "$AZ_URL/vol/r.img" mintr
A 3 plan r.tgz
grep -q "uploading): upload would resume" out || fail "plan of an uploading blob: $(cat out)"
A 0 apply r.tgz
grep -q "^volume *resumed and completed, \([0-9]*\) bytes" out || fail "did not resume: $(cat out)"
rsent=$(sed -n 's/^volume *resumed and completed, \([0-9]*\) bytes.*/\1/p' out)
want=$(python3 - v/encfs.img half <<'PY'
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
print(sum(512 for i in range(0, len(a), 512) if a[i:i + 512] != b[i:i + 512]))
PY
)
[ "$rsent" -ge "$want" ] && [ "$rsent" -le $((want + want / 10)) ] || fail "resume sent $rsent bytes for $want missing"
requests r.img | grep -c '"comp=page"' >/dev/null || fail "no Put Page on resume"
az_oracle compare vol/r.img v/encfs.img >/dev/null || fail "resumed blob differs from the image"
az_oracle meta vol/r.img | grep -qx nutapply_state=complete || fail "resumed blob not complete"

# 3. A blob with no nutapply metadata: refused, one line, untouched.
head -c 1048576 /dev/urandom >plain
az_oracle put vol/plain.img plain
before=$(az_oracle sha256 vol/plain.img)
mkbundle v p.tgz "$AZ_URL/vol/plain.img" mintp
A 1 apply p.tgz
expect_err "not made by nutapply"
[ "$(wc -l <err)" -eq 1 ] || fail "refusal is not one line: $(cat err)"
[ "$(az_oracle sha256 vol/plain.img)" = "$before" ] || fail "a blob not made by nutapply was modified"

# 4. Retry-After: 1 on a Put Page is honoured (faultproxy.py in front).
start_proxy ra --match comp=page --fault 429:2:1 --limit 1
mkbundle v ra.tgz "$PROXY_URL/vol/ra.img" mintra
NUTAPPLY_HTTP_DEBUG=1 A 0 apply ra.tgz
grep -q -- "-> 429 429" ra.log || fail "no 429 injected: $(cat ra.log)"
grep -q "http: retry in 1.000s (Retry-After)" err || fail "Retry-After: 1 not honoured"
! grep -q -e "$AZ_KEY" -e "SharedKey " err || fail "debug log leaks a credential"
az_oracle compare vol/ra.img v/encfs.img >/dev/null || fail "blob differs after a 429"

# 5. A blob service that only fails: one line with the request id, no
#    blob, and neither the key nor the deployment is touched.
start_proxy dead --fault 503:1
mkbundle v d.tgz "$PROXY_URL/vol/dead.img" mintd
ndep=$(fakeazure_q 'len(s["arm"]["deployments"])')
A 1 apply d.tgz -q
[ "$(wc -l <err)" -eq 1 ] || fail "not one line: $(cat err)"
expect_err "503 ServerBusy"
expect_err "request id faultproxy-"
az_oracle meta vol/dead.img >/dev/null 2>&1 && fail "a blob was created through a dead service"
[ "$(fakeazure_q '"mintd" in s["vault"]["keys"]')" = False ] || fail "key imported after the volume failed"
[ "$(fakeazure_q 'len(s["arm"]["deployments"])')" = "$ndep" ] || fail "deployed after the volume failed"
# 6. --replace-volume (§8.2): the lease taken before the snapshot is on
#    every later write (replace, Put Page, metadata) and released
#    last; while held (a Put Page reply slowed 3 s), a writer without it is
#    refused.
az_oracle put vol/l.img plain nutapply_volume=someone nutapply_state=complete
start_proxy lease --match comp=page --fault slow:1:3 --limit 1
mkbundle v l.tgz "$PROXY_URL/vol/l.img" mintl
"$NUTAPPLY" apply l.tgz --replace-volume --trust s.pub --ca-file cas.pem -q >l.out 2>&1 &
pid=$!
i=0
while ! grep -q "RequestURL=[^ ]*/vol/l.img?comp=page .*\"user-agent\":\"nutapply" "$T/az/debug.log" && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
az_oracle putpage vol/l.img 0 2>l.put && fail "a writer without the lease was let in after $i polls"
grep -q "put page: 412" l.put || fail "other writer: $(cat l.put)"
wait $pid || fail "replace under lease: $(cat l.out)"
requests l.img >l.req
python3 - l.req <<'PY' || fail "lease not carried: see l.req"
import json, sys
reqs = [r for r in map(json.loads, open(sys.argv[1])) if r["h"].get("user-agent", "").startswith("nutapply")]
i = next(i for i, r in enumerate(reqs) if r["h"].get("x-ms-lease-action") == "acquire")
lid, after = reqs[i]["h"]["x-ms-proposed-lease-id"], reqs[i + 1:]
assert [r["query"].split("&")[0] for r in after[:2]] == ["comp=snapshot", ""], after[:2]
bad = [(r["method"], r["query"]) for r in after if r["method"] == "PUT" and r["h"].get("x-ms-lease-id") != lid]
assert not bad, ("writes without the lease", bad)
gets = [k for k, r in enumerate(after) if r["method"] == "GET" and "x-ms-range" in r["h"]]
puts = [k for k, r in enumerate(after) if r["query"] == "comp=page"]
assert puts and gets and max(puts) < min(gets) < max(gets) < len(after) - 2, "no read-back after the pages"
assert after[-2]["h"]["x-ms-meta-nutapply_state"] == "complete", after[-2]
assert after[-1]["h"]["x-ms-lease-action"] == "release", after[-1]
PY
az_oracle compare vol/l.img v/encfs.img >/dev/null || fail "replaced blob differs"

# 7. §8.4: a Put Page body altered on the way (faultproxy flips a byte;
#    Azurite 3.35 does not check Content-MD5) is caught by the read-back and
#    sent again; altered every time, one line and never "complete".
start_proxy cor --match comp=page --fault corrupt:2 --limit 1
mkbundle v c.tgz "$PROXY_URL/vol/c.img" mintc
A 0 apply c.tgz
grep -q -- "-> corrupt 201" cor.log || fail "no Put Page altered: $(cat cor.log)"
[ "$(requests c.img | grep '"comp=page"' | sed 's/.*"x-ms-range": "\([^"]*\)".*/\1/' | sort | uniq -d)" ] ||
	fail "the altered range was not sent again"
az_oracle compare vol/c.img v/encfs.img >/dev/null || fail "blob differs after a re-send"
az_oracle meta vol/c.img | grep -qx nutapply_state=complete || fail "re-sent blob not complete"
start_proxy cor2 --match comp=page --fault corrupt:1
mkbundle v c2.tgz "$PROXY_URL/vol/c2.img" mintc2
A 1 apply c2.tgz -q
[ "$(wc -l <err)" -eq 1 ] || fail "not one line: $(cat err)"
expect_err "read back differ from the image after sending them again: not marking"
az_oracle meta vol/c2.img | grep -qx nutapply_state=uploading || fail "a corrupt blob marked complete"
echo "ok: $nz non-zero bytes, $sent sent; resumed with $rsent of $want missing"
