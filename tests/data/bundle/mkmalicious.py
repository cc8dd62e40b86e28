#!/usr/bin/env python3
"""Writes the corpus of hostile bundles that tests/integration/bundle_malicious.sh
feeds to `nutgen verify` and `nutgen show`: each must be refused, naming why,
without writing anything. Made with Python's tarfile/gzip and with the
SPEC-derived writer specbundle.py (canonical prefixes, so the hostile part is
reached after a valid MANIFEST.json), never with nutgen itself.

usage: mkmalicious.py OUTDIR TARGET [KEY.pem]   (TARGET: an absolute path a
traversal would write to, the test checks that it never appears; KEY.pem: an
Ed25519 key whose signature of the manifest is included, so that verification
gets past the signatures to the hostile part)"""
import gzip
import hashlib
import io
import os
import sys
import tarfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import specbundle as sb  # noqa: E402

out = sys.argv[1]
target = sys.argv[2] if len(sys.argv) > 2 else "/tmp/nutgen-evil"
os.makedirs(out, exist_ok=True)
DATA = b"payload\n"


def manifest(members):
    return sb.manifest_bytes({
        "created": "2026-01-01T00:00:00Z", "format": "nutgen-bundle", "format_version": 1,
        "generator": "x", "serial": 1,
        "members": [{"name": n, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                    for n, d in members]})


MB = manifest([("data.bin", DATA)])
PREFIX = sb.member("MANIFEST.json", MB)
if len(sys.argv) > 3:
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(open(sys.argv[3], "rb").read(), None)
    kid, sig = sb.signature(key, MB)
    PREFIX += sb.member("SIGNATURES/%s.sig" % kid, sig)
END = b"\0" * 1024


def write(name, raw):
    with open(os.path.join(out, name), "wb") as f:
        f.write(raw)


def canon(name, tar):
    write(name, sb.gz(tar))


def pyfile(name, build, fmt=tarfile.PAX_FORMAT):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tf:
        build(tf)
    write(name, sb.gz(raw.getvalue()))


def tinfo(name, typ=tarfile.REGTYPE, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = typ
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def special(name, typ, **kw):
    """A pax 'x' header naming NAME, then a ustar block of type typ."""
    ti = tinfo(name, typ, **kw)
    ti.pax_headers = {"path": name}
    return ti.tobuf(tarfile.PAX_FORMAT)


# Written by Python's tarfile, no canonical prefix at all.
pyfile("py-traversal-dotdot.tgz", lambda tf: tf.addfile(
    tinfo("../" * 8 + target.lstrip("/"), size=1), io.BytesIO(b"x")))
pyfile("py-traversal-absolute.tgz", lambda tf: tf.addfile(tinfo(target, size=1), io.BytesIO(b"x")))
pyfile("py-symlink.tgz", lambda tf: tf.addfile(tinfo("MANIFEST.json", tarfile.SYMTYPE,
                                                     linkname="/etc/passwd")))
pyfile("py-gnu-longname.tgz", lambda tf: tf.addfile(tinfo("a" * 300, size=1), io.BytesIO(b"x")),
       tarfile.GNU_FORMAT)
pyfile("py-huge-pax-header.tgz", lambda tf: tf.addfile(
    tinfo("MANIFEST.json", size=1, pax_headers={"comment": "A" * (1 << 20)}), io.BytesIO(b"x")))

# After a canonical MANIFEST.json: the hostile member itself.
canon("symlink.tgz", PREFIX + special("data.bin", tarfile.SYMTYPE, linkname=target) + END)
canon("hardlink.tgz", PREFIX + special("data.bin", tarfile.LNKTYPE, linkname="MANIFEST.json") + END)
canon("device.tgz", PREFIX + special("data.bin", tarfile.CHRTYPE, devmajor=1, devminor=3) + END)
canon("directory.tgz", PREFIX + special("data.bin", tarfile.DIRTYPE) + END)
canon("fifo.tgz", PREFIX + special("data.bin", tarfile.FIFOTYPE) + END)
canon("traversal-pax.tgz", PREFIX + special("../../" + target.lstrip("/"), tarfile.REGTYPE) + END)
canon("traversal-absolute-pax.tgz", PREFIX + special(target, tarfile.REGTYPE) + END)
canon("global-header.tgz", PREFIX + tinfo("g", tarfile.XGLTYPE, size=0).tobuf(tarfile.USTAR_FORMAT) + END)
owned = bytearray(sb.member("data.bin", DATA))
owned[1024 + 108:1024 + 116] = b"0001750\0"
owned[1024 + 148:1024 + 156] = b" " * 8
owned[1024 + 148:1024 + 156] = b"%06o\0 " % sum(owned[1024:1536])
canon("owner-changed.tgz", PREFIX + bytes(owned) + END)
canon("duplicate-manifest.tgz", PREFIX + sb.member("MANIFEST.json", b"{}") + END)
canon("not-in-manifest.tgz", PREFIX + sb.member("data.bin", DATA) + sb.member("zzz", b"x") + END)
canon("missing-member.tgz", PREFIX + END)
canon("size-mismatch.tgz", PREFIX + sb.member("data.bin", DATA + b"more") + END)
canon("digest-mismatch.tgz", PREFIX + sb.member("data.bin", b"PAYLOAD\n") + END)
canon("trailing-garbage.tgz", PREFIX + sb.member("data.bin", DATA) + END + b"garbage")
canon("no-end-marker.tgz", PREFIX + sb.member("data.bin", DATA))
write("concatenated-gzip.tgz", sb.gz(PREFIX + sb.member("data.bin", DATA) + END) + sb.gz(b"x" * 512))
write("garbage-after-gzip.tgz", sb.gz(PREFIX + sb.member("data.bin", DATA) + END) + b"\0")


def sparse_raw(name, realsize, spans, stored_data):
    m = ("%d\n" % len(spans) + "".join("%d\n%d\n" % s for s in spans)).encode()
    m += b"\0" * sb.pad(len(m))
    body = m + stored_data
    return sb.header(name, len(body), realsize) + body + b"\0" * sb.pad(len(body))


canon("sparse-overlap.tgz", PREFIX + sparse_raw("data.bin", 8, [(0, 4), (2, 4)], b"x" * 8) + END)
canon("sparse-exceeds-size.tgz", PREFIX + sparse_raw("data.bin", 8, [(4, 8)], b"x" * 8) + END)
canon("sparse-offset-overflow.tgz", PREFIX + sparse_raw(
    "data.bin", 8, [(18446744073709551615, 1)], b"x") + END)
canon("sparse-too-many.tgz", PREFIX + sparse_raw("data.bin", 8, [(i, 0) for i in range(70000)], b"")
      + END)

# Bombs. A canonical header claiming 8 GiB - 1 for a listed member: refused
# from the header. A member whose content is 16 MiB of zeros: refused at its
# header (size differs from the manifest) before inflating it.
canon("bomb-huge-claim.tgz", PREFIX + sb.header("data.bin", 8589934591) + b"\0" * 4096)
big = bytes(16 << 20)
# Deflate-compressed bombs: refused at the first block header, since SPEC 2.1
# allows stored blocks only; the same contents stored reach the tar checks.
c = zlib.compressobj(6, zlib.DEFLATED, 31)
write("bomb-member.tgz", c.compress(PREFIX + sb.member("data.bin", big) + END) + c.flush())
c = zlib.compressobj(6, zlib.DEFLATED, 31)
write("bomb-zeros.tgz", c.compress(bytes(16 << 20)) + c.flush())
canon("big-member.tgz", PREFIX + sb.member("data.bin", big) + END)
canon("big-zeros.tgz", bytes(16 << 20))
write("bomb-manifest.tgz", sb.gz(sb.member("MANIFEST.json", bytes(8 << 20)) + END))
write("not-gzip.tgz", b"PK\x03\x04 not a gzip file")
write("empty-gzip.tgz", sb.gz(b""))
write("zero-bytes.tgz", b"")
