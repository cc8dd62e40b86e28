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
