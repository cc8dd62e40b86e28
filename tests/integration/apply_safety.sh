# nutapply apply's safety: a bundle that fails verification (untrusted
# signer, tampered, expired, below threshold) causes zero network requests
# (every endpoint points at a listener that counts connections); a blob of
# another volume is never modified without --replace-volume, and with it a
# snapshot exists first; SIGKILL during the upload, rerun: completes, blob
# correct; faults on every endpoint: completes, or stops with one clear line
# and nothing half-done in the vault or the group.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/apply_lib.sh"
apply_setup
A() { c=$1; shift; expect_exit "$c" "$NUTAPPLY" "$@" --trust s.pub --ca-file "$T/cas.pem"; }
"$NUTGEN" keygen -o s2.pem --no-passphrase >/dev/null 2>&1 || fail "keygen"

# 1. Zero network requests when verification fails. The listener counts
#    every TCP connection; every endpoint of the bundle names it.
"$FAKEAZURE_PY" - "$T/listen.port" "$T/listen.count" <<'PY' &
import socket, sys, os
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
n = 0
while True:
    c, _ = s.accept()
    n += 1
    open(sys.argv[2], "w").write(str(n))
    c.close()
PY
LPID=$!
trap 'kill $LPID 2>/dev/null || true; fakeazure_stop; azurite_stop' EXIT
i=0
while [ ! -f listen.port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
L=https://127.0.0.1:$(cat listen.port)
printf '{"name":"trap","authority":"%s","management":"%s","management_resource":"https://management.azure.com","storage_resource":"https://storage.azure.com","vault_resource":"https://vault.azure.net","vault_suffix":"vault.azure.net","blob_suffix":"blob.core.windows.net","attest_suffix":"attest.azure.net","imds":"http://127.0.0.1:%s"}' \
	"$L" "$L" "$(cat listen.port)" >trapcloud.json
mkdir z && mkvolume z/encfs.img 8
mkbundle z untrusted.tgz "$L/devstoreaccount1/vol/z.img" mintz s2.pem trapcloud.json \
	'f["key"]["vault"] = "'"$L"'"'
cp z/fields.json z/f0.json
mkbundle z expired.tgz "$L/devstoreaccount1/vol/z.img" mintz s.pem trapcloud.json \
	'f["key"]["vault"] = "'"$L"'"; f["expires"] = "2026-01-02T00:00:00Z"'
mkbundle z good.tgz "$L/devstoreaccount1/vol/z.img" mintz s.pem trapcloud.json \
	'f["key"]["vault"] = "'"$L"'"'
# tampered: one byte of the compressed stream flipped
cp good.tgz tampered.tgz
printf '\377' | dd of=tampered.tgz bs=1 seek=2000 conv=notrunc 2>/dev/null
A 1 apply untrusted.tgz
expect_err "trusted"
A 1 apply expired.tgz
expect_err "expired"
A 1 apply tampered.tgz
A 1 apply good.tgz --threshold 2
A 1 plan untrusted.tgz
A 1 status expired.tgz
[ ! -f listen.count ] || fail "a bundle that failed verification caused $(cat listen.count) connection(s)"
# Control: the verified bundle does reach the listener.
NUTAPPLY_HTTP_BACKOFF_BASE=0.01 timeout 10 "$NUTAPPLY" apply good.tgz --trust s.pub -q >/dev/null 2>&1 || true
[ "$(cat listen.count 2>/dev/null || echo 0)" -gt 0 ] || fail "control: the listener saw no connection"
kill $LPID 2>/dev/null || true

# 2. A blob of another volume: refused, untouched, nothing else done; with
#    --replace-volume a snapshot exists first, then the image.
head -c 1048576 /dev/urandom >other
az_oracle put vol/foreign.img other nutapply_volume=someone nutapply_state=complete
before=$(az_oracle sha256 vol/foreign.img)
mkdir f && mkvolume f/encfs.img 16
mkbundle f f.tgz "$AZ_URL/vol/foreign.img" mintf
A 1 apply f.tgz
expect_err "replace-volume"
[ "$(wc -l <err)" -eq 1 ] || fail "refusal is not one line: $(cat err)"
[ "$(az_oracle sha256 vol/foreign.img)" = "$before" ] || fail "foreign blob was modified"
[ -z "$(az_oracle snapshots vol)" ] || fail "snapshot taken without --replace-volume"
[ "$(fakeazure_q '"mintf" in s["vault"]["keys"]')" = False ] || fail "key imported after the volume refusal"
[ "$(fakeazure_q 'len(s["arm"]["deployments"])')" = 0 ] || fail "deployed after the volume refusal"
A 0 apply f.tgz --replace-volume
grep -q "replaced (snapshot " out || fail "replace: $(cat out)"
az_oracle snapshots vol | grep -q "^foreign.img " || fail "no snapshot: $(az_oracle snapshots vol)"
az_oracle compare vol/foreign.img f/encfs.img >/dev/null || fail "replaced blob differs"

# 3. SIGKILL during the upload (Put Page replies slowed by a proxy), rerun.
start_proxy slow --match comp=page --fault slow:1:1
mkdir k && MKVOLUME_MID=33554432 mkvolume k/encfs.img 64
mkbundle k k.tgz "$PROXY_URL/vol/kill.img" mintf
"$NUTAPPLY" apply k.tgz --trust s.pub --ca-file cas.pem -q >killed.out 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ]; do
	n=$(az_oracle ranges vol/kill.img 2>/dev/null | wc -l || true)
	[ "${n:-0}" -ge 1 ] && break
	sleep 0.1
	i=$((i + 1))
done
kill -9 $pid
wait $pid 2>/dev/null || true
[ "${n:-0}" -ge 1 ] || fail "upload never started: $(cat killed.out)"
az_oracle meta vol/kill.img >meta; grep -qx nutapply_state=uploading meta || fail "killed upload not marked uploading"
A 0 apply k.tgz
grep -q "^volume *resumed" out || fail "rerun did not resume: $(cat out)"
az_oracle compare vol/kill.img k/encfs.img >/dev/null || fail "blob differs after the resumed upload"

# 4. Faults on every endpoint: the blob (proxy), Entra, ARM, Key Vault.
start_proxy f --fault 429:3:1 --fault 503:5 --fault reset:7 --fault truncate:11
mkdir x && cp k/encfs.img x/ && printf 'package policy\n# x\n' >x/policy.rego
mkbundle x x.tgz "$PROXY_URL/vol/x.img" mintx
fakeazure_ctl POST /_fake/faults '[
 {"service":"entra","kind":"503","retry_after":0,"nth":1},
 {"service":"vault","method":"GET","kind":"429","retry_after":1},
 {"service":"vault","method":"PUT","kind":"reset"},
 {"service":"arm","method":"POST","path":"listKeys","kind":"expired"},
 {"service":"arm","method":"PUT","path":"deployments","kind":"429","retry_after":1},
 {"service":"arm","method":"GET","path":"operation","kind":"503","retry_after":0},
 {"service":"arm","method":"POST","path":"restart","kind":"slow","delay":1}]' >/dev/null
A 0 apply x.tgz
grep -q "^applied" out || fail "did not complete through faults: $(cat out)"
[ "$(fakeazure_q 'sum(1 for f in s["faults"] if f["fired"])')" -ge 6 ] || fail "faults did not fire: $(fakeazure_q 's["faults"]')"
for k in "429 429" "503 503" "reset"; do
	grep -q -- "-> $k" f.log || fail "blob fault '$k' never injected: $(cat f.log)"
done
az_oracle compare vol/x.img x/encfs.img >/dev/null || fail "blob differs after faults"
[ "$(fakeazure_q '"mintx" in s["vault"]["keys"]')" = True ] || fail "key not imported through faults"
fakeazure_ctl POST /_fake/faults '[]' >/dev/null

# 4b. A vault that refuses for good: one clear line; no key, no deployment.
mkdir y && cp k/encfs.img y/ && printf 'package policy\n# y\n' >y/policy.rego
mkbundle y y.tgz "$AZ_URL/vol/x.img" minty 
ndep=$(fakeazure_q 'len(s["arm"]["deployments"])')
fakeazure_ctl POST /_fake/faults '[{"service":"vault","method":"PUT","kind":"503","count":0,"retry_after":0}]' >/dev/null
A 1 apply y.tgz --replace-volume -q
[ "$(wc -l <err)" -eq 1 ] || fail "not one line: $(cat err)"
expect_err "HTTP 503"
[ "$(fakeazure_q '"minty" in s["vault"]["keys"]')" = False ] || fail "a half-made key"
[ "$(fakeazure_q 'len(s["arm"]["deployments"])')" = "$ndep" ] || fail "deployed after the key step failed"
fakeazure_ctl POST /_fake/faults '[]' >/dev/null
for f in out err killed.out; do
	grep -qF "$AZ_KEY" $f && fail "storage key in $f"
	grep -qF "$FAKEAZURE_CLIENT_SECRET" $f && fail "client secret in $f"
done
exit 0
