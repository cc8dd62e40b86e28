#!/usr/bin/env python3
"""Test oracle: makes Microsoft Azure Attestation-shaped tokens and JWKS with
python3-cryptography, independently of nutapply's C code (sidecars.md §6,
azure-rest.md §6). Not a product component.

  maa_token.py key DIR NAME         RSA-2048 key + self-signed cert: DIR/NAME.key,
                                    DIR/NAME.jwk (a JWKS entry with x5c, kid)
  maa_token.py jwks OUT JWK...      {"keys":[...]} from JWKS entries
  maa_token.py token DIR/NAME ISS HOSTDATA [options]   prints a compact JWS
      --alg RS256|none|HS256  --jku URL|-  --kid KID  --nbf SECONDS --exp SECONDS
      --set CLAIM=JSON (repeatable; JSON null deletes)  --runtime JSON
  maa_token.py batch                one "OUTFILE DIR/NAME ISS HOSTDATA [options]" per
                                    stdin line: many tokens for one interpreter start
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import shlex
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def cmd_key(a):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "https://test.attest.example")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    # MAA's kids are standard base64 (with '+', '/', '=') naming the cert.
    kid = base64.b64encode(hashlib.sha256(der).digest()).decode()
    with open(os.path.join(a.dir, a.name + ".key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(os.path.join(a.dir, a.name + ".jwk"), "w") as f:
        json.dump({"kid": kid, "kty": "RSA", "x5c": [base64.b64encode(der).decode()]}, f)


def cmd_jwks(a):
    keys = [json.load(open(p)) for p in a.jwk]
    with open(a.out, "w") as f:
        json.dump({"keys": keys}, f)


def cmd_token(a):
    jwk = json.load(open(a.key + ".jwk"))
    key = serialization.load_pem_private_key(open(a.key + ".key", "rb").read(), None)
    now = int(time.time())
    header = {"alg": a.alg, "jku": a.iss + "/certs", "kid": a.kid or jwk["kid"], "typ": "JWT"}
    if a.jku == "-":
        del header["jku"]
    elif a.jku:
        header["jku"] = a.jku
    runtime = json.loads(a.runtime) if a.runtime else {"keys": []}
    claims = {
        "iss": a.iss, "iat": now + a.nbf, "nbf": now + a.nbf, "exp": now + a.exp,
        "jti": b64url(os.urandom(32)), "x-ms-ver": "1.0",
        "x-ms-attestation-type": "sevsnpvm",
        "x-ms-compliance-status": "azure-compliant-uvm",
        "x-ms-policy-hash": b64url(hashlib.sha256(b"policy").digest()),
        "x-ms-runtime": runtime,
        "x-ms-sevsnpvm-hostdata": a.hostdata,
        "x-ms-sevsnpvm-is-debuggable": False,
        "x-ms-sevsnpvm-vmpl": 0,
        "x-ms-sevsnpvm-launchmeasurement": "ab" * 48,
        "x-ms-sevsnpvm-reportdata": hashlib.sha256(json.dumps(runtime).encode()).hexdigest() + "0" * 64,
        "x-ms-sevsnpvm-bootloader-svn": 3, "x-ms-sevsnpvm-tee-svn": 0,
        "x-ms-sevsnpvm-snpfw-svn": 8, "x-ms-sevsnpvm-microcode-svn": 115,
        "x-ms-sevsnpvm-guestsvn": 2,
    }
    for s in a.set or []:
        k, v = s.split("=", 1)
        v = json.loads(v)
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    si = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
    if a.alg == "RS256":
        sig = key.sign(si, padding.PKCS1v15(), hashes.SHA256())
    elif a.alg == "HS256":
        # The classic confusion: HMAC keyed with the public key's bytes.
        pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        sig = hmac.new(pub, si, hashlib.sha256).digest()
    else:
        sig = b""
    sys.stdout.write(si.decode() + "." + b64url(sig) + "\n")


def cmd_batch(a, parser):
    for line in sys.stdin:
        words = shlex.split(line)
        if not words:
            continue
        out, words = words[0], words[1:]
        t = parser.parse_args(["token"] + words)
        with open(out, "w") as f:
            sys.stdout = f
            cmd_token(t)
            sys.stdout = sys.__stdout__


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("key")
    k.add_argument("dir")
    k.add_argument("name")
    j = sub.add_parser("jwks")
    j.add_argument("out")
    j.add_argument("jwk", nargs="+")
    t = sub.add_parser("token")
    t.add_argument("key")
    t.add_argument("iss")
    t.add_argument("hostdata")
    t.add_argument("--alg", default="RS256")
    t.add_argument("--jku")
    t.add_argument("--kid")
    t.add_argument("--nbf", type=int, default=-60)
    t.add_argument("--exp", type=int, default=8 * 3600)
    t.add_argument("--set", action="append")
    t.add_argument("--runtime")
    sub.add_parser("batch")
    a = p.parse_args()
    if a.cmd == "batch":
        cmd_batch(a, p)
    else:
        {"key": cmd_key, "jwks": cmd_jwks, "token": cmd_token}[a.cmd](a)


if __name__ == "__main__":
    main()
