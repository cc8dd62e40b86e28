# Start/stop helper for the local Azure stand-in (tests/fakeazure/), sourced
# by integration scripts after tests/lib.sh:
#
#   . "$NG_SRCDIR/tests/fakeazure.sh"
#   fakeazure_start [fakeazure.py options...]   # e.g. --lro-style both --fault ...
#   curl --cacert "$FAKEAZURE_CA" "$FAKEAZURE_ARM/..."
#   fakeazure_ctl POST /_fake/faults '[{"service":"vault","kind":"429"}]'
#   fakeazure_state > "$T/state.json"
#
# It binds free loopback ports itself (port 0) and publishes them in
# $FAKEAZURE_DIR/endpoints.json; fakeazure_start waits until that file exists
# (the listeners are up before it is written). The server exits on its own when
# the calling shell is gone, and fakeazure_stop (installed as the EXIT trap;
# scripts with their own trap call it there) kills it by its pid.
# Exports: FAKEAZURE_PY (python with `cryptography`), FAKEAZURE_DIR,
# FAKEAZURE_CA, FAKEAZURE_ENTRA, FAKEAZURE_ARM, FAKEAZURE_VAULT,
# FAKEAZURE_ATTEST, FAKEAZURE_IMDS, FAKEAZURE_TENANT, FAKEAZURE_CLIENT_ID,
# FAKEAZURE_SUBSCRIPTION, FAKEAZURE_CLIENT_SECRET, FAKEAZURE_PID.

FAKEAZURE_PID=""

fakeazure_stop() {
	if [ -n "$FAKEAZURE_PID" ]; then
		kill "$FAKEAZURE_PID" 2>/dev/null || true
		wait "$FAKEAZURE_PID" 2>/dev/null || true
		FAKEAZURE_PID=""
	fi
}

# fakeazure_field KEY: a top-level string/number of endpoints.json.
fakeazure_field() {
	"$FAKEAZURE_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
		"$FAKEAZURE_DIR/endpoints.json" "$1"
}

fakeazure_start() {
	FAKEAZURE_PY=$(find_python_crypto) || skip "fakeazure: no python3 with the cryptography package (make deps)"
	# The interpreter itself, not a version manager's shim (pyenv's costs
	# seconds per start on a loaded machine, and the tests start many).
	FAKEAZURE_PY=$("$FAKEAZURE_PY" -c 'import sys; print(sys.executable)')
	FAKEAZURE_DIR=${FAKEAZURE_DIR:-$T/fakeazure}
	mkdir -p "$FAKEAZURE_DIR"
	rm -f "$FAKEAZURE_DIR/endpoints.json"
	FAKEAZURE_CLIENT_SECRET=${FAKEAZURE_CLIENT_SECRET:-fake-secret-$$-$(date +%s)}
	export FAKEAZURE_CLIENT_SECRET
	"$FAKEAZURE_PY" -B "$NG_SRCDIR/tests/fakeazure/fakeazure.py" --dir "$FAKEAZURE_DIR" \
		--parent-pid $$ "$@" >"$FAKEAZURE_DIR/log" 2>&1 &
	FAKEAZURE_PID=$!
	trap 'fakeazure_stop' EXIT
	trap 'fakeazure_stop; exit 1' INT TERM
	i=0
	while [ ! -f "$FAKEAZURE_DIR/endpoints.json" ]; do
		if ! kill -0 "$FAKEAZURE_PID" 2>/dev/null; then
			cat "$FAKEAZURE_DIR/log" >&2
			fail "fakeazure did not start"
		fi
		i=$((i + 1))
		[ $i -lt 300 ] || fail "fakeazure not ready after 30 s"
		sleep 0.1
	done
	FAKEAZURE_CA=$(fakeazure_field ca)
	FAKEAZURE_ENTRA=$(fakeazure_field entra)
	FAKEAZURE_ARM=$(fakeazure_field arm)
	FAKEAZURE_VAULT=$(fakeazure_field vault)
	FAKEAZURE_ATTEST=$(fakeazure_field attest)
	FAKEAZURE_IMDS=$(fakeazure_field imds)
	FAKEAZURE_TENANT=$(fakeazure_field tenant)
	FAKEAZURE_CLIENT_ID=$(fakeazure_field client_id)
	FAKEAZURE_SUBSCRIPTION=$(fakeazure_field subscription)
	export FAKEAZURE_PY FAKEAZURE_DIR FAKEAZURE_CA FAKEAZURE_ENTRA FAKEAZURE_ARM FAKEAZURE_VAULT \
		FAKEAZURE_ATTEST FAKEAZURE_IMDS FAKEAZURE_TENANT FAKEAZURE_CLIENT_ID FAKEAZURE_SUBSCRIPTION
}

# fakeazure_ctl METHOD PATH [JSON]: a control call (no auth), body on stdout.
fakeazure_ctl() {
	curl -sS --fail-with-body --cacert "$FAKEAZURE_CA" -X "$1" -H 'Content-Type: application/json' \
		${3:+--data-binary "$3"} "$FAKEAZURE_ARM$2"
}

# fakeazure_maa_tokens PREFIX HOSTDATA: the stand-in's MAA tokens that verify
# tests judge, as PREFIXNAME.json: good (x-ms-runtime nonce c0ffee), rogue
# (another signer), iss (a foreign issuer), hd (another hostdata), exp
# (expired), dbg (a debuggable guest), vmpl (VMPL 1).
fakeazure_maa_tokens() {
	now=$(date +%s) h="\"x-ms-sevsnpvm-hostdata\":\"$2\""
	set -- "$1" /_fake/attest/token
	fakeazure_ctl POST "$2" "{\"claims\":{$h,\"x-ms-runtime\":{\"nonce\":\"c0ffee\"}}}" >"${1}good.json"
	fakeazure_ctl POST "$2" "{\"claims\":{$h},\"signer\":\"rogue\"}" >"${1}rogue.json"
	fakeazure_ctl POST "$2" "{\"claims\":{$h,\"iss\":\"https://evil.attest.azure.net\"}}" >"${1}iss.json"
	fakeazure_ctl POST "$2" "{\"claims\":{\"x-ms-sevsnpvm-hostdata\":\"$(printf '%064d' 1)\"}}" >"${1}hd.json"
	fakeazure_ctl POST "$2" "{\"claims\":{$h,\"nbf\":$((now - 36000)),\"exp\":$((now - 3600))}}" >"${1}exp.json"
	fakeazure_ctl POST "$2" "{\"claims\":{$h,\"x-ms-sevsnpvm-is-debuggable\":true}}" >"${1}dbg.json"
	fakeazure_ctl POST "$2" "{\"claims\":{$h,\"x-ms-sevsnpvm-vmpl\":1}}" >"${1}vmpl.json"
}

fakeazure_state() {
	fakeazure_ctl GET /_fake/state
}

# fakeazure_token RESOURCE: an access token for the test client (client secret).
fakeazure_token() {
	printf '%s' "$FAKEAZURE_CLIENT_SECRET" |
		curl -sS --fail-with-body --cacert "$FAKEAZURE_CA" \
			--data-urlencode "client_id=$FAKEAZURE_CLIENT_ID" --data-urlencode "scope=$1/.default" \
			--data-urlencode grant_type=client_credentials --data-urlencode "client_secret@-" \
			"$FAKEAZURE_ENTRA/$FAKEAZURE_TENANT/oauth2/v2.0/token" |
		"$FAKEAZURE_PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# fakeazure_q PYEXPR: prints a Python expression over the state `s` (the
# JSON of GET /_fake/state), e.g. fakeazure_q 'len(s["vault"]["keys"])'.
fakeazure_q() {
	fakeazure_state | "$FAKEAZURE_PY" -c 'import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# fakeazure_env CLOUD_FILE: writes a custom cloud naming the fake's endpoints
# and exports the environment credential (client secret) nutapply uses.
fakeazure_env() {
	"$FAKEAZURE_PY" "$NG_SRCDIR/tests/fakeazure/mkkeys.py" cloud "$FAKEAZURE_DIR/endpoints.json" "$1"
	AZURE_TENANT_ID=$FAKEAZURE_TENANT AZURE_CLIENT_ID=$FAKEAZURE_CLIENT_ID
	AZURE_CLIENT_SECRET=$FAKEAZURE_CLIENT_SECRET AZURE_TOKEN_CREDENTIALS=EnvironmentCredential
	export AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_TOKEN_CREDENTIALS
}
