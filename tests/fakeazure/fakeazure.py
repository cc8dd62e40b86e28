#!/usr/bin/env python3
"""A local Azure stand-in for nutapply's tests (test harness only).

Four HTTPS listeners on 127.0.0.1 (free ports, one test CA generated per run):
  entra   Entra ID token endpoint (client secret, certificate assertion,
          federated token) and an IMDS-style managed identity endpoint
  arm     Resource Manager: resource groups, deployments (async operations,
          what-if, operations list), container groups, storage listKeys,
          role assignments and a generic store for other resource types
  vault   Key Vault data plane 7.4: import (JWK and BYOK key_hsm, unwrapped
          with the vault's KEK), create, get, versions, update, delete, release
  attest  Microsoft Azure Attestation metadata + JWKS, and a test-only
          issuer of MAA-shaped tokens (signed RS256 with a key only it holds)
Every listener also answers the control paths under /_fake/ (no auth):
  GET  /_fake/state            everything held, incl. unwrapped key material,
                               release policies, templates with secure values
  POST /_fake/faults           replace the fault list (JSON list, see Faults)
  POST /_fake/expire-tokens    every token issued so far is now expired
  POST /_fake/roles            {"principal": ["arm","kv-officer","kv-release"]}
  POST /_fake/arm/container    {"group","container","state","exitCode","detailStatus"}
  POST /_fake/arm/fail-deployment  {"code","message"}: the next deployment fails
  POST /_fake/attest/token     {"claims":{...},"signer":"maa"|"rogue","kid":..}
The contract is azure-rest.md §9 (and §3-§6); the README next to this file
describes how tests use it. On start it writes DIR/endpoints.json (ports,
ids, CA path) atomically; tests wait for that file.
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import re
import secrets
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import HTTPError, b64url, cert_der, cloud_error, jwt_sign, jwt_split  # noqa: E402
from common import ps256_verify, rs256_verify  # noqa: E402
import arm  # noqa: E402
import kv  # noqa: E402

MAX_BODY = 8 << 20
RESOURCES = {
    "https://management.azure.com": "arm",
    "https://vault.azure.net": "vault",
    "https://managedhsm.azure.net": "vault",
    "https://storage.azure.com": "storage",
}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


# ---------------------------------------------------------------- TLS -------
def make_ca_and_cert(directory):
    """A per-run test CA and a server certificate for 127.0.0.1/localhost."""
    now = datetime.datetime.utcnow() - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fakeazure test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    with open(os.path.join(directory, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(directory, "server.pem"), "wb") as f:
        f.write(cert.public_bytes(pem) + ca.public_bytes(pem))
    with open(os.path.join(directory, "server.key"), "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca, ca_key, cert, key


def self_signed(cn, key):
    now = datetime.datetime.utcnow() - datetime.timedelta(minutes=5)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
            .sign(key, hashes.SHA256()))


# ------------------------------------------------------------- faults -------
class Faults:
    """Per-listener fault injection. A fault is a dict:
      service  entra|arm|vault|attest|* (default *)
      method   HTTP method or * ; path: regex searched in the path (default "")
      kind     429 | 500 | 503 | reset | reset-mid | slow | truncated | expired
      nth      fires from the nth matching call (1-based, default 1)
      count    how many times it fires (default 1; 0 = forever)
      retry_after  seconds for 429/503 (default 1); delay  seconds for slow
    From the command line: --fault 'vault:PUT:/keys/:429:nth=2:count=1:retry_after=1'."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = []

    def set(self, items):
        with self.lock:
            self.items = []
            for f in items:
                g = {"service": "*", "method": "*", "path": "", "nth": 1, "count": 1,
                     "retry_after": 1, "delay": 2}
                g.update(f)
                if g["kind"] not in ("429", "500", "503", "reset", "reset-mid", "slow", "truncated", "expired"):
                    raise ValueError("unknown fault kind %r" % g["kind"])
                g["kind"] = str(g["kind"])
                g["seen"] = 0
                g["fired"] = 0
                self.items.append(g)

    @staticmethod
    def parse(spec):
        parts = spec.split(":")
        if len(parts) < 4:
            raise ValueError("fault %r: want service:method:pathregex:kind[:k=v...]" % spec)
        f = {"service": parts[0], "method": parts[1], "path": parts[2], "kind": parts[3]}
        for kv_ in parts[4:]:
            k, _, v = kv_.partition("=")
            f[k] = float(v) if k in ("retry_after", "delay") else int(v)
        return f

    def take(self, service, method, path):
        """Every matching fault counts the call; the first one due fires."""
        chosen = None
        with self.lock:
            for f in self.items:
                if f["service"] not in ("*", service) or f["method"] not in ("*", method):
                    continue
                if f["path"] and not re.search(f["path"], path):
                    continue
                f["seen"] += 1
                if chosen or f["seen"] < f["nth"] or (f["count"] and f["fired"] >= f["count"]):
                    continue
                f["fired"] += 1
                chosen = dict(f)
        return chosen

    def dump(self):
        with self.lock:
            return [dict(f) for f in self.items]


# -------------------------------------------------------------- state -------
class Fake:
    def __init__(self, args, directory):
        self.args = args
        self.dir = directory
        self.lock = threading.RLock()
        self.faults = Faults()
        self.tokens = {}  # token -> {"aud","exp","principal"}
        self.requests = []  # (service, method, path, status)
        self.auth_log = []  # how each token was obtained (never the token)
        self.tenant = args.tenant
        self.client_id = args.client_id
        self.client_secret = os.environ.get("FAKEAZURE_CLIENT_SECRET", "fake-client-secret-not-real")
        self.mi_client_id = args.mi_client_id
        self.roles = {
            self.client_id: {"arm", "kv-officer", "kv-release"},
            self.mi_client_id: {"kv-release"},
        }
        self.client_cert = None
        if args.client_cert:
            with open(args.client_cert, "rb") as f:
                self.client_cert = x509.load_pem_x509_certificate(f.read())
        self.federated_token_file = args.federated_token_file
        self.base = {}  # service -> https://127.0.0.1:port
        self.ca, self.ca_key, self.cert, self.key = make_ca_and_cert(directory)
        self.maa_key = rsa.generate_private_key(65537, 2048)
        self.maa_cert = self_signed("fakeazure MAA signing", self.maa_key)
        self.maa_kid = b64url(hashlib.sha256(cert_der(self.maa_cert)).digest())
        self._rogue_key = self._jws = None
        self.vault = kv.Vault(self)
        self.arm = arm.Arm(self)

    def rogue_key(self):
        with self.lock:
            if self._rogue_key is None:
                self._rogue_key = rsa.generate_private_key(65537, 2048)
            return self._rogue_key

    def jws_signer(self):
        """The key and certificate (issued by the test CA, for 127.0.0.1) that
        sign key release answers, made on first use."""
        with self.lock:
            if self._jws is None:
                import ipaddress
                key = rsa.generate_private_key(65537, 2048)
                now = datetime.datetime.utcnow() - datetime.timedelta(minutes=5)
                cert = (x509.CertificateBuilder()
                        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
                        .issuer_name(self.ca.subject).public_key(key.public_key())
                        .serial_number(x509.random_serial_number())
                        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
                        .add_extension(x509.SubjectAlternativeName([
                            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                            critical=False)
                        .sign(self.ca_key, hashes.SHA256()))
                self._jws = (key, cert)
            return self._jws

    # --- auth -------------------------------------------------------------
    def issue_token(self, aud, principal):
        tok = "fake." + secrets.token_urlsafe(32)
        if aud == "https://storage.azure.com":
            # Azurite (--oauth basic) reads these claims and checks no signature
            now = int(time.time())
            claims = {"aud": aud, "iss": "https://sts.windows.net/%s/" % self.tenant, "iat": now,
                      "nbf": now, "exp": now + int(self.args.token_lifetime), "jti": tok}
            tok = ".".join(b64url(json.dumps(x).encode()) for x in ({"alg": "RS256", "typ": "JWT"}, claims)) + ".fake"
        with self.lock:
            self.tokens[tok] = {"aud": aud, "exp": time.time() + self.args.token_lifetime,
                                "principal": principal}
        return tok

    def bearer(self, req):
        """Returns (token info or None, reason) for the Authorization header."""
        h = req.headers.get("Authorization")
        if not h:
            return None, "missing"
        if not h.startswith("Bearer "):
            return None, "scheme"
        with self.lock:
            info = self.tokens.get(h[7:].strip())
        if info is None:
            return None, "invalid"
        if info["exp"] <= time.time():
            return None, "expired"
        return info, None

    def has_role(self, principal, role):
        with self.lock:
            return role in self.roles.get(principal, set())

    def expire_token(self, req):
        h = req.headers.get("Authorization", "")
        with self.lock:
            if h.startswith("Bearer ") and h[7:].strip() in self.tokens:
                self.tokens[h[7:].strip()]["exp"] = 0

    # --- Entra ------------------------------------------------------------
    def entra(self, req):
        if req.path.startswith("/metadata/identity/oauth2/token"):
            return self.imds(req)
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", req.path)
        if not m or req.method != "POST":
            raise HTTPError(404, {"error": "not_found", "error_description": "no such endpoint"})
        if m.group(1) != self.tenant:
            raise self.aad(400, "invalid_request", 90002, "Tenant '%s' not found." % m.group(1))
        ctype = req.headers.get("Content-Type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            raise self.aad(400, "invalid_request", 900144, "The request body must be form-encoded.")
        try:
            form = urllib.parse.parse_qs(req.body.decode(), keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise self.aad(400, "invalid_request", 900144, "The request body is not a valid form.")
        form = {k: v[0] for k, v in form.items() if len(v) == 1}
        if form.get("grant_type") != "client_credentials":
            raise self.aad(400, "unsupported_grant_type", 70003, "The grant type is not supported.")
        scope = form.get("scope", "")
        if not scope:
            raise self.aad(400, "invalid_request", 900144, "The request body must contain 'scope'.")
        aud = scope[:-len("/.default")] if scope.endswith("/.default") else None
        if aud is None or aud.rstrip("/") not in RESOURCES:
            raise self.aad(400, "invalid_scope", 70011, "The provided value for scope is not valid.")
        if form.get("client_id") != self.client_id:
            raise self.aad(400, "unauthorized_client", 700016, "Application not found in the directory.")
        if "client_secret" in form:
            if not secrets.compare_digest(form["client_secret"], self.client_secret):
                raise self.aad(401, "invalid_client", 7000215, "Invalid client secret provided.")
            how = "secret"
        elif form.get("client_assertion_type") == ASSERTION_TYPE and "client_assertion" in form:
            how = self.check_assertion(form["client_assertion"], req)
        else:
            raise self.aad(400, "invalid_request", 900144, "client_secret or client_assertion is required.")
        tok = self.issue_token(aud.rstrip("/"), self.client_id)
        with self.lock:
            self.auth_log.append({"principal": self.client_id, "method": how, "audience": aud.rstrip("/")})
        return 200, {}, {"token_type": "Bearer", "expires_in": int(self.args.token_lifetime),
                         "ext_expires_in": int(self.args.token_lifetime), "access_token": tok}

    def aad(self, status, error, code, text):
        return HTTPError(status, {"error": error, "error_description": "AADSTS%d: %s" % (code, text),
                                  "error_codes": [code], "trace_id": str(uuid.uuid4()),
                                  "correlation_id": str(uuid.uuid4())})

    def check_assertion(self, assertion, req):
        if self.federated_token_file:
            with open(self.federated_token_file) as f:
                if secrets.compare_digest(assertion.strip(), f.read().strip()):
                    return "federated"
        if self.client_cert is None:
            raise self.aad(401, "invalid_client", 700027, "No certificate is registered for the client.")
        try:
            header, claims, signing_input, sig = jwt_split(assertion, "client_assertion")
        except HTTPError:
            raise self.aad(400, "invalid_request", 50027, "Invalid JWT token.")
        der = cert_der(self.client_cert)
        pub = self.client_cert.public_key()
        if header.get("alg") == "PS256" and header.get("x5t#S256") == b64url(hashlib.sha256(der).digest()):
            ok = ps256_verify(pub, signing_input, sig)
        elif header.get("alg") == "RS256" and header.get("x5t") == b64url(hashlib.sha1(der).digest()):
            ok = rs256_verify(pub, signing_input, sig)
        else:
            raise self.aad(401, "invalid_client", 700027, "Client assertion contains an unknown key or algorithm.")
        if not ok:
            raise self.aad(401, "invalid_client", 700027, "Client assertion failed signature validation.")
        want_aud = self.base["entra"] + "/" + self.tenant + "/oauth2/v2.0/token"
        now = time.time()
        if claims.get("aud") != want_aud:
            raise self.aad(400, "invalid_client", 700021, "Client assertion audience claim does not match.")
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            raise self.aad(400, "invalid_client", 700021, "Client assertion iss and sub must be the client id.")
        exp, nbf = claims.get("exp"), claims.get("nbf", now)
        if not isinstance(exp, (int, float)) or exp <= now or exp > now + 600 + 30 or nbf > now + 30:
            raise self.aad(400, "invalid_client", 700024, "Client assertion is not within its valid time range.")
        if not claims.get("jti"):
            raise self.aad(400, "invalid_client", 700021, "Client assertion has no jti.")
        return "certificate-" + header["alg"]

    def imds(self, req):
        if req.headers.get("Metadata") != "true":
            raise HTTPError(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
        if req.headers.get("X-Forwarded-For"):
            raise HTTPError(400, {"error": "invalid_request", "error_description": "forwarded requests are refused"})
        q = req.query
        if q.get("api-version") != "2018-02-01":
            raise HTTPError(400, {"error": "invalid_request", "error_description": "api-version 2018-02-01 required"})
        res = q.get("resource", "").rstrip("/")
        if res not in RESOURCES:
            raise HTTPError(400, {"error": "invalid_resource", "error_description": "unknown resource"})
        cid = q.get("client_id")
        if cid is not None and cid != self.mi_client_id:
            raise HTTPError(400, {"error": "invalid_request", "error_description": "Identity not found"})
        tok = self.issue_token(res, self.mi_client_id)
        now = int(time.time())
        life = int(self.args.token_lifetime)
        return 200, {}, {"access_token": tok, "refresh_token": "", "expires_in": str(life),
                         "expires_on": str(now + life), "not_before": str(now),
                         "resource": q.get("resource"), "token_type": "Bearer"}

    # --- MAA --------------------------------------------------------------
    def attest(self, req):
        base = self.base["attest"]
        if req.method == "GET" and req.path == "/.well-known/openid-configuration":
            return 200, {}, {"issuer": base, "jwks_uri": base + "/certs",
                             "id_token_signing_alg_values_supported": ["RS256"],
                             "response_types_supported": ["token"],
                             "claims_supported": ["x-ms-attestation-type", "x-ms-sevsnpvm-hostdata"]}
        if req.method == "GET" and req.path == "/certs":
            return 200, {}, {"keys": [{"kid": self.maa_kid, "kty": "RSA", "alg": "RS256", "use": "sig",
                                       "x5c": [base64.b64encode(cert_der(self.maa_cert)).decode()]}]}
        raise HTTPError(404, {"error": {"code": "NotFound", "message": "no such attestation path"}})

    def issue_maa(self, spec):
        """A MAA-shaped token (sidecars.md §6) for given claims; defaults
        describe a compliant ACI SEV-SNP group at VMPL 0."""
        now = int(time.time())
        base = self.base["attest"]
        claims = {"iss": base, "iat": now, "nbf": now, "exp": now + 28800, "jti": secrets.token_hex(16),
                  "x-ms-ver": "1.0", "x-ms-attestation-type": "sevsnpvm",
                  "x-ms-compliance-status": "azure-compliant-uvm", "x-ms-sevsnpvm-is-debuggable": False,
                  "x-ms-sevsnpvm-vmpl": 0, "x-ms-policy-hash": b64url(secrets.token_bytes(32))}
        claims.update(spec.get("claims", {}))
        for k in [k for k, v in claims.items() if v is None]:
            del claims[k]
        key = self.rogue_key() if spec.get("signer") == "rogue" else self.maa_key
        header = {"alg": "RS256", "jku": spec.get("jku", base + "/certs"), "kid": spec.get("kid", self.maa_kid),
                  "typ": "JWT"}
        return jwt_sign(header, claims, key)

    def maa_verify(self, token):
        """Verifies a token as Key Vault does before evaluating a release
        policy: RS256 by the MAA key, in its validity window. Returns claims."""
        header, claims, signing_input, sig = jwt_split(token, "target")
        if header.get("alg") != "RS256" or header.get("kid") != self.maa_kid:
            return None
        if not rs256_verify(self.maa_key.public_key(), signing_input, sig):
            return None
        now = time.time()
        if not (claims.get("nbf", 0) - 60 <= now < claims.get("exp", 0) + 60):
            return None
        return claims

    # --- control ----------------------------------------------------------
    def control(self, req):
        p = req.path
        body = req.json() if req.body else None
        if p == "/_fake/state" and req.method == "GET":
            return 200, {}, self.dump()
        if p == "/_fake/faults" and req.method == "POST":
            try:
                self.faults.set(body or [])
            except (ValueError, KeyError, TypeError) as e:
                raise HTTPError(400, {"error": str(e)})
            return 200, {}, {"faults": self.faults.dump()}
        if p == "/_fake/expire-tokens" and req.method == "POST":
            with self.lock:
                for t in self.tokens.values():
                    t["exp"] = 0
            return 200, {}, {"expired": len(self.tokens)}
        if p == "/_fake/roles" and req.method == "POST":
            with self.lock:
                for k, v in body.items():
                    self.roles[k] = set(v)
            return 200, {}, {k: sorted(v) for k, v in self.roles.items()}
        if p == "/_fake/attest/token" and req.method == "POST":
            return 200, {}, {"token": self.issue_maa(body or {})}
        if p.startswith("/_fake/arm/") and req.method == "POST":
            return self.arm.control(p[len("/_fake/arm/"):], body or {})
        if p.startswith("/_fake/vault/") and req.method == "POST":
            return self.vault.control(p[len("/_fake/vault/"):], body or {})
        raise HTTPError(404, {"error": "no such control path"})

    def dump(self):
        with self.lock:
            return {"endpoints": self.base, "tenant": self.tenant, "client_id": self.client_id,
                    "vault": self.vault.dump(), "arm": self.arm.dump(),
                    "tokens_issued": len(self.tokens), "auth": self.auth_log, "faults": self.faults.dump(),
                    "requests": [{"service": s, "method": m, "path": p, "status": st}
                                 for s, m, p, st in self.requests]}


# ------------------------------------------------------------- server -------
class Request:
    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body

    def json(self):
        try:
            v = json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise cloud_error(400, "InvalidRequestContent", "The request content is not valid JSON.")
        return v


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeazure/1.0"

    def log_message(self, fmt, *a):  # quiet: tests read /_fake/state instead
        if self.server.fake.args.verbose:
            sys.stderr.write("fakeazure %s: %s\n" % (self.server.service, fmt % a))

    def do_GET(self):
        self.dispatch()

    do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_GET

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
                if len(out) > MAX_BODY:
                    raise cloud_error(413, "RequestBodyTooLarge", "body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise cloud_error(413, "RequestBodyTooLarge", "body too large")
        return self.rfile.read(n) if n else b""

    def dispatch(self):
        fake, service = self.server.fake, self.server.service
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        query = {k: v[-1] for k, v in q.items()}
        try:
            body = self.read_body()
        except HTTPError as e:
            self.close_connection = True
            return self.reply(e.status, e.headers, e.body)
        req = Request(self.command, path, query, self.headers, body)
        if path.startswith("/_fake/"):
            try:
                status, hdrs, obj = fake.control(req)
            except HTTPError as e:
                status, hdrs, obj = e.status, e.headers, e.body
            return self.reply(status, hdrs, obj)
        fault = fake.faults.take(service, self.command, path)
        if fault and fault["kind"] == "slow":
            time.sleep(fault["delay"])
        if fault and fault["kind"] in ("429", "500", "503"):
            st = int(fault["kind"])
            code = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}[st]
            hdrs = {"Retry-After": str(int(fault["retry_after"]))} if st != 500 else {}
            return self.finish_req(service, path, st, hdrs, {"error": {"code": code, "message": "fault injected"}})
        if fault and fault["kind"] == "reset":
            return self.reset(service, path)
        if fault and fault["kind"] == "expired":
            fake.expire_token(req)
        handler = {"entra": fake.entra, "arm": fake.arm.handle, "vault": fake.vault.handle,
                   "attest": fake.attest}[service]
        try:
            status, hdrs, obj = handler(req)
        except HTTPError as e:
            status, hdrs, obj = e.status, e.headers, e.body
        except Exception as e:  # a bug in the fake: say so loudly
            import traceback
            traceback.print_exc()
            status, hdrs, obj = 500, {}, {"error": {"code": "FakeBug", "message": repr(e)}}
        if fault and fault["kind"] == "reset-mid":
            return self.reset(service, path, partial=(status, hdrs, obj))
        if fault and fault["kind"] == "truncated":
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data[: max(1, len(data) // 2)])
            self.close_connection = True
            self.record(service, path, "truncated")
            return None
        return self.finish_req(service, path, status, hdrs, obj)

    def record(self, service, path, status):
        fake = self.server.fake
        with fake.lock:
            fake.requests.append((service, self.command, path, status))

    def finish_req(self, service, path, status, hdrs, obj):
        self.record(service, path, status)
        return self.reply(status, hdrs, obj)

    def reset(self, service, path, partial=None):
        self.record(service, path, "reset")
        if partial:
            status, hdrs, obj = partial
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
        try:  # RST instead of FIN: SO_LINGER with a zero timeout
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def reply(self, status, hdrs, obj):
        rid = str(uuid.uuid4())
        data = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        if obj is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", rid)
        cid = self.headers.get("x-ms-client-request-id")
        if cid:
            self.send_header("x-ms-client-request-id", cid[:1024])
        if isinstance(obj, dict) and isinstance(obj.get("error"), dict) and "code" in obj["error"]:
            self.send_header("x-ms-error-code", obj["error"]["code"])
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def serve(fake, service, ctx):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.fake, srv.service = fake, service
    fake.base[service] = "https://127.0.0.1:%d" % srv.server_address[1]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="writes ca.pem, endpoints.json here")
    ap.add_argument("--tenant", default="00000000-0000-4000-8000-0000000000aa")
    ap.add_argument("--client-id", default="00000000-0000-4000-8000-0000000000c1")
    ap.add_argument("--mi-client-id", default="00000000-0000-4000-8000-0000000000d1")
    ap.add_argument("--subscription", default="00000000-0000-4000-8000-0000000000b5")
    ap.add_argument("--client-cert", help="PEM certificate registered for assertions")
    ap.add_argument("--federated-token-file", help="file whose content is an accepted federated assertion")
    ap.add_argument("--token-lifetime", type=float, default=3599)
    ap.add_argument("--lro-style", default="cycle", choices=["cycle", "async", "location", "both", "none"])
    ap.add_argument("--lro-polls", type=int, default=2, help="Running answers before a terminal one")
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--start-polls", type=int, default=1, help="container GETs before Running")
    ap.add_argument("--storage-account", action="append", default=[], help="RG/NAME that exists")
    ap.add_argument("--resource-group", action="append", default=[], help="NAME[@location] that exists")
    ap.add_argument("--kek", action="append", default=[], help="NAME: RSA-HSM 2048 import-only KEK to create")
    ap.add_argument("--fault", action="append", default=[], help="service:method:pathregex:kind[:k=v...]")
    ap.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    directory = os.path.abspath(args.dir)
    os.makedirs(directory, exist_ok=True)
    fake = Fake(args, directory)
    __import__("infra").install(fake)  # nutapply infra resources (infra.py)
    fake.faults.set([Faults.parse(s) for s in args.fault])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(directory, "server.pem"), os.path.join(directory, "server.key"))
    servers = [serve(fake, s, ctx) for s in ("entra", "arm", "vault", "attest")]
    for spec in args.resource_group:
        name, _, loc = spec.partition("@")
        fake.arm.seed_group(name, loc or "westeurope")
    for spec in args.storage_account:
        fake.arm.seed_storage(*spec.split("/", 1))
    for name in args.kek:
        fake.vault.seed_kek(name)
    info = dict(fake.base)
    info.update({"ca": os.path.join(directory, "ca.pem"), "tenant": args.tenant, "client_id": args.client_id,
                 "mi_client_id": args.mi_client_id, "subscription": args.subscription,
                 "imds": fake.base["entra"] + "/metadata/identity/oauth2/token", "pid": os.getpid(),
                 "keks": {n: fake.vault.latest_kid(n) for n in args.kek}})
    tmp = os.path.join(directory, "endpoints.json.tmp")
    with open(tmp, "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
    os.rename(tmp, os.path.join(directory, "endpoints.json"))
    try:
        while True:
            time.sleep(0.5)
            if args.parent_pid:
                try:
                    os.kill(args.parent_pid, 0)
                except ProcessLookupError:
                    break
    except KeyboardInterrupt:
        pass
    for s in servers:
        s.shutdown()


if __name__ == "__main__":
    main()
