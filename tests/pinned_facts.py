#!/usr/bin/env python3
"""usage: pinned_facts.py RENDER_DIR DEPLOYMENT_DATA_DIR

Writes RENDER_DIR/facts-{skr,encfs,caddy,mint}.json: the image facts
DEPLOYMENT_DATA_DIR/image-NAME.json with "image" set to the reference the
rendered arm-template.json starts (pinned by digest), in template container
order, so that the admission harnesses match facts to containers."""
import json
import os
import sys

r, d = sys.argv[1], sys.argv[2]
arm = json.load(open(os.path.join(r, "arm-template.json")))
g = [x for x in arm["resources"] if x["type"] == "Microsoft.ContainerInstance/containerGroups"][0]
imgs = [c["properties"]["image"] for c in g["properties"]["containers"]]
for k, img in zip(["skr", "encfs", "caddy", "mint"], imgs):
    f = json.load(open(os.path.join(d, f"image-{k}.json")))
    f["image"] = img
    json.dump(f, open(os.path.join(r, f"facts-{k}.json"), "w"))
