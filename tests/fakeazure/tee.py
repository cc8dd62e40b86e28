#!/usr/bin/env python3
"""A simulated confidential group for end-to-end tests (issue 14): does what
the SKR/encfs sidecars do (sidecars.md §1.5, §1.6) against the running
stand-in, with python-cryptography only:
  1. an ephemeral RSA-2048 transfer key, its public JWK set as runtime data;
  2. a MAA-shaped token from the stand-in's test issuer carrying the claims
     (hostdata and overrides) and that runtime data in x-ms-runtime;
  3. an IMDS token for the vault (the group's managed identity);
  4. POST /keys/NAME/release; the JWS verified (x5c chained to the test CA);
  5. key_hsm unwrapped (RSA-OAEP per enc, then AES-KWP);
  6. optionally the encfs passphrase: oct -> the raw 32 bytes; RSA ->
     HKDF-SHA256(IKM = d as minimal big-endian bytes, salt, info = label).
Usage: tee.py DIR KEYNAME HOSTDATA [--claims JSON] [--signer rogue]
              [--out FILE] [--derive SALT_HEX LABEL]
Prints the passphrase hex with --derive. Exit 0 released, 3 refused (the
vault's one-line reason on stderr), 1 any other failure."""
import argparse
import base64
import http.client
import json
import os
import ssl
import sys
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def call(ctx, method, url, body=None, headers=None):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    c.request(method, u.path + ("?" + u.query if u.query else ""), body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r.status, json.loads(raw) if raw else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("key")
    ap.add_argument("hostdata")
    ap.add_argument("--claims", default="{}")
    ap.add_argument("--signer", default="maa")
    ap.add_argument("--out")
    ap.add_argument("--derive", nargs=2, metavar=("SALT_HEX", "LABEL"))
    a = ap.parse_args()
    ep = json.load(open(os.path.join(a.dir, "endpoints.json")))
    ctx = ssl.create_default_context(cafile=ep["ca"])
    transfer = rsa.generate_private_key(65537, 2048)
    pn = transfer.public_key().public_numbers()
    runtime = {"keys": [{"e": b64u(pn.e.to_bytes(3, "big")), "key_ops": ["encrypt"], "kid": "transfer",
                         "kty": "RSA", "n": b64u(pn.n.to_bytes(256, "big"))}]}
    claims = {"x-ms-sevsnpvm-hostdata": a.hostdata, "x-ms-runtime": runtime}
    claims.update(json.loads(a.claims))
    st, o = call(ctx, "POST", ep["arm"] + "/_fake/attest/token", {"claims": claims, "signer": a.signer})
    if st != 200:
        sys.exit("tee: attestation token: HTTP %d" % st)
    st, tok = call(ctx, "GET", ep["imds"] + "?api-version=2018-02-01&resource=" +
                   urllib.parse.quote("https://vault.azure.net", safe=""), headers={"Metadata": "true"})
    if st != 200:
        sys.exit("tee: IMDS token: HTTP %d" % st)
    st, o = call(ctx, "POST", "%s/keys/%s/release?api-version=7.4" % (ep["vault"], a.key), {"target": o["token"]},
                 {"Authorization": "Bearer " + tok["access_token"]})
    if st == 403:
        print("tee: release refused: %s" % o["error"]["message"], file=sys.stderr)
        sys.exit(3)
    if st != 200:
        sys.exit("tee: release: HTTP %d %s" % (st, o))
    h, p, s = o["value"].split(".")
    hdr = json.loads(b64u_dec(h))
    leaf = x509.load_der_x509_certificate(base64.b64decode(hdr["x5c"][0]))
    ca = x509.load_pem_x509_certificate(open(ep["ca"], "rb").read())
    leaf.public_key().verify(b64u_dec(s), (h + "." + p).encode(), padding.PKCS1v15(), hashes.SHA256())
    if leaf.issuer != ca.subject:
        sys.exit("tee: release JWS not issued by the test CA")
    payload = json.loads(b64u_dec(p))
    key = payload["response"]["key"]["key"]
    blob = json.loads(b64u_dec(key["key_hsm"]))
    hname = {"CKM_RSA_AES_KEY_WRAP": hashes.SHA1, "RSA_AES_KEY_WRAP_256": hashes.SHA256,
             "RSA_AES_KEY_WRAP_384": hashes.SHA384}[blob["header"]["enc"]]
    ct = b64u_dec(blob["ciphertext"])
    aes = transfer.decrypt(ct[:256], padding.OAEP(padding.MGF1(hname()), hname(), None))
    material = aes_key_unwrap_with_padding(aes, ct[256:])
    if a.out:
        open(a.out, "wb").write(material)
    if a.derive:
        if key["kty"].startswith("oct"):
            phrase = material
        else:
            d = serialization.load_der_private_key(material, None).private_numbers().d
            ikm = d.to_bytes((d.bit_length() + 7) // 8, "big")
            phrase = HKDF(hashes.SHA256(), 32, bytes.fromhex(a.derive[0]),
                          (a.derive[1] or "Symmetric Encryption Key").encode()).derive(ikm)
        print(phrase.hex())


if __name__ == "__main__":
    main()
