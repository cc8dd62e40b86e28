#!/usr/bin/env python3
"""Independent oracle: the policy az confcom would compute for an ARM template,
from model_check.py (a re-derivation of confcom's rules written from
../shared/research/confcom-policy.md, copied to tests/data/confcom; it matches
confcom's own expected outputs byte for byte), with one image-facts file per
image.  usage: policy_oracle.py ARM.json PROFILE DEBUG(0|1) FACTS.json...
Prints the policy of the first container group, no trailing newline."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "confcom"))
import model_check as mc  # noqa: E402

ERAS = {"current": "current", "late-1x": "api011_nosignals", "1x-svn1": "api010"}


def main():
    arm = json.load(open(sys.argv[1]))
    era, debug = ERAS[sys.argv[2]], sys.argv[3] == "1"
    facts = {}
    for f in sys.argv[4:]:
        d = json.load(open(f))
        facts[d["image"]] = d
    orig = mc.build_container

    def build(cprops, name, volumes, _unused, era_, opts, params, variables):
        image, _ = mc.resolve(cprops["image"], params, variables)
        return orig(cprops, name, volumes, facts[image], era_, opts, params, variables)

    mc.build_container = build
    sys.stdout.write(mc.policy_text(arm, None, era, {"debug_mode": debug})[0])


if __name__ == "__main__":
    main()
