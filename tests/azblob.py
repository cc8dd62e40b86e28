#!/usr/bin/env python3
"""Independent Blob Storage client for tests (Python stdlib only): the oracle
that reads back what nutapply uploaded. Shared Key signing written from the
Azure docs (azure-rest.md §1.10), separately from apply/blob.c.

Usage: azblob.py --ca CA.pem --base https://127.0.0.1:P/devstoreaccount1 CMD ...
  mkcontainer NAME
  sha256 CONTAINER/BLOB            sha256 of the whole blob (streamed)
  put CONTAINER/BLOB FILE [META=V]  create a page blob from FILE (for foreign-blob tests)
  putpage CONTAINER/BLOB OFFSET    write 512 random bytes at OFFSET
  compare CONTAINER/BLOB FILE      byte equality without hashing unwritten zeros
  meta CONTAINER/BLOB              prints metadata as k=v lines
  snapshots CONTAINER              prints "blob snapshot" lines
  ranges CONTAINER/BLOB            prints "start end" page ranges
  get CONTAINER/BLOB FILE          download to FILE, sparse (only written ranges)
Key from AZURE_STORAGE_KEY."""
import base64, hashlib, hmac, http.client, os, ssl, sys, urllib.parse
from email.utils import formatdate
import re

PAGE, CHUNK = 512, 4 << 20


def nonzero_pages(f):
    """Offsets of the non-zero 512-byte pages of an open file, reading only its
    data extents (SEEK_DATA/SEEK_HOLE), so a 1 GiB sparse image costs what it holds."""
    fd, pos, z = f.fileno(), 0, bytes(PAGE)
    size = os.fstat(fd).st_size
    while pos < size:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            break
        h = os.lseek(fd, d, os.SEEK_HOLE)
        d -= d % PAGE
        f.seek(d)
        b = f.read(h - d)
        for i in range(0, len(b), PAGE):
            if b[i:i + PAGE] != z:
                yield d + i
        pos = h


def main():
    a = sys.argv[1:]
    ca = a[a.index("--ca") + 1]
    base = a[a.index("--base") + 1]
    rest = [x for i, x in enumerate(a) if x not in ("--ca", "--base") and (i == 0 or a[i - 1] not in ("--ca", "--base"))]
    u = urllib.parse.urlsplit(base)
    account = u.path.strip("/").split("/")[0]
    key = base64.b64decode(os.environ["AZURE_STORAGE_KEY"])
    ctx = ssl.create_default_context(cafile=ca)

    def req(method, path, query=None, headers=None, body=b"", stream=None):
        headers = dict(headers or {})
        headers["x-ms-date"] = formatdate(usegmt=True)
        headers["x-ms-version"] = "2025-07-05"
        full = u.path.rstrip("/") + "/" + path
        q = query or {}
        std = ["Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
               "Content-Type", "Date", "If-Modified-Since", "If-Match", "If-None-Match",
               "If-Unmodified-Since", "Range"]
        lines = [method]
        for h in std:
            v = headers.get(h, "")
            if h == "Content-Length":
                v = str(len(body)) if body else ""
            lines.append(v)
        for k in sorted(k.lower() for k in headers if k.lower().startswith("x-ms-")):
            v = [headers[x] for x in headers if x.lower() == k][0]
            lines.append(k + ":" + v.strip())
        res = "/" + account + full
        for k in sorted(q):
            res += "\n" + k.lower() + ":" + q[k]
        sts = "\n".join(lines) + "\n" + res
        sig = base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode()
        headers["Authorization"] = "SharedKey %s:%s" % (account, sig)
        headers["Content-Length"] = str(len(body))
        c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=120)
        qs = ("?" + urllib.parse.urlencode(q)) if q else ""
        c.request(method, full + qs, body=body, headers=headers)
        r = c.getresponse()
        return c, r

    def blob_size(path):
        c, r = req("HEAD", path)
        r.read()
        if r.status != 200:
            sys.exit("head: %d" % r.status)
        return int(r.getheader("Content-Length"))

    def page_ranges(path):
        c, r = req("GET", path, {"comp": "pagelist"})
        body = r.read().decode()
        if r.status != 200:
            sys.exit("pagelist: %d" % r.status)
        return sorted((int(a), int(b)) for a, b in re.findall(r"<Start>(\d+)</Start><End>(\d+)</End>", body))

    def written(path, ranges):
        """(offset, bytes) of every written range, in ranged Gets of at most 4 MiB."""
        for s, e in ranges:
            for off in range(s, e + 1, CHUNK):
                end = min(e, off + CHUNK - 1)
                c, r = req("GET", path, None, {"x-ms-range": "bytes=%d-%d" % (off, end)})
                b = r.read()
                if r.status != 206 or len(b) != end - off + 1:
                    sys.exit("ranged get: %d" % r.status)
                yield off, b

    cmd = rest[0]
    if cmd == "mkcontainer":
        c, r = req("PUT", rest[1], {"restype": "container"})
        r.read()
        if r.status not in (201, 409):
            sys.exit("mkcontainer: %d" % r.status)
    elif cmd == "sha256":
        # Every byte of the blob: the written page ranges are read back; the
        # rest, never written, reads as zeros by the service's definition
        # (azure-rest.md §1.9), so it is hashed as zeros without a 1 GiB
        # download from the emulator (which serves ~30 MB/s). sha256-full
        # downloads everything.
        size = blob_size(rest[1])
        ranges = page_ranges(rest[1])
        h = hashlib.sha256()
        pos = 0
        zero = bytes(1 << 20)
        def zeros(n):
            while n:
                k = min(n, len(zero))
                h.update(zero[:k])
                n -= k
        for s, e in ranges:
            assert s >= pos, "overlapping page ranges"
            zeros(s - pos)
            for off, b in written(rest[1], [(s, e)]):
                h.update(b)
            pos = e + 1
        zeros(size - pos)
        print(h.hexdigest(), size)
    elif cmd == "compare":
        # Byte equality of blob and FILE without hashing the zeros: every
        # written range must equal the file there, and every non-zero page of
        # the file must lie in a written range (unwritten pages read as zeros).
        f = open(rest[2], "rb")
        if blob_size(rest[1]) != os.fstat(f.fileno()).st_size:
            sys.exit("compare: size differs")
        ranges = page_ranges(rest[1])
        for off, b in written(rest[1], ranges):
            f.seek(off)
            if b != f.read(len(b)):
                sys.exit("compare: bytes %d-%d differ" % (off, off + len(b) - 1))
        for p in nonzero_pages(f):
            if not any(s <= p and p + PAGE - 1 <= e for s, e in ranges):
                sys.exit("compare: page at %d not on the server" % p)
        print("equal")
    elif cmd == "sha256-full":
        c, r = req("GET", rest[1])
        if r.status != 200:
            sys.exit("get: %d" % r.status)
        h = hashlib.sha256()
        n = 0
        while True:
            b = r.read(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
        print(h.hexdigest(), n)
    elif cmd == "put":
        data = open(rest[2], "rb").read()
        meta = {"x-ms-meta-" + kv.split("=", 1)[0]: kv.split("=", 1)[1] for kv in rest[3:]}
        hdr = {"x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": str(len(data))}
        hdr.update(meta)
        c, r = req("PUT", rest[1], None, hdr)
        r.read()
        if r.status != 201:
            sys.exit("put blob: %d" % r.status)
        for off in range(0, len(data), 4 << 20):
            chunk = data[off:off + (4 << 20)]
            if chunk.count(0) == len(chunk):
                continue
            c, r = req("PUT", rest[1], {"comp": "page"},
                       {"x-ms-page-write": "update",
                        "x-ms-range": "bytes=%d-%d" % (off, off + len(chunk) - 1)}, chunk)
            r.read()
            if r.status != 201:
                sys.exit("put page: %d" % r.status)
    elif cmd == "putpage":
        # putpage CONTAINER/BLOB OFFSET: 512 random bytes written at OFFSET
        off = int(rest[2])
        c, r = req("PUT", rest[1], {"comp": "page"},
                   {"x-ms-page-write": "update", "x-ms-range": "bytes=%d-%d" % (off, off + 511)},
                   os.urandom(512))
        r.read()
        if r.status != 201:
            sys.exit("put page: %d" % r.status)
    elif cmd == "meta":
        c, r = req("HEAD", rest[1])
        r.read()
        if r.status != 200:
            sys.exit("head: %d" % r.status)
        for k, v in r.getheaders():
            if k.lower().startswith("x-ms-meta-"):
                print("%s=%s" % (k[10:].lower(), v))
    elif cmd == "snapshots":
        c, r = req("GET", rest[1], {"restype": "container", "comp": "list", "include": "snapshots"})
        body = r.read().decode()
        for m in re.finditer(r"<Blob>.*?<Name>(.*?)</Name>(?:<Snapshot>(.*?)</Snapshot>)?", body, re.S):
            if m.group(2):
                print(m.group(1), m.group(2))
    elif cmd == "ranges":
        for s, e in page_ranges(rest[1]):
            print(s, e)
    elif cmd == "get":
        # Only the written page ranges are fetched; the rest of FILE stays a
        # hole, which reads as zeros as unwritten pages do (azure-rest.md §1.9).
        size = blob_size(rest[1])
        with open(rest[2], "wb") as f:
            f.truncate(size)
            for off, b in written(rest[1], page_ranges(rest[1])):
                f.seek(off)
                f.write(b)
    else:
        sys.exit("unknown command " + cmd)

if __name__ == "__main__":
    main()
