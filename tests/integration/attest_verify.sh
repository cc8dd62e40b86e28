# nutapply verify against MAA-shaped tokens made by python3-cryptography
# (tests/attest/maa_token.py, independent of our C code) and against the
# genuine SEV-SNP report in tests/data/attest.
. "$NG_SRCDIR/tests/lib.sh"
PY=$(find_python_crypto) || skip "python3 with cryptography not found (make deps)"
D=$NG_SRCDIR/tests/data/attest
MK="$PY $NG_SRCDIR/tests/attest/maa_token.py"
ISS=https://sharedneu.neu.attest.azure.net
HD=cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c
OTHER=0000000000000000000000000000000000000000000000000000000000000001
NONCE=00112233445566778899aabbccddeeff
V="$NUTAPPLY verify --hostdata $HD --attestation-endpoint sharedneu.neu.attest.azure.net"

$MK key "$T" maa
$MK key "$T" rogue
$MK jwks "$T/jwks.json" "$T/maa.jwk"

tok() { # tok NAME KEY [ISS [HOSTDATA]] [options...]: queued, made by one python run
	n=$1 k=$2
	shift 2
	i=${1:-$ISS} h=${2:-$HD}
	[ $# -ge 2 ] && shift 2 || shift $#
	line="'$T/$n.jwt' '$T/$k' '$i' '$h'"
	for a in "$@"; do line="$line '$a'"; done
	echo "$line" >>"$T/specs"
}
KID=$($PY -c 'import json,sys;print(json.load(open(sys.argv[1]))["kid"])' "$T/maa.jwk")
tok good maa
tok fresh maa "" "" --runtime "{\"nonce\":\"$NONCE\"}"
tok rogue rogue "" "" --kid "$KID"
tok unknownkid rogue
tok otheriss maa https://evil.attest.azure.net "" --jku "$ISS/certs"
tok otherhd maa "$ISS" $OTHER
tok expired maa "" "" --nbf -36000 --exp -3600
tok future maa "" "" --nbf 3600
tok debug maa "" "" --set x-ms-sevsnpvm-is-debuggable=true
tok debugstr maa "" "" --set 'x-ms-sevsnpvm-is-debuggable="false"'
tok vmpl1 maa "" "" --set x-ms-sevsnpvm-vmpl=1
tok cvm maa "" "" --set 'x-ms-compliance-status="azure-compliant-cvm"'
tok notype maa "" "" --set x-ms-attestation-type=null
tok none maa "" "" --alg none
tok hs maa "" "" --alg HS256
tok jku maa "" "" --jku https://evil.example/certs
tok jku2 maa "" "" --jku "https://sharedneu.neu.attest.azure.net.evil.example/certs"
tok jku3 maa "" "" --jku "https://sharedneu.neu.attest.azure.net@evil.example/certs"
$MK batch <"$T/specs"

# A good token passes, in the three forms the mint, SKR and a file give.
expect_exit 0 $V --token "$T/good.jwt" --jwks "$T/jwks.json"
grep -q '^ok    maa.hostdata' "$T/out" || fail "no hostdata row: $(cat "$T/out")"
grep -q '^verdict: PASS' "$T/out" || fail "no PASS verdict"
printf '{"maa_token":"%s","maa_endpoint":"%s","attestation_type":"sevsnpvm"}' \
	"$(cat "$T/good.jwt")" "$ISS" >"$T/mint.json"
expect_exit 0 $V --token "$T/mint.json" --jwks "$T/jwks.json" --json
grep -q '"ok": *true' "$T/out" || fail "--json lacks ok:true: $(cat "$T/out")"
printf '{"token":"%s"}' "$(cat "$T/good.jwt")" >"$T/skr.json"
expect_exit 0 $V --token "$T/skr.json" --jwks "$T/jwks.json"

# Nonce in x-ms-runtime.
expect_exit 0 $V --token "$T/fresh.jwt" --jwks "$T/jwks.json" --nonce $NONCE
expect_exit 1 $V --token "$T/good.jwt" --jwks "$T/jwks.json" --nonce $NONCE
grep -q '^FAIL  maa.nonce' "$T/out" || fail "stale token passed the nonce check"

# Verdict failures: one FAIL row naming the check, exit 1.
check_fail() { # check_fail ROW TOKEN
	expect_exit 1 $V --token "$T/$2.jwt" --jwks "$T/jwks.json"
	grep -q "^FAIL  $1 " "$T/out" || fail "$2: no FAIL row for $1: $(cat "$T/out")"
}
check_fail maa.signature rogue
check_fail maa.signature unknownkid
check_fail maa.issuer otheriss
check_fail maa.hostdata otherhd
check_fail maa.validity expired
check_fail maa.validity future
check_fail maa.debuggable debug
check_fail maa.debuggable debugstr
check_fail maa.vmpl vmpl1
check_fail maa.compliance cvm
check_fail maa.attestation-type notype
# A payload edited after signing.
sed 's/^\([^.]*\)\.[^.]*\./\1.'"$(printf '{"iss":"%s"}' "$ISS" | base64 -w0 | tr '+/' '-_' | tr -d '=')"'./' \
	"$T/good.jwt" >"$T/edited.jwt"
check_fail maa.signature edited

# Refused outright with one line on stderr.
refused() { # refused PATTERN ARGS...
	p=$1
	shift
	expect_exit 1 "$@"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "not one line: $(cat "$T/err")"
	expect_err "$p"
	[ ! -s "$T/out" ] || fail "output despite refusal: $(cat "$T/out")"
}
refused 'alg "none" refused' $V --token "$T/none.jwt" --jwks "$T/jwks.json"
refused 'alg "HS256" refused' $V --token "$T/hs.jwt" --jwks "$T/jwks.json"
refused 'jku .* is not on the attestation provider' $V --token "$T/jku.jwt" --jwks "$T/jwks.json"
refused 'jku' $V --token "$T/jku2.jwt" --jwks "$T/jwks.json"
refused 'jku' $V --token "$T/jku3.jwt" --jwks "$T/jwks.json"
head -c 300000 /dev/zero | tr '\0' 'a' >"$T/big.jwt"
refused 'over the limit' $V --token "$T/big.jwt" --jwks "$T/jwks.json"
head -c 200000 /dev/zero | tr '\0' 'a' >"$T/big.jwt"
refused 'more than 131072' $V --token "$T/big.jwt" --jwks "$T/jwks.json"
printf 'not.a-jwt' >"$T/bad.jwt"
refused 'token' $V --token "$T/bad.jwt" --jwks "$T/jwks.json"
printf 'a.b.c.d' >"$T/bad.jwt"
refused 'compact JWS' $V --token "$T/bad.jwt" --jwks "$T/jwks.json"
printf '{"detail":"SKR unreachable"}' >"$T/bad.jwt"
refused 'the mint says: SKR unreachable' $V --token "$T/bad.jwt" --jwks "$T/jwks.json"
b64u() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
printf '%s.e30.AAAA' "$(printf '{"alg":"RS\\n256","kid":"k"}' | b64u)" >"$T/nl.jwt"
refused 'alg "RS?256" refused' $V --token "$T/nl.jwt" --jwks "$T/jwks.json"
printf '%s.e30.AAAA' "$(printf '{"alg":"RS256","alg":"none","kid":"k"}' | b64u)" >"$T/dup.jwt"
refused 'repeats member "alg"' $V --token "$T/dup.jwt" --jwks "$T/jwks.json"
refused 'https://' $NUTAPPLY verify --hostdata $HD --attestation-endpoint http://x.attest.azure.net \
	--token "$T/good.jwt" --jwks "$T/jwks.json"

# The genuine SNP report: verifies; another hostdata fails; chain order enforced.
R="$NUTAPPLY verify --report $D/snp_report.bin"
expect_exit 0 $R --hostdata $HD --certs "$D/uvm_host_amd_certificate.pem"
expect_exit 1 $R --hostdata $OTHER --certs "$D/uvm_host_amd_certificate.pem"
grep -q '^FAIL  snp.hostdata' "$T/out" || fail "other hostdata: no FAIL row"
awk '/BEGIN/{n++} {print > ("'"$T"'/c" n ".pem")}' "$D/uvm_host_amd_certificate.pem"
cat "$T/c2.pem" "$T/c1.pem" "$T/c3.pem" >"$T/swapped.pem"
refused 'VCEK, ASK, ARK in that order' $R --hostdata $HD --certs "$T/swapped.pem"
cat "$T/c1.pem" "$T/c2.pem" >"$T/short.pem"
refused '2 certificates or other data' $R --hostdata $HD --certs "$T/short.pem"
cat "$D/snp_report.bin" "$D/snp_report.bin" >"$T/double.bin"
refused 'not an SNP report' $R --hostdata $HD --certs "$D/uvm_host_amd_certificate.pem" \
	--report "$T/double.bin"
# Both at once: the combined verdict.
expect_exit 0 $V --token "$T/good.jwt" --jwks "$T/jwks.json" --report "$D/snp_report.bin" \
	--certs "$D/uvm_host_amd_certificate.pem"
[ "$(grep -c "^ok " "$T/out")" -eq 16 ] || fail "expected 16 ok rows: $(cat "$T/out")"
echo "attest_verify: all cases hold"
