#!/usr/bin/env python3
"""Builds test images for `nutgen image inspect` from scratch (stdlib only,
plus the zstd CLI for zstd layers): OCI image layouts (directories), the same
as oci-archive tars, docker-save archives, multi-platform indexes, and broken
variants, each broken one differing from a good image by exactly one defect.

Usage: mkoci.py OUTDIR [VECTORDIR]
  writes OUTDIR/<case> and OUTDIR/expect.json; with VECTORDIR
  (tests/data/vectors) also OUTDIR/vectors, an image made of golden layer
  vectors whose expected roots come from VECTORDIR/layer-hashes.tsv (hcsshim
  tar2ext4 + dm-verity), an oracle independent of nutgen.

The facts each good image must yield are computed here independently of
nutgen (digests with hashlib, diff_ids over the uncompressed tar) and written
to expect.json for the test to compare against.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

OUT = sys.argv[1]
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_ZST = "application/vnd.oci.image.layer.v1.tar+zstd"
HAVE_ZSTD = shutil.which("zstd") is not None
expect = {}


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def layer_tar(files):
    """files: list of (name, kind, data) kind in file/dir/symlink."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in files:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            ti.uid = ti.gid = 0
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data
                t.addfile(ti)
            else:
                ti.mode = 0o644
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


def compress(raw, how):
    if how == "gzip":
        return gzip.compress(raw, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c", "-3"], input=raw, stdout=subprocess.PIPE,
                              check=True).stdout
    return raw


L1 = layer_tar([("etc", "dir", None), ("etc/hostname", "file", b"mint\n"),
                ("usr", "dir", None), ("usr/bin", "dir", None),
                ("usr/bin/tool", "file", b"#!/bin/sh\necho hi\n" * 50)])
L2 = layer_tar([("app", "dir", None), ("app/main.py", "file", b"print('mint')\n"),
                ("app/link", "symlink", "main.py")])
L3 = layer_tar([("data", "dir", None), ("data/big", "file", bytes(range(256)) * 400)])
LAYERS = {"l1": L1, "l2": L2, "l3": L3}


def dumps(o):
    return json.dumps(o, indent=2).encode()


class Layout:
    def __init__(self):
        self.blobs = {}

    def blob(self, b):
        d = sha(b)
        self.blobs[d] = b
        return d

    def image(self, layers, arch="amd64", cfg_extra=None, variant=None):
        """layers: list of (name, compression). Returns manifest descriptor."""
        descs, diff_ids = [], []
        for name, how in layers:
            raw = LAYERS[name]
            b = compress(raw, how)
            descs.append({"mediaType": {"gzip": MT_GZ, "zstd": MT_ZST}.get(how, MT_TAR),
                          "digest": self.blob(b), "size": len(b)})
            diff_ids.append(sha(raw))
        cfg = {"architecture": arch, "os": "linux",
               "config": {"Env": ["PATH=/usr/bin:/bin", "MINT=1"], "Entrypoint": ["/app/run"],
                          "Cmd": None, "WorkingDir": "/app", "User": "1000:1000"},
               "rootfs": {"type": "layers", "diff_ids": diff_ids},
               "history": [{"created_by": "test"}]}
        if variant:
            cfg["variant"] = variant
        if cfg_extra:
            cfg_extra(cfg)
        cb = dumps(cfg)
        man = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
               "config": {"mediaType": MT_CONFIG, "digest": self.blob(cb), "size": len(cb)},
               "layers": descs}
        mb = dumps(man)
        d = {"mediaType": MT_MANIFEST, "digest": self.blob(mb), "size": len(mb)}
        self.last = {"manifest": man, "config": cfg, "config_digest": sha(cb),
                     "diff_ids": diff_ids, "layers": descs}
        return d

    def write(self, path, index):
        os.makedirs(os.path.join(path, "blobs", "sha256"))
        with open(os.path.join(path, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion": "1.0.0"}')
        with open(os.path.join(path, "index.json"), "wb") as f:
            f.write(dumps(index) if isinstance(index, dict) else index)
        for d, b in self.blobs.items():
            with open(os.path.join(path, "blobs", "sha256", d[7:]), "wb") as f:
                f.write(b)


def index_of(*descs):
    return {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": list(descs)}


def tar_dir(src, dst, how=None, extra=None):
    """oci-archive: the layout directory as a tar (members sorted)."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.GNU_FORMAT) as t:
        for root, dirs, files in sorted(os.walk(src)):
            dirs.sort()
            for n in sorted(files):
                p = os.path.join(root, n)
                t.add(p, arcname=os.path.relpath(p, src), recursive=False)
        if extra:
            extra(t)
    with open(dst, "wb") as f:
        f.write(compress(bio.getvalue(), how))


def record(case, lay, ref):
    m = lay.last
    expect[case] = {"manifest_digest": ref["digest"], "config_digest": m["config_digest"],
                    "diff_ids": m["diff_ids"],
                    "digests": [l["digest"] for l in m["layers"]],
                    "media_types": [l["mediaType"] for l in m["layers"]],
                    "sizes": [l["size"] for l in m["layers"]]}


def good_layout(path, layers=(("l1", "gzip"), ("l2", "plain"), ("l3", "gzip")),
                name="example.azurecr.io/nut/mint:1", mutate_cfg=None):
    lay = Layout()
    d = lay.image(list(layers), cfg_extra=mutate_cfg)
    if name:
        d["annotations"] = {"org.opencontainers.image.ref.name": name}
    lay.write(path, index_of(d))
    return lay, d


os.makedirs(OUT, exist_ok=True)
# --- good images -----------------------------------------------------------
lay, d = good_layout(os.path.join(OUT, "layout"))
record("layout", lay, d)
tar_dir(os.path.join(OUT, "layout"), os.path.join(OUT, "archive.tar"))
tar_dir(os.path.join(OUT, "layout"), os.path.join(OUT, "archive.tar.gz"), "gzip")
expect["archive.tar"] = expect["archive.tar.gz"] = expect["layout"]
lay, d = good_layout(os.path.join(OUT, "tagonly"), name="1.0")
record("tagonly", lay, d)
if HAVE_ZSTD:
    lay, d = good_layout(os.path.join(OUT, "zstd"), layers=(("l1", "zstd"), ("l2", "gzip")))
    record("zstd", lay, d)

# Multi-platform, nested the way crane writes it: index.json → index blob.
lay = Layout()
arm = lay.image([("l2", "gzip")], arch="arm64", variant="v8")
arm["platform"] = {"os": "linux", "architecture": "arm64", "variant": "v8"}
arm_last = lay.last
amd = lay.image([("l1", "gzip"), ("l3", "plain")])
amd["platform"] = {"os": "linux", "architecture": "amd64"}
amd_last = lay.last
att = {"mediaType": MT_MANIFEST, "digest": lay.blob(b'{"schemaVersion":2}'), "size": 19,
       "platform": {"os": "unknown", "architecture": "unknown"}}
ib = dumps(index_of(arm, amd, att))
top = {"mediaType": MT_INDEX, "digest": lay.blob(ib), "size": len(ib),
       "annotations": {"io.containerd.image.name": "docker.io/library/multi:latest"}}
lay.write(os.path.join(OUT, "multi"), index_of(top))
lay.last = amd_last
record("multi", lay, amd)
lay.last = arm_last
record("multi-arm64", lay, arm)

# Two images in one layout, told apart by their ref names (a bare tag and a
# full name), with a duplicate entry of the first.
lay = Layout()
one = lay.image([("l1", "gzip")])
one_last = lay.last
two = lay.image([("l2", "gzip")])
two_last = lay.last
e1 = dict(one, annotations={"org.opencontainers.image.ref.name": "1.0"})
e1b = dict(one, annotations={"org.opencontainers.image.ref.name": "example.com/app:latest"})
e2 = dict(two, annotations={"org.opencontainers.image.ref.name": "example.com/app:2.0"})
lay.write(os.path.join(OUT, "two"), index_of(e1, e1b, e2))
lay.last = one_last
record("two-1.0", lay, one)
lay.last = two_last
record("two-2.0", lay, two)

# docker save (legacy layout): <id>/layer.tar, <config hex>.json, manifest.json.
def docker_save(dst, layers_path_fn=None, dup_symlink=False, tags=("registry.example/app:2",),
                tamper_config=False):
    bio = io.BytesIO()
    raws = [L1, L2] + ([L1] if dup_symlink else [])
    cfg = {"architecture": "amd64", "os": "linux",
           "config": {"Env": ["A=b"], "Entrypoint": None, "Cmd": ["/bin/sh"],
                      "WorkingDir": "", "User": ""},
           "rootfs": {"type": "layers", "diff_ids": [sha(r) for r in raws]}}
    cb = dumps(cfg)
    paths = ["%064x/layer.tar" % (i + 1) for i in range(len(raws))]
    if layers_path_fn:
        paths = layers_path_fn(paths)
    man = [{"Config": sha(cb)[7:] + ".json", "RepoTags": list(tags), "Layers": paths}]
    with tarfile.open(fileobj=bio, mode="w") as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        add(sha(cb)[7:] + ".json", cb + (b" " if tamper_config else b""))
        for i, r in enumerate(raws[:2]):
            add("%064x/layer.tar" % (i + 1), r)
        if dup_symlink:
            ti = tarfile.TarInfo("%064x/layer.tar" % 3)
            ti.type = tarfile.SYMTYPE
            ti.linkname = "../%064x/layer.tar" % 1
            t.addfile(ti)
        add("manifest.json", json.dumps(man).encode())
    with open(dst, "wb") as f:
        f.write(bio.getvalue())
    return cfg, sha(cb), [sha(r) for r in raws]


cfg, cd, ids = docker_save(os.path.join(OUT, "docker.tar"), dup_symlink=True)
expect["docker.tar"] = {"config_digest": cd, "diff_ids": ids, "digests": ids}

# --- broken variants: one defect each ---------------------------------------
def variant(name, fn):
    p = os.path.join(OUT, "bad", name)
    shutil.copytree(os.path.join(OUT, "layout"), p, symlinks=True)
    fn(p)


good = expect["layout"]
B = lambda p, d: os.path.join(p, "blobs", "sha256", d[7:])


def flip(path, at=None):
    b = bytearray(open(path, "rb").read())
    b[len(b) // 2 if at is None else at] ^= 1
    open(path, "wb").write(bytes(b))


variant("flip-layer", lambda p: flip(B(p, good["digests"][2])))
variant("flip-config", lambda p: flip(B(p, good["config_digest"])))
variant("flip-manifest", lambda p: flip(B(p, good["manifest_digest"])))
variant("missing-layer", lambda p: os.unlink(B(p, good["digests"][1])))


def symlink_layer(p):
    path = B(p, good["digests"][1])
    outside = os.path.join(OUT, "outside-blob")
    shutil.copy(path, outside)
    os.unlink(path)
    os.symlink(outside, path)


variant("symlink-layer", symlink_layer)


def symlink_dir(p):
    shutil.move(os.path.join(p, "blobs"), os.path.join(OUT, "outside-blobs"))
    os.symlink(os.path.join(OUT, "outside-blobs"), os.path.join(p, "blobs"))


variant("symlink-blobs-dir", symlink_dir)
def fifo_layer(p):
    os.unlink(B(p, good["digests"][1]))
    os.mkfifo(B(p, good["digests"][1]))


variant("fifo-layer", fifo_layer)
variant("malformed-index", lambda p: open(os.path.join(p, "index.json"), "w").write('{"schemaVersion": 2, "manifests": [}'))
variant("huge-index", lambda p: open(os.path.join(p, "index.json"), "w").write(
    '{"schemaVersion": 2, "pad": "' + "x" * (5 << 20) + '", "manifests": []}'))


# Variants whose defect sits below a consistent chain of digests.
def rebuild(p, edit_manifest=None, edit_config=None, raw_manifest=None):
    """Re-writes config/manifest/index after an edit so that only the edit is wrong."""
    man = json.loads(open(B(p, good["manifest_digest"]), "rb").read())
    cfg = json.loads(open(B(p, good["config_digest"]), "rb").read())
    if edit_config:
        edit_config(cfg)
    cb = dumps(cfg)
    open(B(p, sha(cb)), "wb").write(cb)
    man["config"]["digest"], man["config"]["size"] = sha(cb), len(cb)
    if edit_manifest:
        edit_manifest(man)
    mb = raw_manifest(man) if raw_manifest else dumps(man)
    open(B(p, sha(mb)), "wb").write(mb)
    idx = index_of({"mediaType": MT_MANIFEST, "digest": sha(mb), "size": len(mb)})
    open(os.path.join(p, "index.json"), "wb").write(dumps(idx))
    return sha(mb)


variant("extra-layer", lambda p: rebuild(p, edit_manifest=lambda m: m["layers"].append(m["layers"][0])))
variant("wrong-diffid", lambda p: rebuild(p, edit_config=lambda c: c["rootfs"]["diff_ids"].__setitem__(0, sha(b"other"))))
variant("wrong-mediatype", lambda p: rebuild(p, edit_manifest=lambda m: m["layers"][1].__setitem__("mediaType", MT_GZ)))
variant("escape-digest", lambda p: rebuild(p, edit_manifest=lambda m: m["layers"][0].__setitem__("digest", "sha256:../../../../etc/passwd")))
variant("dup-key-manifest", lambda p: rebuild(p, raw_manifest=lambda m: dumps(m)[:-2] + b',\n  "Layers": []\n}'))
variant("wrong-size", lambda p: rebuild(p, edit_manifest=lambda m: m["layers"][0].__setitem__("size", m["layers"][0]["size"] + 1)))
variant("huge-config", lambda p: rebuild(p, edit_config=lambda c: c.__setitem__("pad", "x" * (9 << 20))))
variant("wrong-platform", lambda p: rebuild(p, edit_config=lambda c: c.__setitem__("architecture", "arm64")))


# Archives with hostile members.
def evil_tar(dst, fn):
    tar_dir(os.path.join(OUT, "layout"), dst, extra=fn)


def add_member(name, data=b"x", kind=None):
    def f(t):
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        if kind:
            ti.type = kind
            ti.size = 0
            ti.linkname = data.decode()
            t.addfile(ti)
        else:
            t.addfile(ti, io.BytesIO(data))
    return f


os.makedirs(os.path.join(OUT, "badtar"))
evil_tar(os.path.join(OUT, "badtar", "dotdot.tar"), add_member("../evil"))
evil_tar(os.path.join(OUT, "badtar", "absolute.tar"), add_member("/etc/evil"))
evil_tar(os.path.join(OUT, "badtar", "duplicate.tar"), add_member("index.json", b"{}"))
evil_tar(os.path.join(OUT, "badtar", "device.tar"), add_member("dev", b"", tarfile.CHRTYPE))
docker_save(os.path.join(OUT, "badtar", "docker-dotdot.tar"),
            layers_path_fn=lambda ps: ["../" + ps[0]] + ps[1:])
docker_save(os.path.join(OUT, "badtar", "docker-flip-config.tar"), tamper_config=True)


def symlink_out(t):
    ti = tarfile.TarInfo("blobs/sha256/" + good["digests"][0][7:])
    ti.type = tarfile.SYMTYPE
    ti.linkname = "../../../outside"
    t.addfile(ti)


# An archive whose layer blob is a symlink pointing outside the archive (the
# real blob member is left out so the link is the only one of its name).
def symlink_archive(dst):
    src = os.path.join(OUT, "layout")
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w") as t:
        for root, dirs, files in sorted(os.walk(src)):
            for n in sorted(files):
                p = os.path.join(root, n)
                if n == good["digests"][0][7:]:
                    continue
                t.add(p, arcname=os.path.relpath(p, src), recursive=False)
        symlink_out(t)
    open(dst, "wb").write(bio.getvalue())


symlink_archive(os.path.join(OUT, "badtar", "symlink-out.tar"))

# An image of golden vectors: roots known from the reference implementation.
if len(sys.argv) > 2:
    vd = sys.argv[2]
    roots = {}
    for line in open(os.path.join(vd, "layer-hashes.tsv")).read().splitlines()[1:]:
        name, _, root = line.split("\t")
        roots[name] = root
    picks = [("realistic-small.tar.gz", "plain", "realistic-small.tar.gz"),
             ("nested-dirs.tar", "plain", "nested-dirs.tar"),
             ("hardlinks.tar", "zstd" if HAVE_ZSTD else "gzip", "hardlinks.tar"),
             ("xattrs.tar", "gzip", "xattrs.tar")]
    for name, how, key in picks:
        LAYERS[name] = open(os.path.join(vd, "layers", name), "rb").read()
    lay = Layout()
    # realistic-small.tar.gz is stored gzip'd already: its media type says gzip
    # and its diff_id is that of the uncompressed tar.
    d = lay.image([(n, h) for n, h, _ in picks])
    m = lay.last
    gz = gzip.decompress(LAYERS["realistic-small.tar.gz"])
    m["layers"][0]["mediaType"] = MT_GZ
    m["config"]["rootfs"]["diff_ids"][0] = sha(gz)
    cb = dumps(m["config"])
    m["manifest"]["config"].update({"digest": lay.blob(cb), "size": len(cb)})
    mb = dumps(m["manifest"])
    d = {"mediaType": MT_MANIFEST, "digest": lay.blob(mb), "size": len(mb),
         "annotations": {"org.opencontainers.image.ref.name": "example.com/vectors:1"}}
    lay.write(os.path.join(OUT, "vectors"), index_of(d))
    expect["vectors"] = {"manifest_digest": d["digest"], "config_digest": sha(cb),
                         "diff_ids": m["config"]["rootfs"]["diff_ids"],
                         "digests": [l["digest"] for l in m["layers"]],
                         "roots": [roots[k] for _, _, k in picks]}

with open(os.path.join(OUT, "expect.json"), "w") as f:
    json.dump(expect, f, indent=1, sort_keys=True)
