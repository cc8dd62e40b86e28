"""Shared helpers of the Azure stand-in: strict base64 forms, JWTs, errors.

Test harness only (stdlib + `cryptography`); see azure-rest.md §9 for the
contract the stand-in enforces.
"""
import base64
import binascii
import hashlib
import json
import re

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
B64STD_RE = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


class HTTPError(Exception):
    """An Azure-shaped error answer: status, JSON body, extra headers."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def cloud_error(status, code, message, inner=None, headers=None, details=None):
    err = {"code": code, "message": message}
    if inner:
        err["innererror"] = {"code": inner}
    if details:
        err["details"] = details
    return HTTPError(status, {"error": err}, headers)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_dec(s, what, allow_std=False):
    """Decodes base64url (padding optional). allow_std also takes standard
    base64, which Key Vault accepts for release_policy.data (azure-rest.md §3.1)."""
    if not isinstance(s, str):
        raise cloud_error(400, "BadParameter", "%s: not a string" % what)
    ok = B64URL_RE.match(s) or (allow_std and B64STD_RE.match(s))
    if not ok:
        raise cloud_error(400, "BadParameter", "%s: not base64url" % what)
    t = s.rstrip("=").replace("+", "-").replace("/", "_")
    try:
        return base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))
    except (binascii.Error, ValueError):
        raise cloud_error(400, "BadParameter", "%s: not base64url" % what)


def jwt_sign(header, claims, key, alg="RS256"):
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = (h + "." + p).encode()
    if alg == "RS256":
        sig = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        sig = key.sign(signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    else:
        raise ValueError(alg)
    return h + "." + p + "." + b64url(sig)


def jwt_split(token, what):
    """Returns (header, claims, signing_input, signature) without verifying."""
    if not isinstance(token, str) or len(token) > 65536:
        raise cloud_error(400, "BadParameter", "%s: not a JWT" % what)
    parts = token.split(".")
    if len(parts) != 3:
        raise cloud_error(400, "BadParameter", "%s: not a compact JWT" % what)
    try:
        header = json.loads(b64url_dec(parts[0], what))
        claims = json.loads(b64url_dec(parts[1], what))
    except ValueError:
        raise cloud_error(400, "BadParameter", "%s: JWT parts are not JSON" % what)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise cloud_error(400, "BadParameter", "%s: JWT parts are not objects" % what)
    return header, claims, (parts[0] + "." + parts[1]).encode(), b64url_dec(parts[2], what)


def rs256_verify(pub, signing_input, sig):
    try:
        pub.verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())
        return True
    except Exception:
        return False


def ps256_verify(pub, signing_input, sig):
    """PS256 per RFC 7518 §3.5: salt length equal to the digest, 32 bytes,
    exactly (Entra rejects OpenSSL's default maximum salt, azure-rest.md §5.2)."""
    try:
        pub.verify(sig, signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
        return True
    except Exception:
        return False


def cert_der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()
