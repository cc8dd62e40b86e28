# nutapply deploy / group against the Azure stand-in: secure parameters
# filled at apply time (storage key through listKeys, registry password from
# the environment), async operations in every style honouring Retry-After,
# ARM's failed-operation message, restart of an existing group, waiting for
# every container, delete, and completion through injected faults.
. "$NG_SRCDIR/tests/lib.sh"
. "$NG_SRCDIR/tests/fakeazure.sh"
fakeazure_start --resource-group rg1 --storage-account rg1/acct1 --lro-polls 2 --retry-after 0
fakeazure_env "$T/cloud.json"
export NUTAPPLY_HTTP_BACKOFF_BASE=0.05 NUTAPPLY_ARM_POLL_S=0.1
D=$NG_SRCDIR/tests/data/fakeazure
common="--cloud-file $T/cloud.json --ca-file $FAKEAZURE_CA --subscription $FAKEAZURE_SUBSCRIPTION --resource-group rg1"
deploy() {
	c=$1
	shift
	expect_exit "$c" "$NUTAPPLY" deploy $common --template "$D/template.json" --storage-account acct1 \
		--group mint "$@"
}
narm() { fakeazure_q 'len([r for r in s["requests"] if r["service"]=="arm"])'; }

# 1. A secure parameter without a source: one line, no request.
unset NUTAPPLY_REGISTRY_PASSWORD
deploy 1 --parameters "$D/params.json"
expect_err "registryPassword needs a value: set NUTAPPLY_REGISTRY_PASSWORD"
[ "$(narm)" = 0 ] || fail "a missing secret still caused requests"
export NUTAPPLY_REGISTRY_PASSWORD="regpw-$$-secret"

# 2. First deployment: filled template held by ARM, every container runs.
deploy 0 --parameters "$D/params.json"
grep -q "deployment nutapply: succeeded" "$T/out" || fail "no success line: $(cat "$T/out")"
grep -q "container group mint: every container runs" "$T/out" || fail "did not wait for the containers"
grep -q restarted "$T/out" && fail "a new group must not be restarted"
fakeazure_state >"$T/state.json"
"$FAKEAZURE_PY" - "$T/state.json" <<'PY' || fail "the deployment does not hold the filled secure parameters"
import json, sys, os
s = json.load(open(sys.argv[1]))
cg = s["arm"]["deployments"]["nutapply"]["resources"][0]["properties"]
assert cg["volumes"][0]["azureFile"]["storageAccountKey"] == s["arm"]["storage_keys"]["acct1"][0]
assert cg["imageRegistryCredentials"][0]["password"] == os.environ["NUTAPPLY_REGISTRY_PASSWORD"]
assert s["arm"]["deployments"]["nutapply"]["mode"] == "Incremental"
assert s["arm"]["container_groups"]["mint"]["restarts"] == 0
PY

# 3. Again (and again, to see every operation style): the group existed, so
#    it is restarted, then waited for.
deploy 0 --parameters "$D/params.json"
grep -q "container group mint: restarted" "$T/out" || fail "existing group not restarted: $(cat "$T/out")"
deploy 0 --parameters "$D/params.json" --name nutapply-2
[ "$(fakeazure_q 's["arm"]["container_groups"]["mint"]["restarts"]')" = 2 ] || fail "restart count"
[ "$(fakeazure_q 'sorted(set(p for r in s["requests"] for p in ("operationStatuses","operationResults") if p in r["path"]))')" = \
	"['operationResults', 'operationStatuses']" ] || fail "did not follow both Azure-AsyncOperation and Location"

# 4. A deployment ARM refuses: ARM's own message, in one line, whichever
#    way the operation is reported (the fake rotates the four styles).
for i in 1 2 3 4; do
	deploy 1 --parameters "$D/params-nocce.json" --name bad
	expect_err "deployment bad failed at mint: InvalidCcePolicy: The CCE Policy cannot be left empty"
	[ "$(wc -l <"$T/err")" -le 2 ] || fail "more than one error line: $(cat "$T/err")"
done

# 5. Faults on every ARM call kind: it still completes.
fakeazure_ctl POST /_fake/faults '[
 {"service":"arm","method":"POST","path":"listKeys","kind":"expired"},
 {"service":"arm","method":"PUT","path":"deployments","kind":"429","retry_after":1},
 {"service":"arm","method":"GET","path":"operation","kind":"503","retry_after":0},
 {"service":"arm","method":"GET","path":"containerGroups/mint$","kind":"reset"},
 {"service":"arm","method":"GET","path":"deployments/nutapply$","kind":"truncated"},
 {"service":"arm","method":"POST","path":"restart","kind":"slow","delay":1},
 {"service":"entra","kind":"503","retry_after":0,"nth":2}]' >/dev/null
deploy 0 --parameters "$D/params.json"
grep -q "every container runs" "$T/out" || fail "did not complete through faults"
[ "$(fakeazure_q 'sum(f["fired"] for f in s["faults"])')" -ge 5 ] || fail "faults did not fire: $(fakeazure_q 's["faults"]')"
fakeazure_ctl POST /_fake/faults '[]' >/dev/null

# 5b. Throttled for good: one clear line, no deployment half made.
fakeazure_ctl POST /_fake/faults '[{"service":"arm","method":"PUT","kind":"503","count":0,"retry_after":0}]' >/dev/null
deploy 1 --parameters "$D/params.json" --name never
expect_err "HTTP 503"
[ "$(wc -l <"$T/err")" -le 2 ] || fail "more than one error line: $(cat "$T/err")"
[ "$(fakeazure_q '"never" in s["arm"]["deployments"]')" = False ] || fail "a half-made deployment"
fakeazure_ctl POST /_fake/faults '[]' >/dev/null

# 6. A container that does not come up: the wait names it.
fakeazure_ctl POST /_fake/arm/container '{"group":"mint","container":"encfs","state":"Terminated","exitCode":1,"detailStatus":"Error"}' >/dev/null
expect_exit 1 "$NUTAPPLY" group wait $common --timeout 1 mint
expect_err "container encfs is Terminated (Error)"
fakeazure_ctl POST /_fake/arm/container '{"group":"mint","container":"encfs","state":"Running"}' >/dev/null
expect_exit 0 "$NUTAPPLY" group show $common mint
grep -q "container encfs: Running" "$T/out" || fail "group show: $(cat "$T/out")"

# 7. Delete: refused without --yes; then gone; absent is fine.
expect_exit 2 "$NUTAPPLY" group delete $common mint
expect_exit 0 "$NUTAPPLY" group delete $common --yes mint
[ "$(fakeazure_q '"mint" in s["arm"]["container_groups"]')" = False ] || fail "group not deleted"
expect_exit 0 "$NUTAPPLY" group delete $common --yes mint
expect_exit 1 "$NUTAPPLY" group show $common mint
expect_err "ResourceNotFound"

# 8. No secret on any output.
skey=$(fakeazure_q 's["arm"]["storage_keys"]["acct1"][0]')
for f in "$T"/out "$T"/err; do
	grep -qF "$skey" "$f" && fail "storage key in $f"
	grep -qF "$NUTAPPLY_REGISTRY_PASSWORD" "$f" && fail "registry password in $f"
	grep -qF "$FAKEAZURE_CLIENT_SECRET" "$f" && fail "client secret in $f"
done
fakeazure_stop
