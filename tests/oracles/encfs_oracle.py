#!/usr/bin/env python3
"""Independent oracle for nutgen's encfs image, keys and BYOK blobs.

Uses python3-cryptography only; shares no code with nutgen. Each subcommand
prints what it found and exits non-zero on the first mismatch.

  rsa-keyfile OUT [--two-forms|--one-form] [--pem PEM --salt HEX --label L]
        write a nutgen RSA-HSM key file (JSON: kty, pkcs8, key_derivation)
  passphrases KEYFILE PREFIX   derive every passphrase (sidecars.md §1.6, §8.1)
                               into PREFIX.0, PREFIX.1; prints the count
  decrypt IMG VK OFFSET OUT HOLES
        decrypt the LUKS2 data segment as dm-crypt would (AES-256-XTS, 4096-byte
        sectors, tweak 8*k, holes read as zeros and so decrypt to garbage);
        write the block numbers of ciphertext holes to HOLES
  check-holes HOLES DUMPE2FS   every hole must be a free block per dumpe2fs
  luks-params JSON             check luksDump --dump-json-metadata (§2.3)
  byok-unwrap BLOB KEKPRIV KEYFILE   unwrap the transfer blob with the KEK's
                               private key and compare with the key file
"""
import base64
import json
import math
import os
import re
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding

SECTOR = 4096


def die(msg):
    print("ORACLE FAIL:", msg)
    sys.exit(1)


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url_enc(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def d_forms(key):
    n = key.private_numbers()
    p, q, e = n.p, n.q, n.public_numbers.e
    phi = (p - 1) * (q - 1)
    lam = phi // math.gcd(p - 1, q - 1)
    return n.d, pow(e, -1, phi), pow(e, -1, lam)


def rsa_keyfile(args):
    out = args[0]
    opts = dict(zip(args[1::2], args[2::2])) if "--pem" in args else {}
    want = "--two-forms" if "--two-forms" in args else ("--one-form" if "--one-form" in args else None)
    if "--pem" in opts:
        key = serialization.load_pem_private_key(open(opts["--pem"], "rb").read(), None)
    else:
        for _ in range(64):
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            d, dphi, dlam = d_forms(key)
            if want is None or (want == "--two-forms") == (dphi != dlam):
                break
        else:
            die("could not generate the wanted key")
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    salt = opts.get("--salt", os.urandom(32).hex())
    label = opts.get("--label", "encfs")
    doc = {"kty": "RSA-HSM", "pkcs8": b64url_enc(der), "key_derivation": {"salt": salt, "label": label}}
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, json.dumps(doc).encode())
    os.close(fd)


def hkdf(ikm, salt, label):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt or None,
                info=(label or "Symmetric Encryption Key").encode()).derive(ikm)


def minimal_be(x):
    return x.to_bytes((x.bit_length() + 7) // 8, "big")


def key_material(path):
    raw = open(path, "rb").read()
    if len(raw) == 32:
        return "raw", raw, None
    doc = json.loads(raw)
    if doc["kty"] == "oct-HSM":
        return "oct-HSM", b64url_dec(doc["k"]), doc
    return "RSA-HSM", b64url_dec(doc["pkcs8"]), doc


def passphrases(args):
    kind, mat, doc = key_material(args[0])
    if kind != "RSA-HSM":
        out = [mat]
    else:
        key = serialization.load_der_private_key(mat, None)
        d, dphi, dlam = d_forms(key)
        salt = bytes.fromhex(doc["key_derivation"]["salt"])
        label = doc["key_derivation"]["label"]
        out = [hkdf(minimal_be(d), salt, label)]
        if dphi != dlam:
            other = dlam if d == dphi else dphi
            out.append(hkdf(minimal_be(other), salt, label))
    for i, p in enumerate(out):
        with open("%s.%d" % (args[1], i), "wb") as f:
            f.write(p)
    print(len(out))


def holes_of(fd, start, end):
    """Block numbers (relative to start) that are holes in [start, end)."""
    holes = []
    pos = start
    while pos < end:
        try:
            data = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            data = end
        data = min(data, end)
        for b in range((pos - start) // SECTOR, (data - start) // SECTOR):
            holes.append(b)
        if data >= end:
            break
        pos = min(os.lseek(fd, data, os.SEEK_HOLE), end)
        pos = start + -(-(pos - start) // SECTOR) * SECTOR
    return holes


def decrypt(args):
    img, vkpath, off, out, holes_out = args[0], args[1], int(args[2]), args[3], args[4]
    vk = open(vkpath, "rb").read()
    if len(vk) != 64:
        die("volume key is %d bytes" % len(vk))
    fd = os.open(img, os.O_RDONLY)
    size = os.fstat(fd).st_size
    if (size - off) % SECTOR:
        die("data segment not a multiple of 4096")
    n = (size - off) // SECTOR
    holes = holes_of(fd, off, size)
    with open(out, "wb") as w:
        chunk = 256
        for k0 in range(0, n, chunk):
            ct = os.pread(fd, chunk * SECTOR, off + k0 * SECTOR)
            pt = bytearray()
            for i in range(len(ct) // SECTOR):
                k = k0 + i
                dec = Cipher(algorithms.AES(vk), modes.XTS(struct.pack("<Q", 8 * k) + bytes(8))).decryptor()
                pt += dec.update(ct[i * SECTOR:(i + 1) * SECTOR]) + dec.finalize()
            w.write(pt)
    with open(holes_out, "w") as h:
        h.write("\n".join(map(str, holes)) + "\n")
    print("decrypted %d blocks, %d holes" % (n, len(holes)))


def check_holes(args):
    holes = [int(x) for x in open(args[0]).read().split()]
    free = set()
    for line in open(args[1]):
        m = re.match(r"\s+Free blocks: (.*)$", line)
        if not m or not m.group(1).strip():
            continue
        for part in m.group(1).split(","):
            part = part.strip()
            if "-" in part:
                a, b = part.split("-")
                free.update(range(int(a), int(b) + 1))
            elif part:
                free.add(int(part))
    bad = [b for b in holes if b not in free]
    if bad:
        die("%d holes in blocks the file system uses, e.g. %s" % (len(bad), bad[:5]))
    if not holes:
        die("no holes at all: the image is not sparse")
    print("%d holes, all in free blocks (%d free)" % (len(holes), len(free)))


def luks_params(args):
    j = json.load(open(args[0]))
    seg = j["segments"]["0"]
    want_seg = {"type": "crypt", "offset": "16777216", "size": "dynamic", "iv_tweak": "0",
                "encryption": "aes-xts-plain64", "sector_size": 4096}
    for k, v in want_seg.items():
        if seg.get(k) != v:
            die("segment %s = %r, want %r" % (k, seg.get(k), v))
    if "integrity" in seg:
        die("segment has integrity")
    if j["config"].get("json_size") != "12288" or j["config"].get("keyslots_size") != "16744448":
        die("config %r" % j["config"])
    for name, ks in j["keyslots"].items():
        if ks["type"] != "luks2" or ks["key_size"] != 64:
            die("keyslot %s type/key_size" % name)
        if ks["af"] != {"type": "luks1", "stripes": 4000, "hash": "sha256"}:
            die("keyslot %s af %r" % (name, ks["af"]))
        a = ks["area"]
        if a["type"] != "raw" or a["encryption"] != "aes-xts-plain64" or a["key_size"] != 64:
            die("keyslot %s area %r" % (name, a))
        kdf = ks["kdf"]
        if kdf["type"] != "pbkdf2" or kdf["hash"] != "sha256" or kdf["iterations"] != 1000:
            die("keyslot %s kdf %r" % (name, kdf))
    if j["keyslots"]["0"]["area"]["offset"] != "32768" or j["keyslots"]["0"]["area"]["size"] != "258048":
        die("keyslot 0 area %r" % j["keyslots"]["0"]["area"])
    for name, d in j["digests"].items():
        if d["type"] != "pbkdf2" or d["hash"] != "sha256":
            die("digest %s %r" % (name, d))
    print("LUKS2 parameters as sidecars.md §2.3; %d keyslot(s)" % len(j["keyslots"]))


def byok_unwrap(args):
    blob = json.load(open(args[0]))
    kek = serialization.load_pem_private_key(open(args[1], "rb").read(), None)
    kind, mat, _ = key_material(args[2])
    if blob.get("schema_version") != "1.0.0":
        die("schema_version")
    h = blob["header"]
    if h.get("alg") != "dir" or h.get("enc") != "CKM_RSA_AES_KEY_WRAP" or not h.get("kid", "").startswith("https://"):
        die("header %r" % h)
    ct = b64url_dec(blob["ciphertext"])
    nbytes = kek.key_size // 8
    eph = kek.decrypt(ct[:nbytes], padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None))
    if len(eph) != 32:
        die("ephemeral key is %d bytes" % len(eph))
    got = aes_key_unwrap_with_padding(eph, ct[nbytes:])
    if got != mat:
        die("unwrapped key differs from the key file's %s material" % kind)
    if kind == "RSA-HSM":
        serialization.load_der_private_key(got, None)
    print("BYOK blob unwraps to the %s key (%d bytes)" % (kind, len(got)))


CMDS = {"rsa-keyfile": rsa_keyfile, "passphrases": passphrases, "decrypt": decrypt,
        "check-holes": check_holes, "luks-params": luks_params, "byok-unwrap": byok_unwrap}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CMDS:
        print(__doc__)
        sys.exit(2)
    CMDS[sys.argv[1]](sys.argv[2:])
