# Admission of the rendered policy by Microsoft's own enforcement Rego:
# hcsshim's framework.rego and api.rego (tests/data/rego, unmodified copies)
# evaluated by our Rego interpreter (tests/rego) and driven like the guest's
# Go enforcer (tests/rego_admission.py: mount_device per layer,
# mount_overlay, create_container, exec_in_container, metadata updates).
# The four containers and the pause container, as the ARM template starts
# them, are admitted; a changed layer, command, env value or privilege is
# denied; no shell can be exec'd. confcom's examples cross-check the request
# construction on policies we did not write.
. "$NG_SRCDIR/tests/lib.sh"
D=$NG_SRCDIR/tests/data/deployment
C=$NG_SRCDIR/tests/data/confcom
PY=python3
ADM="$PY $NG_SRCDIR/tests/rego_admission.py"
command -v $PY >/dev/null || skip "python3 missing"
export PYTHONDONTWRITEBYTECODE=1
for v in NUTSHELL_IMAGE CADDY_IMAGE ENCFS_IMAGE KEY_VAULT_NAME DNS_NAME_LABEL CUSTOM_DOMAIN \
	ENCFS_READ_WRITE ENCFS_KEY_TYPE ENCFS_KEY_ID PIN_IMAGE_DIGESTS LOCATION; do unset $v; done

# The interpreter against the language reference, and refusing what it lacks.
$PY "$NG_SRCDIR/tests/rego/selftest.py" >"$T/self" 2>&1 || { cat "$T/self"; fail "rego self-test"; }

R=$T/r
expect_exit 0 $NUTGEN policy "$D/deployment.json" --image-info "$D/image-skr.json" --image-info "$D/image-encfs.json" \
	--image-info "$D/image-caddy.json" --image-info "$D/image-mint.json" --render-dir "$R"
$PY "$NG_SRCDIR/tests/pinned_facts.py" "$R" "$D" || fail "image facts for the rendered template"
FACTS="$R/facts-skr.json $R/facts-encfs.json $R/facts-caddy.json $R/facts-mint.json"

# Positive: pause + four containers admitted; no shell exec into mint or encfs.
$ADM "$R/policy.rego" "$R/arm-template.json" $FACTS --exec "nutshell-mint:/bin/sh,encfs-sidecar:/bin/sh" \
	--expect-deny "exec nutshell-mint /bin/sh,exec encfs-sidecar /bin/sh" >"$T/adm" 2>&1 ||
	{ cat "$T/adm"; fail "the rendered group is not admitted by hcsshim's framework"; }
[ "$(grep -c '^admit ' "$T/adm")" = 5 ] || fail "expected 5 admitted containers: $(cat "$T/adm")"
[ "$(grep -c '^deny exec .* at exec_in_container: .*invalid command' "$T/adm")" = 2 ] || fail "shell exec: $(cat "$T/adm")"

# --debug (loudly marked) is what admits a shell.
expect_exit 0 $NUTGEN policy "$D/deployment.json" --image-info "$D/image-skr.json" --image-info "$D/image-encfs.json" \
	--image-info "$D/image-caddy.json" --image-info "$D/image-mint.json" --debug --render-dir "$T/dbg"
$ADM "$T/dbg/policy.rego" "$T/dbg/arm-template.json" $FACTS --exec "nutshell-mint:/bin/sh,caddy:/bin/zsh" \
	--expect-deny "exec caddy /bin/zsh" >"$T/dbgadm" 2>&1 || { cat "$T/dbgadm"; fail "debug policy"; }
grep -q '^admit exec nutshell-mint /bin/sh$' "$T/dbgadm" || fail "debug shell: $(cat "$T/dbgadm")"

# Negative: each mutation alone, on a fresh guest, is denied at the right point.
MUT=layer:nutshell-mint,layer:pause-container,layerswap:encfs-sidecar,command:caddy,command:nutshell-mint
MUT=$MUT,env:encfs-sidecar,env:skr-sidecar,env:nutshell-mint,env:caddy,privileged:nutshell-mint,privileged:caddy
$ADM "$R/policy.rego" "$R/arm-template.json" $FACTS --mutate $MUT >"$T/mut" 2>&1 ||
	{ cat "$T/mut"; fail "a mutated container was admitted"; }
[ "$(grep -c ': denied at ' "$T/mut")" = 11 ] || fail "mutations: $(cat "$T/mut")"
grep -q '^layer:nutshell-mint: denied at mount_device (deviceHash not found)' "$T/mut" || fail "layer: $(cat "$T/mut")"
grep -q '^layerswap:encfs-sidecar: denied at mount_overlay' "$T/mut" || fail "layerswap: $(cat "$T/mut")"
grep -q '^command:caddy: denied at create_container (.*invalid command' "$T/mut" || fail "command: $(cat "$T/mut")"
grep -q '^env:encfs-sidecar: denied at create_container (.*missing required environment variable' "$T/mut" ||
	fail "env: $(cat "$T/mut")"
grep -q '^privileged:caddy: denied at create_container (.*privileged escalation not allowed' "$T/mut" ||
	fail "privileged: $(cat "$T/mut")"

# Why nutgen marks pinned values required: with confcom's own rules for the
# same template (env dropping on, required false) the framework drops a
# changed EncfsSideCarArgs and the container still starts.
expect_exit 0 $NUTGEN policy --arm "$R/arm-template.json" --image-info "$R/facts-skr.json" --image-info "$R/facts-encfs.json" \
	--image-info "$R/facts-caddy.json" --image-info "$R/facts-mint.json" -o "$T/confcom.rego"
$ADM "$T/confcom.rego" "$R/arm-template.json" $FACTS --mutate env:encfs-sidecar >"$T/cc" 2>&1 && {
	cat "$T/cc"
	fail "framework: confcom's optional rules should admit (and drop) a changed value"
}
grep -q '^env:encfs-sidecar: ADMITTED' "$T/cc" || fail "confcom policy: $(cat "$T/cc")"

# Cross-check on confcom's examples (policies we did not write). Their image
# has no command, so confcom writes "command": null: the framework can never
# admit that container (confcom-policy.md §6); the pause container is.
# One process for all examples (the machine is shared; startup dominates).
$PY - "$NG_SRCDIR/tests" "$C" "$T" <<'PYEOF' || fail "confcom examples"
import contextlib, glob, io, json, os, sys
sys.path.insert(0, sys.argv[1])
import rego_admission as ra
c, t = sys.argv[2], sys.argv[3]
img = os.path.join(c, "image-azurelinux-distroless-base.json")
done = []
for d in sorted(glob.glob(os.path.join(c, "0*/"))):
    n = os.path.basename(d.rstrip("/"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = ra.main([d + "policy.rego", d + "arm_template.json", img, "--expect-deny", "container1"])
    lines = out.getvalue().splitlines()
    assert rc == 0 and lines == ["admit pause-container", "deny container1 at create_container: invalid command"], (n, lines)
    # With a command in both template and policy, every container is
    # admitted: env rules, azureFile mount, capability add/drop, probes,
    # api 0.10.0 and fragments as confcom renders them.
    pol = open(d + "policy.rego").read().replace('"command":null', '"command":["/bin/true"]')
    open(os.path.join(t, "p.rego"), "w").write(pol)
    a = json.load(open(d + "arm_template.json"))
    for r in a["resources"]:
        if r["type"].lower().endswith("containergroups"):
            for x in r["properties"]["containers"]:
                x["properties"]["command"] = ["/bin/true"]
    json.dump(a, open(os.path.join(t, "a.json"), "w"))
    extra = ["--exec", "container1:/bin/sh,container1:/bin/bash"] if n.startswith("04-") else []
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = ra.main([os.path.join(t, "p.rego"), os.path.join(t, "a.json"), img] + extra)
    lines = out.getvalue().splitlines()
    assert rc == 0 and lines and all(x.startswith("admit ") for x in lines), (n, lines)
    assert len(lines) == (4 if extra else 2), (n, lines)
    done.append(n)
assert len(done) == 6, done
PYEOF
exit 0
