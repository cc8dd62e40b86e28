#!/usr/bin/env python3
"""Admission of a container group by Microsoft's own enforcement Rego.

Loads hcsshim's framework.rego and api.rego (tests/data/rego, unmodified
copies; the @@..._VERSION@@ placeholders substituted as hcsshim's build
does) next to POLICY.rego as module `policy`, with the base data the
guest's Go enforcer supplies (guest-constants.json), and evaluates them with
tests/rego (our interpreter). It replays what the guest (GCS) asks for each
container the ARM template starts, in start order, pause container first:
  mount_device per layer  (target /run/mounts/scsi/mN, the layer roothash)
  mount_overlay           (layer paths top-most first, /run/gcs/c/ID/rootfs)
  create_container        (args, env, working dir, CRI default + volume +
                           resolv.conf mounts, privilege, capabilities, user)
(not modelled: the /etc/hosts and /etc/hostname mounts the guest adds to
defaultMounts at run time, seccomp profiles, devices, ACI's exact extra
env values), and applies each result like securitypolicyenforcer_rego.go: data.policy.X,
else enforcement_point_info defaults, then the returned metadata operations.

usage: rego_admission.py POLICY.rego ARM.json FACTS.json... [--mutate KIND:NAME[,...]]
Prints "admit NAME" or "deny NAME at POINT: errors". Exit 0 when all are
admitted. With --mutate each mutation (layer, command, env, privileged) is
applied alone to a fresh guest
(layerswap: the top layer replaced by another container's); exit 0 only when every mutated container is
denied. --expect-deny NAME,... inverts the expectation for those containers
(e.g. a confcom policy whose command is null can never be admitted; an
exec entry is named "exec NAME ARGV"). --exec NAME:ARGV,... also asks
exec_in_container for a process in a started container (space-split argv)."""
import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from aci_requests import PAUSE_ENV, container_group, process, volume_mounts  # noqa: E402
from rego import Interpreter, RegoError  # noqa: E402
from rego.evaluator import UNDEF  # noqa: E402
from rego.values import to_json  # noqa: E402

DATA = os.path.join(HERE, "data", "rego")
CONST = json.load(open(os.path.join(DATA, "guest-constants.json")))
SANDBOX_ID = "a1" * 32


class Denied(Exception):
    def __init__(self, point, why):
        super().__init__(f"{point}: {why}")
        self.point, self.why = point, why


class Guest:
    """The Go enforcer's loop around the Rego (securitypolicyenforcer_rego.go)."""

    def __init__(self, policy_text):
        self.it = Interpreter()
        self.it.add_module(policy_text, "policy.rego")
        fw = open(os.path.join(DATA, "framework.rego")).read()
        api = open(os.path.join(DATA, "api.rego")).read()
        self.it.add_module(fw.replace("@@FRAMEWORK_VERSION@@", CONST["framework_version"], 1), "framework.rego")
        self.it.add_module(api.replace("@@API_VERSION@@", CONST["api_version"], 1), "api.rego")
        self.metadata = {"operatingsystem": {"ostype": "linux"}}
        self.scsi = 0

    def data(self):
        d = dict(CONST["data"])
        d["metadata"] = self.metadata
        return d

    def query(self, pkg, rule, inp):
        v = self.it.query((pkg, rule), inp, self.data())
        if v is UNDEF:
            return {}
        v = to_json(v)
        if not isinstance(v, dict):
            raise RegoError(f"{pkg}.{rule} is not an object")
        for op in v.pop("metadata", []):
            self.apply_op(op)
        return v

    def apply_op(self, op):
        name, action = op["name"], op["action"]
        if op.get("type", "map") == "set":
            s = self.metadata.setdefault(name, [])
            if action == "add" and op["value"] not in s:
                s.append(op["value"])
            elif action == "remove":
                self.metadata[name] = [x for x in s if x != op["value"]]
            return
        m = self.metadata.setdefault(name, {})
        if action == "add":
            if op["key"] in m:
                raise Denied(name, f"metadata key {op['key']} already exists")
            m[op["key"]] = op["value"]
        elif action == "update":
            m[op["key"]] = op["value"]
        elif action == "remove":
            m.pop(op["key"], None)
        else:
            raise RegoError(f"unknown metadata action {action}")

    def enforce(self, point, inp):
        res = self.query("policy", point, inp)
        info = self.query("framework", "enforcement_point_info", {"name": point, "rule": point})
        for k in ("unknown", "invalid", "version_missing"):
            if info.get(k) is not False:
                raise Denied(point, f"enforcement point {k}")
        if not res:
            if info["available"]:
                raise Denied(point, f"rule for {point} is missing from policy")
            if info["use_framework"]:
                res = self.query("framework", point, inp)
            else:
                res = dict(info["default_results"])
        else:
            res = {**info["default_results"], **res}
        if res.get("allowed") is not True:
            if not isinstance(res.get("allowed"), bool):
                raise Denied(point, "result has no boolean allowed")
            r = self.query("policy", "reason", {**inp, "rule": point})
            raise Denied(point, ", ".join(sorted(r.get("errors", []))) or "denied")
        return res

    def start(self, req):
        """One container as the GCS starts it; raises Denied."""
        paths = []
        for h in req["layers"]:
            target = CONST["scsi_mount_fmt"].replace("%d", str(self.scsi))
            self.scsi += 1
            self.enforce("mount_device", {"target": target, "deviceHash": h,
                                          "mountPathRegex": CONST["scsi_mount_fmt"].replace("%d", "[0-9]+")})
            paths.append(target)
        root = f"{CONST['sandbox_root']}/{req['id']}"
        self.enforce("mount_overlay", {"containerID": req["id"], "layerPaths": list(reversed(paths)),
                                       "target": root + "/rootfs"})
        sandbox = f"{CONST['sandbox_root']}/{SANDBOX_ID}"
        res = self.enforce("create_container", {
            "containerID": req["id"], "argList": req["args"], "envList": req["env"],
            "workingDir": req["working_dir"], "sandboxDir": sandbox + "/sandboxMounts",
            "hugePagesDir": sandbox + "/hugepages", "mounts": req["mounts"], "devices": [],
            "privileged": req["privileged"], "noNewPrivileges": False,
            "user": req["user"], "groups": req["groups"], "umask": "0022",
            "capabilities": req["caps"], "seccompProfileSHA256": "",
            "isSandboxContainer": req["sandbox"]})
        # The guest starts the container with the kept env and caps; a dropped
        # pinned variable would already have failed its required rule.
        return res

    def exec_in(self, req, argv):
        """A process exec'd into a started container (e.g. a debug shell)."""
        return self.enforce("exec_in_container", {
            "containerID": req["id"], "argList": argv, "envList": req["env"],
            "workingDir": req["working_dir"], "noNewPrivileges": False,
            "user": req["user"], "groups": req["groups"], "umask": "0022",
            "capabilities": req["caps"]})


def image_user(cfg):
    """The user and groups the guest resolves from the image's User
    ("name", "uid", "name:group", "uid:gid"); root when empty. A name's
    numeric id and a uid's name come from the image's /etc/passwd, which
    facts do not carry, so those halves are placeholders that policies
    (strategy id or name, never both) do not compare."""
    u = (cfg.get("User") or "").strip()
    if not u:
        return {"id": "0", "name": "root"}, [{"id": "0", "name": "root"}]
    user, _, group = u.partition(":")

    def idname(x):
        if x in ("root", "0"):
            return {"id": "0", "name": "root"}
        return {"id": x, "name": f"uid-{x}"} if x.isdigit() else {"id": "65534", "name": x}
    return idname(user), [idname(group) if group else {"id": "0", "name": "root"}]


def cri_mounts(privileged):
    m = [x for x in CONST["data"]["defaultMounts"] if x["type"] != "cgroup2"]
    if privileged:
        pm = {(x["destination"], x["type"]): x for x in CONST["data"]["privilegedMounts"]}
        m = [pm.get((x["destination"], x["type"]), x) for x in m]
    return copy.deepcopy(m)


def caps(privileged, add=(), drop=()):
    d = CONST["data"]
    if privileged:
        c = d["defaultPrivilegedCapabilities"]
        return {"bounding": c, "effective": c, "inheritable": c, "permitted": c, "ambient": []}
    # securityContext add/drop change bounding, effective and permitted
    # (confcom-policy.md §2, capabilities)
    c = [x for x in d["defaultUnprivilegedCapabilities"] if x not in drop]
    c += [x for x in add if x not in c]
    return {"bounding": c, "effective": c, "inheritable": [], "permitted": c, "ambient": []}


def requests(arm, facts, pause_layers):
    g, vols = container_group(arm)
    out = [{"name": "pause-container", "id": SANDBOX_ID, "layers": pause_layers, "args": ["/pause"],
            "env": list(PAUSE_ENV), "working_dir": "/", "mounts": cri_mounts(False), "privileged": False,
            "caps": caps(False), "sandbox": True, "template_env": [],
            "user": {"id": "0", "name": "root"}, "groups": [{"id": "0", "name": "root"}]}]
    for n, c in enumerate(g["containers"]):
        p = c["properties"]
        f = facts[p["image"]]
        cfg = f["config"]
        args, tenv, env = process(p, cfg)
        sc = p.get("securityContext") or {}
        priv = bool(sc.get("privileged"))
        capsc = sc.get("capabilities") or {}
        mounts = cri_mounts(priv) + volume_mounts(p, vols, f"{CONST['sandbox_root']}/{SANDBOX_ID}/sandboxMounts")
        mounts.append({"destination": "/etc/resolv.conf", "type": "bind",
                       "source": f"{CONST['sandbox_root']}/{SANDBOX_ID}/sandboxMounts/tmp/atlas/resolvconf/{n}",
                       "options": ["rbind", "rshared", "rw"]})
        user, groups = image_user(cfg)
        out.append({"name": c["name"], "id": f"{n + 1:02x}" * 32, "user": user, "groups": groups, "layers": list(f["layer_roothashes"]),
                    "args": args, "env": env, "working_dir": cfg.get("WorkingDir") or "/", "mounts": mounts,
                    "privileged": priv,
                    "caps": caps(priv, capsc.get("add") or (), capsc.get("drop") or ()), "sandbox": False, "template_env": tenv})
    return out


def mutate(reqs, spec):
    kind, name = spec.split(":", 1)
    reqs = copy.deepcopy(reqs)
    r = [x for x in reqs if x["name"] == name]
    if not r:
        sys.exit(f"--mutate {spec}: no container {name}")
    r = r[0]
    if kind == "layer":
        r["layers"][-1] = "0" * 64
    elif kind == "layerswap":
        # a real layer of another container: mount_device admits it, the
        # overlay must not
        other = [x for x in reqs if x["name"] != name and x["layers"]][0]
        r["layers"][-1] = other["layers"][-1]
    elif kind == "command":
        r["args"] = r["args"] + ["--evil"]
    elif kind == "env":
        victim = (r["template_env"] or r["env"])[0]
        r["env"] = [e + "x" if e == victim else e for e in r["env"]]
    elif kind == "privileged":
        r["privileged"] = True
        r["caps"] = caps(True)
        r["mounts"] = [m for m in r["mounts"] if m["type"] not in ("sysfs", "cgroup")] + \
            [m for m in cri_mounts(True) if m["type"] in ("sysfs", "cgroup")]
    else:
        sys.exit(f"unknown mutation {kind}")
    return reqs


def run_group(policy_text, reqs, execs=()):
    """Starts every container in order on one guest, then runs the execs
    (NAME, argv); returns {name or "exec NAME ARGV": None|Denied}."""
    g = Guest(policy_text)
    out = {}
    for r in reqs:
        try:
            g.start(r)
            out[r["name"]] = None
        except Denied as e:
            out[r["name"]] = e
    for name, argv in execs:
        r = [x for x in reqs if x["name"] == name]
        if not r:
            sys.exit(f"--exec: no container {name}")
        key = f"exec {name} {' '.join(argv)}"
        try:
            g.exec_in(r[0], argv)
            out[key] = None
        except Denied as e:
            out[key] = e
    return out


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    opts = {}
    for o in ("--mutate", "--expect-deny", "--exec"):
        if o in args:
            i = args.index(o)
            opts[o] = args[i + 1].split(",")
            del args[i:i + 2]
    policy_text = open(args[0]).read()
    arm = json.load(open(args[1]))
    facts = {}
    for f in args[2:]:
        d = json.load(open(f))
        facts[d["image"]] = d
    import re
    m = re.search(r"^containers := (.*)$", policy_text, re.M)
    pause = [c for c in json.loads(m.group(1)) if c.get("name") == "pause-container"] if m else []
    # the pause image is ACI's; its layer is a fact of the platform, read from the policy
    pause_layers = pause[0]["layers"] if pause else []
    reqs = requests(arm, facts, pause_layers)
    if "--mutate" in opts:
        bad = 0
        for spec in opts["--mutate"]:
            res = run_group(policy_text, mutate(reqs, spec))
            e = res[spec.split(":", 1)[1]]
            print(f"{spec}: " + ("ADMITTED" if e is None else f"denied at {e.point} ({e.why})"))
            bad += e is None
        return 1 if bad else 0
    expect_deny = set(opts.get("--expect-deny", []))
    execs = [(x.split(":", 1)[0], x.split(":", 1)[1].split()) for x in opts.get("--exec", [])]
    res = run_group(policy_text, reqs, execs)
    bad = 0
    for name, e in res.items():
        print(f"admit {name}" if e is None else f"deny {name} at {e.point}: {e.why}")
        bad += (e is None) == (name in expect_deny)
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RegoError as e:
        print(f"rego_admission: interpreter: {e}", file=sys.stderr)
        sys.exit(3)
