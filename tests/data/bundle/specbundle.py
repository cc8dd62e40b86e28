#!/usr/bin/env python3
"""An independent writer of nutgen bundles, from bundle-format/SPEC.md alone
(Python stdlib + cryptography): the oracle that nutgen's writer gives the
same bytes, and the source of canonical prefixes for hostile test bundles.

usage: specbundle.py OUT KEY.pem CREATED SERIAL NAME=PATH[:sparse]...
"""
import hashlib
import json
import sys
import struct
import zlib

BLOCK = 512


def pad(n):
    return (BLOCK - n % BLOCK) % BLOCK


def ustar(name, size, typ):
    h = bytearray(BLOCK)
    n = name.encode()
    assert len(n) <= 100
    h[0:len(n)] = n
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[156:157] = typ
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def record(key, val):
    body = " %s=%s\n" % (key, val)
    n = len(body) + 1
    while n != len(body) + len(str(n)):
        n = len(body) + len(str(n))
    return ("%d%s" % (n, body)).encode()


def header(name, stored, sparse_size=None):
    if sparse_size is None:
        pax = record("path", name)
    else:
        pax = (record("GNU.sparse.major", "1") + record("GNU.sparse.minor", "0") +
               record("GNU.sparse.name", name) + record("GNU.sparse.realsize", str(sparse_size)))
    real = ("GNUSparseFile.0/" + name) if sparse_size is not None else name
    return (ustar("PaxHeaders.0/" + name, len(pax), b"x") + pax + b"\0" * pad(len(pax)) +
            ustar(real, stored, b"0"))


def member(name, data):
    return header(name, len(data)) + data + b"\0" * pad(len(data))


def sparse_member(name, data):
    spans, grain = [], 4096
    for off in range(0, len(data), grain):
        g = data[off:off + grain]
        if g.count(0) == len(g):
            continue
        if spans and spans[-1][0] + spans[-1][1] == off:
            spans[-1][1] += len(g)
        else:
            spans.append([off, len(g)])
    if not spans or spans[-1][0] + spans[-1][1] < len(data):
        spans.append([len(data), 0])
    m = ("%d\n" % len(spans) + "".join("%d\n%d\n" % (o, l) for o, l in spans)).encode()
    m += b"\0" * pad(len(m))
    body = m + b"".join(data[o:o + l] for o, l in spans)
    return header(name, len(body), len(data)) + body + b"\0" * pad(len(body))


def manifest_bytes(fields):
    return (json.dumps(fields, sort_keys=True, indent=2) + "\n").encode()


def signature(key, mbytes):
    from cryptography.hazmat.primitives import serialization
    import base64
    pub = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    kid = hashlib.sha256(pub).hexdigest()
    rec = {"algorithm": "ed25519", "keyid": kid,
           "public_key": base64.b64encode(pub).decode(),
           "signature": base64.b64encode(key.sign(mbytes)).decode()}
    return kid, (json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n").encode()


def gz(tar):
    # SPEC 2.1: the canonical header, then the tar in deflate stored blocks of
    # 65535 bytes (the last one final, holding the rest), CRC-32 and ISIZE.
    out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")
    pos = 0
    while True:
        chunk = tar[pos:pos + 65535]
        pos += len(chunk)
        final = pos >= len(tar)
        out += struct.pack("<BHH", 1 if final else 0, len(chunk), len(chunk) ^ 0xFFFF)
        out += chunk
        if final:
            break
    out += struct.pack("<II", zlib.crc32(tar), len(tar) & 0xFFFFFFFF)
    return bytes(out)


def main():
    from cryptography.hazmat.primitives import serialization
    out, keyfile, created, serial = sys.argv[1:5]
    key = serialization.load_pem_private_key(open(keyfile, "rb").read(), None)
    items = []
    for a in sys.argv[5:]:
        name, path = a.split("=", 1)
        sparse = path.endswith(":sparse")
        path = path[:-7] if sparse else path
        items.append((name, open(path, "rb").read(), sparse))
    items.sort()
    fields = {"created": created, "serial": int(serial), "format": "nutgen-bundle",
              "format_version": 1, "generator": "nutgen 0.1.0",
              "members": [{"name": n, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                          for n, d, _ in items]}
    mb = manifest_bytes(fields)
    kid, sig = signature(key, mb)
    tar = member("MANIFEST.json", mb) + member("SIGNATURES/%s.sig" % kid, sig)
    for n, d, sp in items:
        tar += sparse_member(n, d) if sp else member(n, d)
    tar += b"\0" * 1024
    open(out, "wb").write(gz(tar))


if __name__ == "__main__":
    main()
