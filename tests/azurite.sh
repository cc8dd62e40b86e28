# Sourced by tests after lib.sh: starts real Azurite (blob only) on a free
# loopback port over HTTPS, with a CA and server certificate generated for
# this run in $T (no key is ever committed), and stops it on exit.
# After `azurite_start`:
#   AZ_CA        the test CA (PEM), for --ca-file and the Python oracle
#   AZ_PORT      the port Azurite listens on
#   AZ_URL       https://127.0.0.1:$AZ_PORT/devstoreaccount1
#   AZURE_STORAGE_KEY  exported: Azurite's well-known public dev key
# `azurite_start` skips (exit 77) when Azurite or openssl is missing.
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

azurite_certs() {
	d=$1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=nutgen-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
		2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-CAcreateserial -days 2 -extfile "$d/ext" -out "$d/server.pem" 2>/dev/null
}

azurite_start() {
	bin=$NG_SRCDIR/tests/node/node_modules/.bin/azurite-blob
	[ -x "$bin" ] || skip "Azurite not installed (run make deps)"
	command -v openssl >/dev/null || skip "openssl not installed"
	command -v node >/dev/null || skip "node not installed"
	mkdir -p "$T/az"
	[ -f "$T/az/ca.pem" ] || azurite_certs "$T/az"
	AZ_CA=$T/az/ca.pem
	: >"$T/az/log"
	"$bin" --blobHost 127.0.0.1 --blobPort 0 --inMemoryPersistence --disableTelemetry \
		--silent --cert "$T/az/server.pem" --key "$T/az/server.key" --oauth basic ${AZ_DEBUG:+-d "$T/az/debug.log"} \
		>"$T/az/log" 2>&1 &
	AZ_PID=$!
	trap 'azurite_stop' EXIT
	trap 'azurite_stop; exit 1' INT TERM
	i=0
	AZ_PORT=
	while [ $i -lt 300 ]; do
		AZ_PORT=$(sed -n 's/.*successfully listens on https:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/az/log" | head -n 1)
		[ -n "$AZ_PORT" ] && break
		kill -0 "$AZ_PID" 2>/dev/null || { cat "$T/az/log" >&2; fail "Azurite exited"; }
		sleep 0.1
		i=$((i + 1))
	done
	[ -n "$AZ_PORT" ] || { cat "$T/az/log" >&2; fail "Azurite did not start in 30 s"; }
	AZ_URL=https://127.0.0.1:$AZ_PORT/devstoreaccount1
	AZURE_STORAGE_KEY=$AZ_KEY
	export AZURE_STORAGE_KEY AZ_CA AZ_URL AZ_PORT
}

azurite_stop() {
	if [ -n "${AZ_PID:-}" ]; then
		kill "$AZ_PID" 2>/dev/null || true
		wait "$AZ_PID" 2>/dev/null || true
		AZ_PID=
	fi
	[ -z "${AZ_EXTRA_PIDS:-}" ] || kill $AZ_EXTRA_PIDS 2>/dev/null || true
}

# az_oracle ARGS...: the independent Blob client (tests/azblob.py, Python
# stdlib) against this Azurite.
az_oracle() {
	python3 "$NG_SRCDIR/tests/azblob.py" --ca "$AZ_CA" --base "$AZ_URL" "$@"
}
