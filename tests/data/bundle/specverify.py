#!/usr/bin/env python3
"""An independent verifier of nutgen bundles written from bundle-format/SPEC.md
alone (§6, with the limits of §7), Python stdlib + cryptography. It shows the
SPEC is enough to verify a bundle, and it is the oracle the tests hold
`nutgen verify` against: both must accept and refuse the same bundles.

usage: specverify.py BUNDLE THRESHOLD PUB.pem...   exit 0 valid, 1 refused (reason on stderr)
"""
import base64
import hashlib
import json
import re
import sys
import time
import struct
import zlib

BLOCK = 512
NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)?$")
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import specbundle as sb  # noqa: E402  (the SPEC's canonical header encoding)


class Refused(Exception):
    pass


def need(cond, why):
    if not cond:
        raise Refused(why)


def decompress(raw):
    need(raw[:10] == bytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), "gzip header not canonical")
    # SPEC 2.1: only canonical stored blocks, each parsed here, no inflate.
    pos, out, first = 10, bytearray(), True
    while True:
        need(pos + 5 <= len(raw), "truncated gzip stream")
        hdr, ln, nln = struct.unpack_from("<BHH", raw, pos)
        pos += 5
        need(hdr in (0, 1), "not a stored block")
        need(ln == nln ^ 0xFFFF, "LEN/NLEN mismatch")
        need(hdr == 1 or ln == 65535, "short non-final block")
        need(hdr == 0 or ln > 0 or first, "empty final block after data")
        need(pos + ln <= len(raw), "truncated gzip stream")
        out += raw[pos:pos + ln]
        pos += ln
        need(len(out) <= 4 << 30, "beyond the decompression cap")
        first = False
        if hdr == 1:
            break
    need(pos + 8 <= len(raw), "truncated gzip stream")
    crc, isize = struct.unpack_from("<II", raw, pos)
    need(crc == zlib.crc32(out) and isize == len(out) & 0xFFFFFFFF, "bad CRC-32 or ISIZE")
    need(pos + 8 == len(raw), "trailing data after the gzip stream")
    return bytes(out)


def members(tar):
    pos, count = 0, 0
    while True:
        need(pos + BLOCK <= len(tar), "truncated tar")
        if tar[pos:pos + BLOCK] == bytes(BLOCK):
            need(tar[pos:] == bytes(2 * BLOCK), "end of archive not exactly two zero blocks")
            return
        count += 1
        need(count <= 64, "too many members")
        x = tar[pos:pos + BLOCK]
        need(x[156:157] == b"x", "not a pax header")
        plen = int(x[124:135], 8)
        need(plen <= 4096, "pax header too large")
        pax = tar[pos + BLOCK:pos + BLOCK + plen]
        recs = {}
        p = 0
        while p < len(pax):
            ln = int(pax[p:pax.index(b" ", p)])
            k, v = pax[pax.index(b" ", p) + 1:p + ln - 1].split(b"=", 1)
            need(k.decode() not in recs, "repeated pax record")
            recs[k.decode()] = v.decode()
            p += ln
        sparse = "GNU.sparse.name" in recs
        name = recs["GNU.sparse.name"] if sparse else recs.get("path", "")
        need(NAME.match(name) and len(name) <= 80 and "/." not in name, "bad name %r" % name)
        hpos = pos + BLOCK + plen + sb.pad(plen)
        stored = int(tar[hpos + 124:hpos + 135], 8)
        real = int(recs["GNU.sparse.realsize"]) if sparse else None
        want = sb.header(name, stored, real)
        need(tar[pos:hpos + BLOCK] == want, "header of %s not canonical" % name)
        data = tar[hpos + BLOCK:hpos + BLOCK + stored]
        need(len(data) == stored, "truncated member")
        if sparse:
            lines = data.split(b"\n")
            n = int(lines[0])
            need(1 <= n <= 65536, "sparse map size")
            spans = [(int(lines[1 + 2 * i]), int(lines[2 + 2 * i])) for i in range(n)]
            mlen = len(b"\n".join(lines[:1 + 2 * n])) + 1
            mlen += sb.pad(mlen)
            end, body, content = 0, data[mlen:], bytearray()
            need(sum(l for _, l in spans) == len(body), "sparse data size")
            for i, (o, l) in enumerate(spans):
                need(o >= end and o + l <= real, "sparse map overlaps or exceeds the size")
                need(l or (i == n - 1 and o == real), "empty sparse entry")
                content += bytes(o - end) + body[:l]
                body, end = body[l:], o + l
            content += bytes(real - end)
            data = bytes(content)
        yield name, data
        pos = hpos + BLOCK + stored + sb.pad(stored)


def verify(path, threshold, trusted):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    ms = list(members(decompress(open(path, "rb").read())))
    need(ms and ms[0][0] == "MANIFEST.json", "first member is not MANIFEST.json")
    names = [n for n, _ in ms]
    need(names == sorted(set(names)), "members duplicated or out of order")
    mb = ms[0][1]
    m = json.loads(mb)
    need((json.dumps(m, sort_keys=True, indent=2) + "\n").encode() == mb, "manifest not canonical")
    need(m["format"] == "nutgen-bundle" and m["format_version"] == 1, "not a v1 manifest")
    good = set()
    for name, data in ms[1:]:
        if not name.startswith("SIGNATURES/"):
            continue
        s = json.loads(data)
        pub = base64.b64decode(s["public_key"])
        kid = hashlib.sha256(pub).hexdigest()
        need(name == "SIGNATURES/%s.sig" % kid == "SIGNATURES/%s.sig" % s["keyid"], "key id")
        try:
            Ed25519PublicKey.from_public_bytes(pub).verify(base64.b64decode(s["signature"]), mb)
        except Exception:
            raise Refused("signature by %s does not verify" % kid)
        if pub in trusted:
            good.add(kid)
    need(len(good) >= threshold, "%d trusted signatures, %d required" % (len(good), threshold))
    if "expires" in m:
        exp = time.mktime(time.strptime(m["expires"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        need(time.time() < exp, "expired")
    payload = [(n, d) for n, d in ms[1:] if not n.startswith("SIGNATURES/")]
    need([n for n, _ in payload] == [e["name"] for e in m["members"]], "members differ from manifest")
    for (n, d), e in zip(payload, m["members"]):
        need(len(d) == e["size"] and hashlib.sha256(d).hexdigest() == e["sha256"], "digest of " + n)


def main():
    from cryptography.hazmat.primitives import serialization
    trusted = [serialization.load_pem_public_key(open(p, "rb").read()).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw) for p in sys.argv[3:]]
    try:
        verify(sys.argv[1], int(sys.argv[2]), trusted)
    except (Refused, ValueError, KeyError, IndexError, TypeError, zlib.error,
            UnicodeDecodeError, json.JSONDecodeError) as e:
        print("refused: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
