"""Key Vault data plane (api-version 7.4) of the Azure stand-in.

Contract: azure-rest.md §3 (import, BYOK key_hsm, update, release, errors,
401 challenge) and §9; release policy grammar and claim comparison:
sidecars.md §4 and §6. Test harness only.
"""
import base64
import hashlib
import json
import re
import secrets
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import (InvalidUnwrap, aes_key_unwrap_with_padding,
                                                    aes_key_wrap_with_padding)

from common import HTTPError, b64url, b64url_dec, cert_der, cloud_error, jwt_sign, sha256_hex

NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
VERSION_RE = re.compile(r"^[0-9a-f]{32}$")
KTYS = {"RSA", "RSA-HSM", "EC", "EC-HSM", "oct", "oct-HSM"}
KEY_OPS = {"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import", "export"}
CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1, "P-256K": ec.SECP256K1}
ENCS = {"CKM_RSA_AES_KEY_WRAP": hashes.SHA1, "RSA_AES_KEY_WRAP_256": hashes.SHA256,
        "RSA_AES_KEY_WRAP_384": hashes.SHA384}
DEFAULT_CT = "application/json; charset=utf-8"


def bad(msg, inner=None):
    return cloud_error(400, "BadParameter", msg, inner)


def int_of(jwk, member):
    if member not in jwk:
        raise bad("key.%s: missing" % member)
    return int.from_bytes(b64url_dec(jwk[member], "key." + member), "big")


def parse_policy(rp):
    """Validates a release_policy object; returns (policy dict, content type, immutable)."""
    if not isinstance(rp, dict):
        raise bad("release_policy: not an object")
    ct = rp.get("contentType", DEFAULT_CT)
    if not isinstance(ct, str) or not ct.startswith("application/json"):
        raise bad("release_policy.contentType: must be application/json")
    imm = rp.get("immutable", False)
    if not isinstance(imm, bool):
        raise bad("release_policy.immutable: not a boolean")
    raw = b64url_dec(rp.get("data"), "release_policy.data", allow_std=True)
    try:
        pol = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise bad("release_policy.data: not JSON")
    if not isinstance(pol, dict) or pol.get("version") != "1.0.0":
        raise bad("release_policy: version must be \"1.0.0\"")
    auths = pol.get("anyOf")
    if not isinstance(auths, list) or not auths or set(pol) - {"version", "anyOf"}:
        raise bad("release_policy: want {version, anyOf:[authorities]}")
    for a in auths:
        if not isinstance(a, dict) or not isinstance(a.get("authority"), str):
            raise bad("release_policy: every anyOf entry needs an authority")
        if len([k for k in ("allOf", "anyOf") if k in a]) != 1 or set(a) - {"authority", "allOf", "anyOf"}:
            raise bad("release_policy: an authority has exactly one of allOf/anyOf")
        check_conditions(a.get("allOf", a.get("anyOf")))
    return pol, ct, imm


def check_conditions(conds):
    if not isinstance(conds, list) or not conds:
        raise bad("release_policy: empty condition list")
    for c in conds:
        if not isinstance(c, dict):
            raise bad("release_policy: a condition is not an object")
        if "claim" in c:
            # The grammar has one operator, equals (sidecars.md §4).
            if set(c) != {"claim", "equals"} or not isinstance(c["claim"], str) or \
                    not isinstance(c["equals"], (str, bool, int, float)):
                raise bad("release_policy: condition must be {claim, equals}")
        elif len(c) == 1 and ("allOf" in c or "anyOf" in c):
            check_conditions(c.get("allOf", c.get("anyOf")))
        else:
            raise bad("release_policy: unknown condition %s" % sorted(c))


def norm(v):
    """Key Vault compares claim values as strings: "false" matches false and
    "0" matches 0 (sidecars.md §6)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def holds(cond, claims, all_of):
    res = []
    for c in cond:
        if "claim" in c:
            res.append(c["claim"] in claims and norm(claims[c["claim"]]) == norm(c["equals"]))
        else:
            res.append(holds(c.get("allOf", c.get("anyOf")), claims, "allOf" in c))
    return all(res) if all_of else any(res)


def policy_allows(pol, claims):
    iss = str(claims.get("iss", "")).rstrip("/").lower()
    for a in pol["anyOf"]:
        if a["authority"].rstrip("/").lower() != iss:
            continue
        if holds(a.get("allOf", a.get("anyOf")), claims, "allOf" in a):
            return True
    return False


class Version:
    pass


class Vault:
    def __init__(self, fake):
        self.fake = fake
        self.keys = {}  # name -> {"versions": [Version], "deleted": bool}
        self.releases = []

    # --- plumbing -----------------------------------------------------------
    def kid(self, name, ver):
        return "%s/keys/%s/%s" % (self.fake.base["vault"], name, ver)

    def latest_kid(self, name):
        return self.kid(name, self.keys[name]["versions"][-1].version)

    def auth(self, req, role):
        info, why = self.fake.bearer(req)
        if info is None:
            hdr = {"WWW-Authenticate": 'Bearer authorization="%s/%s", resource="https://vault.azure.net"'
                   % (self.fake.base["entra"], self.fake.tenant)}
            msg = {"missing": "AKV10000: Request is missing a Bearer or PoP token.",
                   "expired": "AKV10032: Token expired.",
                   }.get(why, "AKV10016: Token is not valid.")
            raise cloud_error(401, "Unauthorized", msg, headers=hdr)
        if info["aud"] not in ("https://vault.azure.net", "https://managedhsm.azure.net"):
            raise cloud_error(401, "Unauthorized", "AKV10022: Invalid audience.")
        if not self.fake.has_role(info["principal"], role):
            raise cloud_error(403, "Forbidden", "Caller is not authorized to perform action on resource.",
                              "ForbiddenByRbac")
        return info

    def handle(self, req):
        if req.query.get("api-version") != "7.4":
            raise bad("The api-version '%s' is not supported; use 7.4." % req.query.get("api-version", ""))
        segs = req.path.split("/")
        if len(segs) < 3 or len(segs) > 5 or segs[0] != "" or segs[1] != "keys":
            raise cloud_error(404, "NotFound", "no such Key Vault path")
        name, rest = segs[2], segs[3:]
        ver, op = "", None
        if rest and rest[-1] in ("release", "create", "versions"):
            op = rest.pop()
        if len(rest) == 1:
            ver = rest[0]
        elif rest:
            raise cloud_error(404, "NotFound", "no such Key Vault path")
        if not NAME_RE.match(name):
            raise bad("key name '%s' must match ^[0-9a-zA-Z-]{1,127}$" % name[:40])
        if ver and not VERSION_RE.match(ver):
            raise cloud_error(404, "KeyNotFound", "A key with (name/id) %s/%s was not found" % (name, ver))
        meth = req.method
        if meth == "POST" and op == "release":
            self.auth(req, "kv-release")
            return self.release(name, ver, req.json())
        self.auth(req, "kv-officer")
        with self.fake.lock:
            if meth == "PUT" and op is None and not ver and not req.path.endswith("/"):
                return self.import_key(name, req.json())
            if meth == "POST" and op == "create" and not ver:
                return self.create_key(name, req.json())
            if meth == "GET" and op == "versions" and not ver:
                return self.list_versions(name)
            if meth == "GET" and op is None:
                return 200, {}, self.bundle(name, self.version(name, ver))
            if meth == "PATCH" and op is None:
                return self.update(name, ver, req.json())
            if meth == "DELETE" and op is None and not ver:
                self.live(name)["deleted"] = True
                return 200, {}, {"recoveryId": "%s/deletedkeys/%s" % (self.fake.base["vault"], name),
                                 "key": {"kid": self.latest_kid(name)}}
        raise cloud_error(405, "MethodNotAllowed", "%s not supported here" % meth)

    def live(self, name):
        k = self.keys.get(name)
        if k is None or k["deleted"]:
            raise cloud_error(404, "KeyNotFound", "A key with (name/id) %s was not found in this key vault." % name)
        return k

    def version(self, name, ver):
        k = self.live(name)
        if not ver:
            return k["versions"][-1]
        for v in k["versions"]:
            if v.version == ver:
                return v
        raise cloud_error(404, "KeyNotFound", "A key with (name/id) %s/%s was not found." % (name, ver))

    def check_free(self, name):
        k = self.keys.get(name)
        if k and k["deleted"]:
            raise cloud_error(409, "Conflict", "Key %s is currently in a deleted but recoverable state." % name,
                              "ObjectIsDeletedButRecoverable")

    # --- import / create ------------------------------------------------------
    def common_attrs(self, body, v):
        attrs = body.get("attributes", {})
        if not isinstance(attrs, dict):
            raise bad("attributes: not an object")
        unknown = set(attrs) - {"enabled", "nbf", "exp", "exportable"}
        if unknown:
            raise bad("attributes: unknown members %s" % sorted(unknown))
        v.enabled = attrs.get("enabled", True)
        v.exportable = attrs.get("exportable", False)
        if not isinstance(v.enabled, bool) or not isinstance(v.exportable, bool):
            raise bad("attributes.enabled/exportable: not a boolean")
        v.policy = None
        if "release_policy" in body and body["release_policy"] is not None:
            v.policy = parse_policy(body["release_policy"])
        if v.exportable and v.policy is None:
            raise bad("Release policy must be provided when creating the 1st version of an exportable key.")
        if v.policy is not None and not v.exportable:
            raise bad("AKV.SKR.1005: Non-exportable keys must not have release policy.")
        tags = body.get("tags", {})
        if not isinstance(tags, dict) or len(tags) > 15 or not all(isinstance(x, str) for x in tags.values()):
            raise bad("tags: at most 15 string pairs")
        v.tags = tags
        v.created = v.updated = int(time.time())

    def add_version(self, name, v):
        v.version = secrets.token_hex(16)
        self.keys.setdefault(name, {"versions": [], "deleted": False})["versions"].append(v)
        return 200, {}, self.bundle(name, v)

    def import_key(self, name, body):
        self.check_free(name)
        if not isinstance(body, dict) or not isinstance(body.get("key"), dict):
            raise bad("key: missing JsonWebKey")
        unknown = set(body) - {"key", "Hsm", "hsm", "attributes", "tags", "release_policy"}
        if unknown:
            raise bad("unknown members %s" % sorted(unknown))
        hsm = body.get("Hsm", body.get("hsm", False))
        if not isinstance(hsm, bool):
            raise bad("Hsm: not a boolean")
        jwk = body["key"]
        kty = jwk.get("kty")
        if kty not in KTYS:
            raise bad("key.kty: '%s' is not one of %s" % (kty, sorted(KTYS)))
        v = Version()
        v.key_ops = jwk.get("key_ops", sorted(KEY_OPS))
        if not isinstance(v.key_ops, list) or not set(v.key_ops) <= KEY_OPS:
            raise bad("key.key_ops: unknown operation")
        self.common_attrs(body, v)
        base = kty.replace("-HSM", "")
        v.kty = base + "-HSM" if (hsm or kty.endswith("-HSM")) else base
        if "key_hsm" in jwk:
            if not kty.endswith("-HSM"):
                raise bad("key.key_hsm: BYOK needs an -HSM kty")
            v.source = "byok"
            v.private = self.unwrap_byok(jwk, base)
        else:
            v.source = "jwk"
            v.private = self.jwk_private(jwk, base)
        return self.add_version(name, v)

    def jwk_private(self, jwk, base):
        try:
            if base == "RSA":
                pub = rsa.RSAPublicNumbers(int_of(jwk, "e"), int_of(jwk, "n"))
                nums = rsa.RSAPrivateNumbers(int_of(jwk, "p"), int_of(jwk, "q"), int_of(jwk, "d"),
                                             int_of(jwk, "dp"), int_of(jwk, "dq"), int_of(jwk, "qi"), pub)
                key = nums.private_key()
                if key.key_size not in (2048, 3072, 4096):
                    raise bad("key: RSA size %d not supported" % key.key_size)
                return key
            if base == "EC":
                crv = CURVES.get(jwk.get("crv"))
                if crv is None:
                    raise bad("key.crv: unsupported")
                pub = ec.EllipticCurvePublicNumbers(int_of(jwk, "x"), int_of(jwk, "y"), crv())
                return ec.EllipticCurvePrivateNumbers(int_of(jwk, "d"), pub).private_key()
            k = b64url_dec(jwk.get("k", ""), "key.k")
            if len(k) not in (16, 24, 32):
                raise bad("key.k: AES keys are 16, 24 or 32 bytes")
            return k
        except ValueError as e:
            raise bad("key: inconsistent JWK (%s)" % e)

    def unwrap_byok(self, jwk, base):
        """BYOK transfer blob (azure-rest.md §3.2): RSA-OAEP-SHA1(KEK, AES key)
        || AES-KWP(AES key, target), target PKCS#8 DER (RSA/EC) or raw (oct)."""
        try:
            blob = json.loads(b64url_dec(jwk["key_hsm"], "key.key_hsm").decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise bad("key.key_hsm: not base64url JSON")
        hdr = blob.get("header") if isinstance(blob, dict) else None
        if not isinstance(hdr, dict) or blob.get("schema_version") != "1.0.0":
            raise bad("key.key_hsm: want schema_version 1.0.0 and a header")
        if hdr.get("alg") != "dir" or hdr.get("enc") != "CKM_RSA_AES_KEY_WRAP":
            raise bad("key.key_hsm: header alg must be dir and enc CKM_RSA_AES_KEY_WRAP")
        kek = None
        for kname, k in self.keys.items():
            for ver in k["versions"]:
                if self.kid(kname, ver.version) == hdr.get("kid") and not k["deleted"]:
                    kek = ver
        if kek is None:
            raise bad("key.key_hsm: header kid names no key-exchange key in this vault")
        if kek.key_ops != ["import"] or not isinstance(kek.private, rsa.RSAPrivateKey):
            raise bad("key.key_hsm: the named key is not an RSA import-only key-exchange key")
        ct = b64url_dec(blob.get("ciphertext", ""), "key_hsm.ciphertext")
        n = kek.private.key_size // 8
        if len(ct) <= n + 8:
            raise bad("key.key_hsm: ciphertext too short")
        try:
            aes = kek.private.decrypt(ct[:n], padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))
        except ValueError:
            raise bad("key.key_hsm: the KEK cannot decrypt the transfer key")
        if len(aes) not in (16, 24, 32):
            raise bad("key.key_hsm: transfer key is not an AES key")
        try:
            target = aes_key_unwrap_with_padding(aes, ct[n:])
        except (InvalidUnwrap, ValueError):
            raise bad("key.key_hsm: AES key unwrap (RFC 5649) failed")
        if base == "oct":
            if len(target) not in (16, 24, 32):
                raise bad("key.key_hsm: oct target is not 16/24/32 bytes")
            return target
        try:
            key = serialization.load_der_private_key(target, None)
        except ValueError:
            raise bad("key.key_hsm: target is not PKCS#8 DER")
        want = rsa.RSAPrivateKey if base == "RSA" else ec.EllipticCurvePrivateKey
        if not isinstance(key, want):
            raise bad("key.key_hsm: target key type does not match kty")
        return key

    def create_key(self, name, body):
        self.check_free(name)
        if not isinstance(body, dict):
            raise bad("body: not an object")
        kty = body.get("kty")
        if kty not in KTYS:
            raise bad("kty: unsupported")
        v = Version()
        v.key_ops = body.get("key_ops", sorted(KEY_OPS))
        if not isinstance(v.key_ops, list) or not set(v.key_ops) <= KEY_OPS:
            raise bad("key_ops: unknown operation")
        self.common_attrs(body, v)
        v.kty, v.source = kty, "create"
        base = kty.replace("-HSM", "")
        if base == "RSA":
            size = body.get("key_size", 2048)
            if size not in (2048, 3072, 4096):
                raise bad("key_size: RSA keys are 2048, 3072 or 4096 bits")
            v.private = rsa.generate_private_key(body.get("public_exponent", 65537), size)
        elif base == "EC":
            crv = CURVES.get(body.get("crv", "P-256"))
            if crv is None:
                raise bad("crv: unsupported")
            v.private = ec.generate_private_key(crv())
        else:
            size = body.get("key_size", 256)
            if size not in (128, 192, 256):
                raise bad("key_size: AES keys are 128, 192 or 256 bits")
            v.private = secrets.token_bytes(size // 8)
        return self.add_version(name, v)

    def seed_kek(self, name):
        with self.fake.lock:
            self.create_key(name, {"kty": "RSA-HSM", "key_size": 2048, "key_ops": ["import"]})

    # --- read / update ----------------------------------------------------------
    def list_versions(self, name):
        k = self.live(name)
        return 200, {}, {"value": [{"kid": self.kid(name, v.version), "attributes": self.attrs(v),
                                    "tags": v.tags} for v in k["versions"]], "nextLink": None}

    def update(self, name, ver, body):
        v = self.version(name, ver)
        if not isinstance(body, dict):
            raise bad("body: not an object")
        unknown = set(body) - {"key_ops", "attributes", "tags", "release_policy"}
        if unknown:
            raise bad("unknown members %s" % sorted(unknown))
        attrs = body.get("attributes") or {}
        if "exportable" in attrs:
            raise bad("AKV.SKR.1014: Cannot modify the exportable state of a key.")
        if set(attrs) - {"enabled", "nbf", "exp"}:
            raise bad("attributes: unknown members")
        if "release_policy" in body:
            if v.policy is not None and v.policy[2]:
                raise cloud_error(403, "Forbidden", "The release policy of this key is immutable.",
                                  "ForbiddenByPolicy")
            if not v.exportable:
                raise bad("AKV.SKR.1005: Non-exportable keys must not have release policy.")
            v.policy = parse_policy(body["release_policy"])
        if "key_ops" in body:
            if not isinstance(body["key_ops"], list) or not set(body["key_ops"]) <= KEY_OPS:
                raise bad("key_ops: unknown operation")
            v.key_ops = body["key_ops"]
        if "enabled" in attrs:
            v.enabled = bool(attrs["enabled"])
        if "tags" in body:
            v.tags = body["tags"]
        v.updated = int(time.time())
        return 200, {}, self.bundle(name, v)

    def attrs(self, v):
        return {"enabled": v.enabled, "created": v.created, "updated": v.updated,
                "recoveryLevel": "Recoverable", "recoverableDays": 90, "exportable": v.exportable}

    def public_jwk(self, name, v):
        jwk = {"kid": self.kid(name, v.version), "kty": v.kty, "key_ops": v.key_ops}
        if isinstance(v.private, rsa.RSAPrivateKey):
            pn = v.private.public_key().public_numbers()
            jwk["n"] = b64url(pn.n.to_bytes((pn.n.bit_length() + 7) // 8, "big"))
            jwk["e"] = b64url(pn.e.to_bytes((pn.e.bit_length() + 7) // 8, "big"))
        elif isinstance(v.private, ec.EllipticCurvePrivateKey):
            pn = v.private.public_key().public_numbers()
            size = (v.private.curve.key_size + 7) // 8
            jwk["crv"] = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521",
                          "secp256k1": "P-256K"}[v.private.curve.name]
            jwk["x"], jwk["y"] = b64url(pn.x.to_bytes(size, "big")), b64url(pn.y.to_bytes(size, "big"))
        return jwk

    def policy_out(self, v):
        pol, ct, imm = v.policy
        # Re-serialised, as Key Vault may do (azure-rest.md §11.2): clients
        # must compare policies semantically, not byte for byte.
        data = json.dumps(pol, separators=(",", ":")).encode()
        return {"contentType": ct, "data": b64url(data), "immutable": imm}

    def bundle(self, name, v):
        out = {"key": self.public_jwk(name, v), "attributes": self.attrs(v)}
        if v.tags:
            out["tags"] = v.tags
        if v.policy is not None:
            out["release_policy"] = self.policy_out(v)
        return out

    # --- release ----------------------------------------------------------------
    def material(self, v):
        if isinstance(v.private, bytes):
            return v.private
        return v.private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())

    def release(self, name, ver, body):
        with self.fake.lock:
            v = self.version(name, ver)
        if not isinstance(body, dict) or not isinstance(body.get("target"), str):
            raise bad("target: the attestation token is required")
        enc = body.get("enc", "CKM_RSA_AES_KEY_WRAP")
        if enc not in ENCS:
            raise bad("enc: unsupported")
        if not v.exportable or v.policy is None:
            raise bad("Key is not exportable.")
        claims = self.fake.maa_verify(body["target"])
        ok = claims is not None and policy_allows(v.policy[0], claims)
        with self.fake.lock:
            self.releases.append({"key": name, "version": v.version, "released": ok})
        if claims is None:
            raise cloud_error(403, "Forbidden", "Target environment attestation statement cannot be verified.",
                              "AccessDenied")
        if not ok:
            raise cloud_error(403, "Forbidden",
                              "Target environment attestation statement does not satisfy the release policy.",
                              "AccessDenied")
        runtime = claims.get("x-ms-runtime", {})
        tkey = None
        for k in (runtime.get("keys", []) if isinstance(runtime, dict) else []):
            if isinstance(k, dict) and k.get("kty") == "RSA":
                tkey = k
                break
        if tkey is None:
            raise bad("target: x-ms-runtime carries no RSA transfer key")
        pub = rsa.RSAPublicNumbers(int_of(tkey, "e"), int_of(tkey, "n")).public_key()
        aes = secrets.token_bytes(32)
        h = ENCS[enc]
        ct = pub.encrypt(aes, padding.OAEP(padding.MGF1(h()), h(), None)) + \
            aes_key_wrap_with_padding(aes, self.material(v))
        key_hsm = b64url(json.dumps({"schema_version": "1.0.0",
                                     "header": {"kid": tkey.get("kid", ""), "alg": "dir", "enc": enc},
                                     "ciphertext": b64url(ct)}).encode())
        kid = self.kid(name, v.version)
        payload = {"request": {"api-version": "7.4", "enc": enc, "kid": kid},
                   "response": {"key": {"attributes": self.attrs(v),
                                        "key": {"key_hsm": key_hsm, "kid": kid, "kty": v.kty,
                                                "key_ops": v.key_ops},
                                        "release_policy": self.policy_out(v)}}}
        key, cert = self.fake.jws_signer()
        chain = [base64.b64encode(cert_der(c)).decode() for c in (cert, self.fake.ca)]
        header = {"alg": "RS256", "x5c": chain, "x5t#S256": b64url(hashlib.sha256(cert_der(cert)).digest())}
        return 200, {}, {"value": jwt_sign(header, payload, key)}

    def control(self, what, body):
        raise HTTPError(404, {"error": "no vault control %s" % what})

    # --- state ------------------------------------------------------------------
    def dump(self):
        out = {}
        for name, k in self.keys.items():
            vs = []
            for v in k["versions"]:
                mat = self.material(v)
                d = {"version": v.version, "kid": self.kid(name, v.version), "kty": v.kty,
                     "key_ops": v.key_ops, "source": v.source, "exportable": v.exportable,
                     "enabled": v.enabled, "tags": v.tags, "material_hex": mat.hex(),
                     "material_sha256": sha256_hex(mat)}
                if isinstance(v.private, rsa.RSAPrivateKey):
                    d["rsa_d_hex"] = format(v.private.private_numbers().d, "x")
                if v.policy is not None:
                    d["release_policy"] = {"policy": v.policy[0], "contentType": v.policy[1],
                                           "immutable": v.policy[2]}
                vs.append(d)
            out[name] = {"deleted": k["deleted"], "versions": vs}
        return {"keys": out, "releases": self.releases}
