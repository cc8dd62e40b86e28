#!/usr/bin/env python3
"""Independent oracle: the policy az confcom would compute for an ARM template,
from model_check.py (a re-derivation of confcom's rules written from
../shared/research/confcom-policy.md, copied to tests/data/confcom; it matches
confcom's own expected outputs byte for byte), with one image-facts file per
image.  usage: policy_oracle.py [--nutgen] ARM.json PROFILE DEBUG(0|1) FACTS.json...
--nutgen applies nutgen's one deliberate difference (docs/deployment.md): every
non-empty template env value is a required rule.
Prints the policy of the first container group, no trailing newline."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "confcom"))
import model_check as mc  # noqa: E402

ERAS = {"current": "current", "late-1x": "api011_nosignals", "1x-svn1": "api010", "1x": "api010_svn4"}
# confcom-policy.md §0: 1.x with infrastructure svn "4" (the seed's live policy header)
mc.ERAS["api010_svn4"] = dict(mc.ERAS["api010"], svn="4")


def main():
    args = sys.argv[1:]
    nutgen = args[0] == "--nutgen"
    if nutgen:
        args = args[1:]
    arm = json.load(open(args[0]))
    era, debug = ERAS[args[1]], args[2] == "1"
    facts = {}
    for f in args[3:]:
        d = json.load(open(f))
        facts[d["image"]] = d
    orig = mc.build_container

    def build(cprops, name, volumes, _unused, era_, opts, params, variables):
        image, _ = mc.resolve(cprops["image"], params, variables)
        c = orig(cprops, name, volumes, facts[image], era_, opts, params, variables)
        if nutgen:
            pinned = {f"{e['name']}={e['value']}" for e in cprops.get("environmentVariables", [])
                      if e.get("value")}
            for r in c["env_rules"]:
                if r["strategy"] == "string" and r["pattern"] in pinned:
                    r["required"] = True
        return c

    mc.build_container = build
    sys.stdout.write(mc.policy_text(arm, None, era, {"debug_mode": debug, "approve_wildcards": True})[0])


if __name__ == "__main__":
    main()
