#!/usr/bin/env python3
"""Small sample images for `make demo` (Python stdlib only, no network):
one OCI image layout tar per container of the example deployment, each with
one layer of a few files and a config shaped like the real image's
(entrypoint, command, environment), named with the deployment's reference in
index.json so `nutgen build` finds it. Deterministic: fixed mtimes and order.

usage: mkimages.py OUTDIR   (writes OUTDIR/<container>.oci.tar)"""
import hashlib
import io
import json
import os
import sys
import tarfile

IMAGES = {
    "skr": ("mcr.microsoft.com/aci/skr:2.12",
            {"Entrypoint": ["/skr.sh"], "Cmd": None, "Env": ["PATH=/usr/bin:/bin"]}),
    "encfs": ("mcr.microsoft.com/aci/encfs:2.12",
              {"Entrypoint": None, "Cmd": None, "Env": ["PATH=/usr/bin:/bin"]}),
    "caddy": ("caddy:2",
              {"Entrypoint": None, "Cmd": ["caddy", "run", "--config", "/etc/caddy/Caddyfile"],
               "Env": ["PATH=/usr/bin:/bin", "XDG_DATA_HOME=/data"]}),
    "mint": ("ghcr.io/aljazceru/nutshell-tee:latest",
             {"Entrypoint": ["/entrypoint-tee.sh"], "Cmd": ["poetry", "run", "mint"],
              "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"],
              "WorkingDir": "/app"}),
}


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def tar_bytes(entries):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o755
                t.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


def image(key, ref, cfg):
    layer = tar_bytes([("app/", None),
                       ("app/README", ("sample %s image for the nutgen demo\n" % key).encode()),
                       ("app/run.sh", b"#!/bin/sh\necho hello\n")])
    config = {"architecture": "amd64", "os": "linux",
              "config": dict({"WorkingDir": "/", "User": ""}, **cfg),
              "rootfs": {"type": "layers", "diff_ids": [sha(layer)]}}
    cb = json.dumps(config, indent=2).encode()
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": sha(cb), "size": len(cb)},
           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                       "digest": sha(layer), "size": len(layer)}]}
    mb = json.dumps(man, indent=2).encode()
    index = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(mb),
         "size": len(mb), "annotations": {"io.containerd.image.name": ref,
                                          "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[-1]}}]}
    files = [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
             ("index.json", json.dumps(index, indent=2).encode())]
    for b in sorted([layer, cb, mb], key=sha):
        files.append(("blobs/sha256/" + sha(b)[7:], b))
    return tar_bytes(files)


out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for key, (ref, cfg) in IMAGES.items():
    with open(os.path.join(out, key + ".oci.tar"), "wb") as f:
        f.write(image(key, ref, cfg))
