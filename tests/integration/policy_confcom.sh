# nutgen policy --arm reproduces az confcom byte for byte on confcom's own
# test cases (tests/data/confcom, copied from ../shared/research/confcom-examples;
# policy.rego is confcom's expected output, not ours), and --hostdata is the
# SHA-256 of those bytes as sha256sum computes it.
. "$NG_SRCDIR/tests/lib.sh"
E=$NG_SRCDIR/tests/data/confcom
I=$E/image-azurelinux-distroless-base.json
[ -f "$I" ] || skip "tests/data/confcom missing"

check() {
	d=$1
	shift
	expect_exit 0 "$NUTGEN" policy --arm "$E/$d/arm_template.json" --image-info "$I" "$@" -o "$T/p.rego"
	cmp "$T/p.rego" "$E/$d/policy.rego" || fail "$d: policy differs from confcom's"
	# stdout form: the policy and one newline; confcom's --outraw adds three.
	expect_exit 0 "$NUTGEN" policy --arm "$E/$d/arm_template.json" --image-info "$I" "$@"
	printf '\n\n' >>"$T/out"
	cmp "$T/out" "$E/$d/expected_stdout_outraw.txt" || fail "$d: stdout differs"
	expect_exit 0 "$NUTGEN" policy --arm "$E/$d/arm_template.json" --image-info "$I" "$@" --hostdata
	want=$(sha256sum "$E/$d/policy.rego" | cut -d' ' -f1)
	[ "$(cat "$T/out")" = "$want" ] || fail "$d: hostdata $(cat "$T/out") != $want"
}
check 01-volume-mounts-azurefile
check 02-capabilities-add-drop
check 03-duplicated-probes
check 04-debug-mode --profile late-1x --debug
check 05-env-vars-template --profile 1x-svn1
check 06-fragment-import --fragments-json "$E/06-fragment-import/fragments.json"

# Documented hostdata vectors (confcom-policy.md §1).
expect_exit 0 "$NUTGEN" policy --arm "$E/01-volume-mounts-azurefile/arm_template.json" --image-info "$I" --hostdata
[ "$(cat "$T/out")" = 0ae7771f893b558339f8e9552caa5cc4fb3263b9b04996175ee805dbc873a2b0 ] || fail "01 hostdata"
expect_exit 0 "$NUTGEN" policy --arm "$E/02-capabilities-add-drop/arm_template.json" --image-info "$I" --hostdata
[ "$(cat "$T/out")" = f0a13850de3357d3f621fce57e6045b77ef8a45c4ada266784af6bb050f89937 ] || fail "02 hostdata"

# --inject rewrites the template as confcom does (Python json.dumps(indent=2)
# of the template with ccePolicy = base64(policy)); -p resolves parameters.
expect_exit 0 "$NUTGEN" policy --arm "$E/01-volume-mounts-azurefile/arm_template.json" --image-info "$I" --inject "$T/inj.json" --hostdata
python3 - "$E/01-volume-mounts-azurefile/arm_template.json" "$E/01-volume-mounts-azurefile/policy.rego" "$T/inj.json" <<'PYEOF' || fail "--inject output differs from json.dumps"
import base64, json, sys
arm = json.load(open(sys.argv[1]))
arm["resources"][0]["properties"]["confidentialComputeProperties"]["ccePolicy"] = \
    base64.b64encode(open(sys.argv[2], "rb").read()).decode()
assert open(sys.argv[3]).read() == json.dumps(arm, indent=2)
PYEOF
python3 - "$E/05-env-vars-template/arm_template.json" "$T/p-arm.json" "$T/p.json" <<'PYEOF'
import json, sys
arm = json.load(open(sys.argv[1]))
arm["parameters"] = {"myVal": {"type": "string"}, "other": {"type": "string", "defaultValue": "d"}}
env = arm["resources"][0]["properties"]["containers"][0]["properties"]["environmentVariables"]
env[0]["value"] = "[parameters('myVal')]"
env.append({"name": "O", "value": "[parameters('other')]"})
env.append({"name": "W", "value": "[parameters('myval')]x"})
json.dump(arm, open(sys.argv[2], "w"))
json.dump({"parameters": {"myVal": {"value": "MY_VAL"}}}, open(sys.argv[3], "w"))
PYEOF
expect_exit 0 "$NUTGEN" policy --arm "$T/p-arm.json" --image-info "$I" -p "$T/p.json" --profile 1x-svn1
grep -q '{"pattern":"MY_VAR=MY_VAL","required":false,"strategy":"string"},{"pattern":"O=d","required":false,"strategy":"string"},{"pattern":"W=MY_VALx"' "$T/out" || fail "-p parameters not resolved"
expect_exit 0 "$NUTGEN" policy --arm "$T/p-arm.json" --image-info "$I"
grep -q '{"pattern":"MY_VAR=.\*","required":false,"strategy":"re2"}' "$T/out" || fail "unresolved parameter not wildcarded"
printf '{"parameters":{"nope":{"value":1}}}' >"$T/p2.json"
expect_exit 1 "$NUTGEN" policy --arm "$T/p-arm.json" --image-info "$I" -p "$T/p2.json"
expect_err "'nope' is not a parameter of the template"

# A template shaped like the seed's (seed-deployment.md §2: parameters without
# defaults, secureValue, literal if()/concat(), privileged /bin/sh -c encfs),
# with the seed's flags (--debug-mode, api 0.10.0 profile): the confcom model
# (tests/policy_oracle.py) computes the same bytes.
S=$NG_SRCDIR/tests/data/seedlike
SF="$S/image-skr.json $S/image-encfs.json $S/image-caddy.json $S/image-mint.json"
for prof in 1x current; do
	expect_exit 0 "$NUTGEN" policy --arm "$S/arm-template.json" $(for f in $SF; do printf -- '--image-info %s ' "$f"; done) \
		--profile $prof --debug -o "$T/seed-$prof.rego"
	python3 "$NG_SRCDIR/tests/policy_oracle.py" "$S/arm-template.json" $prof 1 $SF >"$T/seed-oracle-$prof.rego" ||
		fail "oracle failed"
	cmp "$T/seed-$prof.rego" "$T/seed-oracle-$prof.rego" || fail "seed-like template, profile $prof: differs from the model"
done
grep -q '"pattern":"EncfsSideCarArgs=.\*","required":false,"strategy":"re2"' "$T/seed-1x.rego" || fail "secure parameter not wildcarded"
grep -q "CADDY_DOMAIN=\[if(empty(parameters('customDomain'))" "$T/seed-1x.rego" || fail "if() not kept literal"

# Bad input: one line naming the input, exit 1 or 2, no output file.
expect_exit 1 "$NUTGEN" policy --arm "$E/01-volume-mounts-azurefile/arm_template.json" --image-info "$E/README.md"
expect_err "README.md: not valid JSON"
printf '{"image":"x","config":{},"layer_roothashes":["zz"]}' >"$T/bad.json"
expect_exit 1 "$NUTGEN" policy --arm "$E/01-volume-mounts-azurefile/arm_template.json" --image-info "$T/bad.json"
expect_err "bad.json: layer_roothashes entries must be 64 lowercase hex digits"
printf '{"image":"other","config":{},"layer_roothashes":["%064d"]}' 0 >"$T/other.json"
expect_exit 1 "$NUTGEN" policy --arm "$E/01-volume-mounts-azurefile/arm_template.json" --image-info "$T/other.json" -o "$T/none"
expect_err "no image facts for mcr.microsoft.com/azurelinux"
[ ! -e "$T/none" ] || fail "output written on failure"
expect_exit 2 "$NUTGEN" policy --arm "$E/01-volume-mounts-azurefile/arm_template.json" --image-info "$I" --profile ../x
expect_exit 1 "$NUTGEN" policy --arm "$E/01-volume-mounts-azurefile/arm_template.json" --image-info "$I" --profile nosuch
expect_err "nosuch"
expect_exit 2 "$NUTGEN" policy --arm "$E/01-volume-mounts-azurefile/arm_template.json"
exit 0
