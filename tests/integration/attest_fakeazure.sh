# nutapply verify against the local Azure stand-in's attestation service
# (tests/fakeazure/, another module): the tokens it issues for the simulated
# TEE verify with the keys from its /certs over TLS, and those signed by
# another key, with another issuer, another hostdata or expired do not.
. "$NG_SRCDIR/tests/lib.sh"
[ -f "$NG_SRCDIR/tests/fakeazure.sh" ] || skip "tests/fakeazure.sh not in this tree (fakeazure branch not merged)"
. "$NG_SRCDIR/tests/fakeazure.sh"
fakeazure_start
HD=$(printf 'package policy\n' | sha256sum | cut -d' ' -f1)
V="$NUTAPPLY verify --hostdata $HD --attestation-endpoint $FAKEAZURE_ATTEST --ca-file $FAKEAZURE_CA"
fakeazure_maa_tokens "$T/" "$HD"

expect_exit 0 $V --token "$T/good.json" --nonce c0ffee
grep -q '^verdict: PASS' "$T/out" || fail "no PASS: $(cat "$T/out")"
for c in rogue:maa.signature iss:maa.issuer hd:maa.hostdata exp:maa.validity dbg:maa.debuggable \
	vmpl:maa.vmpl; do
	expect_exit 1 $V --token "$T/${c%%:*}.json"
	grep -q "^FAIL  ${c#*:} " "$T/out" || fail "${c%%:*}: no FAIL ${c#*:}: $(cat "$T/out")"
done
echo "attest_fakeazure: all cases hold"
