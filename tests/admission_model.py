#!/usr/bin/env python3
"""A model of the guest's admission decision for container creation, written
from reading hcsshim's pkg/securitypolicy/framework.rego (create_container,
mount_overlay's layer check, env and capability dropping, anchor_pattern).
It is NOT Microsoft's enforcement code (no Rego evaluator is available
offline); it restates the rules that decide admission so that tests can
check a policy against container start requests built from an ARM template.

usage: admission_model.py POLICY.rego ARM.json FACTS.json... [--mutate KIND:CONTAINER[,...]]
For every container of the template (plus ACI's pause container) it builds
the request ACI would send (layers, args, env, working dir, mounts,
privilege, capabilities) and prints "admit NAME" or "deny NAME: reason".
--mutate changes one request first: layer, command, env (the first template
variable's value), privileged. Exit 0 when every request is admitted.
With several comma-separated mutations, each is applied alone and the exit
status is 0 only when every mutated container is denied."""
import json
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from aci_requests import PAUSE_ENV, container_group, process, volume_mounts  # noqa: E402

SANDBOX = "/run/gcs/c/0123456789abcdef/sandboxMounts"


def anchor(p):
    """framework.rego anchor_pattern, then RE2's leading inline flags moved
    in front of the anchor for Python's re (RE2 accepts "^(?i)x")."""
    flags = ""
    body = p[1:] if p.startswith("^") else p
    m = re.match(r"^\(\?[a-zA-Z]+\)", body)
    if m:
        flags, body = m.group(0), body[m.end():]
    return flags + "^" + body + ("" if p.endswith("$") else "$")


def rule_ok(rule, env):
    if rule["strategy"] == "string":
        return rule["pattern"] == env
    return re.match(anchor(rule["pattern"]), env) is not None


def env_list_ok(rules, envs):
    for r in rules:
        if r.get("required") and not any(rule_ok(r, e) for e in envs):
            return False
    return all(any(rule_ok(r, e) for r in rules) for e in envs)


def mount_ok(constraints, m):
    for c in constraints:
        src = c["source"]
        if src.startswith("sandbox://"):
            ok = re.match(anchor(src.replace("sandbox://", SANDBOX, 1)), m["source"])
        else:
            ok = src == m["source"]
        if (ok and c["type"] == m["type"] and m["destination"] and
                c["destination"] == m["destination"] and
                sorted(c["options"]) == sorted(m["options"])):
            return True
    return False


def admit(policy, req):
    """Returns None when admitted, else the first narrowing step that failed."""
    cands = [c for c in policy["containers"]
             if [c["layers"][len(c["layers"]) - 1 - i] for i in range(len(c["layers"]))] == req["layers_overlay"]]
    if not cands:
        return "no policy container has these layers"
    u = req["user"]

    def user_ok(c):
        pol = c["user"]
        if pol["umask"] != u["umask"]:
            return False
        idn = pol["user_idname"]
        return (idn["strategy"] == "any" or (idn["strategy"] == "id" and idn["pattern"] == u["id"])
                or (idn["strategy"] == "name" and idn["pattern"] == u["name"]))
    cands = [c for c in cands if
             (not c["no_new_privileges"] or req["no_new_privileges"]) and user_ok(c) and
             (not req["privileged"] or c["allow_elevated"]) and
             c["working_dir"] == req["working_dir"] and c["command"] == req["args"] and
             all(mount_ok(c["mounts"], m) for m in req["mounts"]) and
             c["seccomp_profile_sha256"] == ""]
    if not cands:
        return "command, working dir, mounts, user or privilege not allowed"
    envs = req["env"]
    if policy["allow_environment_variable_dropping"]:
        subsets = [frozenset(e for e in envs if any(rule_ok(r, e) for r in c["env_rules"])) for c in cands]
        best = max(len(s) for s in subsets)
        largest = {s for s in subsets if len(s) == best}
        if len(largest) != 1:
            return "ambiguous environment"
        envs = sorted(next(iter(largest)))
    cands = [c for c in cands if env_list_ok(c["env_rules"], envs)]
    if not cands:
        return "environment not allowed (a required rule is unmet or a variable matches no rule)"
    caps = req["caps"]
    if policy["allow_capability_dropping"]:
        filtered = [{k: {x for x in caps[k] if x in c["capabilities"][k]} for k in caps} for c in cands]
        best = max(sum(len(v) for v in f.values()) for f in filtered)
        largest = [f for f in filtered if sum(len(v) for v in f.values()) == best]
        if any(f != largest[0] for f in largest):
            return "ambiguous capabilities"
        caps = largest[0]
    cands = [c for c in cands if all(set(c["capabilities"][k]) == set(caps[k]) and
                                     len(c["capabilities"][k]) == len(caps[k]) for k in caps)]
    if not cands:
        return "capabilities not allowed"
    if len({c["allow_stdio_access"] for c in cands}) != 1:
        return "undecidable stdio access"
    return None


def parse_policy(text):
    pol = {}
    for line in text.split("\n"):
        m = re.match(r"^(containers|allow_environment_variable_dropping|allow_capability_dropping) := (.*)$", line)
        if m:
            pol[m.group(1)] = json.loads(m.group(2))
    return pol


def requests(arm, facts, unpriv_caps, priv_caps):
    g, vols = container_group(arm)
    out = []
    for c in g["containers"]:
        p = c["properties"]
        f = facts[p["image"]]
        cfg = f["config"]
        args, tenv, env = process(p, cfg)
        mounts = volume_mounts(p, vols, SANDBOX)
        mounts.append({"destination": "/etc/resolv.conf", "type": "bind",
                       "source": f"{SANDBOX}/tmp/atlas/resolvconf/abc", "options": ["rbind", "rshared", "rw"]})
        priv = bool((p.get("securityContext") or {}).get("privileged"))
        base = priv_caps if priv else unpriv_caps
        caps = {"bounding": set(base), "effective": set(base), "permitted": set(base),
                "inheritable": set(base) if priv else set(), "ambient": set()}
        out.append({"name": c["name"], "layers_overlay": list(reversed(f["layer_roothashes"])),
                    "args": args, "env": env, "working_dir": cfg.get("WorkingDir") or "/",
                    "mounts": mounts, "privileged": priv, "no_new_privileges": False,
                    "user": {"id": "0", "name": "root", "umask": "0022"}, "caps": caps,
                    "template_env": tenv})
    return out


def main():
    args = sys.argv[1:]
    mutate = None
    if "--mutate" in args:
        i = args.index("--mutate")
        mutate = args[i + 1]
        del args[i:i + 2]
    policy = parse_policy(open(args[0]).read())
    arm = json.load(open(args[1]))
    facts = {}
    for f in args[2:]:
        d = json.load(open(f))
        facts[d["image"]] = d
    pause = [c for c in policy["containers"] if c["name"] == "pause-container"][0]
    unpriv = pause["capabilities"]["bounding"]
    priv = [c for c in policy["containers"] if c["allow_elevated"]]
    priv_caps = priv[0]["capabilities"]["bounding"] if priv else unpriv
    reqs = requests(arm, facts, unpriv, priv_caps)
    reqs.append({"name": "pause-container", "layers_overlay": list(reversed(pause["layers"])),
                 "args": ["/pause"], "env": PAUSE_ENV, "working_dir": "/", "mounts": [],
                 "privileged": False, "no_new_privileges": False,
                 "user": {"id": "0", "name": "root", "umask": "0022"},
                 "caps": {k: set(v) for k, v in pause["capabilities"].items()}, "template_env": []})
    def mutated(spec):
        kind, name = spec.split(":", 1)
        out = json.loads(json.dumps(reqs, default=sorted))
        for x in out:
            x["caps"] = {k: set(v) for k, v in x["caps"].items()}
        r = [x for x in out if x["name"] == name][0]
        if kind == "layer":
            r["layers_overlay"][0] = "0" * 64
        elif kind == "command":
            r["args"] = r["args"] + ["--evil"]
        elif kind == "env":
            victim = r["template_env"][0]
            r["env"] = [e + "x" if e == victim else e for e in r["env"]]
        elif kind == "privileged":
            r["privileged"] = True
            r["caps"] = {"bounding": set(priv_caps), "effective": set(priv_caps),
                         "permitted": set(priv_caps), "inheritable": set(priv_caps), "ambient": set()}
        else:
            sys.exit(f"unknown mutation {kind}")
        return r

    if mutate and "," in mutate:
        admitted = 0
        for spec in mutate.split(","):
            r = mutated(spec)
            why = admit(policy, r)
            print(f"{spec}: " + ("ADMITTED" if why is None else f"denied ({why})"))
            admitted += why is None
        sys.exit(1 if admitted else 0)
    if mutate:
        r = mutated(mutate)
        reqs = [r if x["name"] == r["name"] else x for x in reqs]
    bad = 0
    for r in reqs:
        why = admit(policy, r)
        print(f"admit {r['name']}" if why is None else f"deny {r['name']}: {why}")
        bad += why is not None
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
