# Admission of the rendered policy, checked with tests/admission_model.py: a
# restatement of hcsshim framework.rego's create_container/mount_overlay rules
# (not Microsoft's Rego itself: no OPA evaluator exists offline). The four
# containers and the pause container, as the ARM template starts them, are
# admitted; a changed layer, command, env value or privilege is denied.
. "$NG_SRCDIR/tests/lib.sh"
D=$NG_SRCDIR/tests/data/deployment
PY=python3
command -v $PY >/dev/null || skip "python3 missing"
for v in NUTSHELL_IMAGE CADDY_IMAGE ENCFS_IMAGE KEY_VAULT_NAME DNS_NAME_LABEL CUSTOM_DOMAIN \
	ENCFS_READ_WRITE ENCFS_KEY_TYPE ENCFS_KEY_ID PIN_IMAGE_DIGESTS LOCATION; do unset $v; done
R=$T/r
expect_exit 0 $NUTGEN policy "$D/deployment.json" --image-info "$D/image-skr.json" --image-info "$D/image-encfs.json" \
	--image-info "$D/image-caddy.json" --image-info "$D/image-mint.json" --render-dir "$R"
$PY "$NG_SRCDIR/tests/pinned_facts.py" "$R" "$D" || fail "image facts for the rendered template"
M="$PY $NG_SRCDIR/tests/admission_model.py $R/policy.rego $R/arm-template.json $R/facts-skr.json $R/facts-encfs.json $R/facts-caddy.json $R/facts-mint.json"
$M >"$T/adm" 2>&1 || { cat "$T/adm"; fail "the rendered group is not admitted"; }
[ "$(grep -c '^admit' "$T/adm")" = 5 ] || fail "expected 5 admitted containers: $(cat "$T/adm")"
$M --mutate layer:nutshell-mint,layer:encfs-sidecar,layer:pause-container,command:caddy,command:nutshell-mint,env:encfs-sidecar,env:skr-sidecar,env:nutshell-mint,privileged:nutshell-mint,privileged:caddy \
	>"$T/adm" 2>&1 || { cat "$T/adm"; fail "a mutated container was admitted"; }
[ "$(grep -c ': denied' "$T/adm")" = 10 ] || fail "mutations: $(cat "$T/adm")"
# Why nutgen marks pinned values required: with confcom's rules (env dropping
# on, required false) a changed EncfsSideCarArgs is silently dropped and the
# container still starts.
expect_exit 0 $NUTGEN policy --arm "$R/arm-template.json" --image-info "$R/facts-skr.json" --image-info "$R/facts-encfs.json" \
	--image-info "$R/facts-caddy.json" --image-info "$R/facts-mint.json" -o "$T/confcom.rego"
$PY "$NG_SRCDIR/tests/admission_model.py" "$T/confcom.rego" "$R/arm-template.json" "$R"/facts-skr.json "$R"/facts-encfs.json \
	"$R"/facts-caddy.json "$R"/facts-mint.json --mutate env:encfs-sidecar >/dev/null 2>&1 ||
	fail "model: confcom's optional rules should admit (and drop) a changed value"
exit 0
