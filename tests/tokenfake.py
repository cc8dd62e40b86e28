#!/usr/bin/env python3
"""tokenfake.py: a minimal HTTPS token issuer for the credential chain tests
(azure-rest.md §5): Entra v2 client credentials (secret, certificate
assertion, federated token), IMDS and App Service managed identity. It checks
each request the way §5/§9 describe and issues JWT-shaped tokens that Azurite
(--oauth basic) accepts for https://storage.azure.com. Python 3 stdlib +
cryptography (the assertion's PS256 signature is verified, salt length 32).

Usage: tokenfake.py --cert PEM --key PEM --port-file F --log F
         --tenant T --client C --secret-file F --client-cert PEM
         --federated-file F --identity-header H
The log gets one line per token issued: "<kind> <scope-or-resource>" or
"reject <why>"; it never holds secrets.
"""
import argparse, base64, hashlib, http.server, json, os, ssl, time, urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

A = None


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def token(aud):
    now = int(time.time())
    h = b64u(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    p = b64u(json.dumps({"aud": aud, "iss": "https://sts.windows.net/%s/" % A.tenant,
                         "iat": now, "nbf": now, "exp": now + 3600, "tid": A.tenant}).encode())
    return h + "." + p + "." + b64u(b"not-signed")


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def note(self, s):
        with open(A.log, "a") as f:
            f.write(s + "\n")

    def reply(self, st, obj):
        b = json.dumps(obj).encode()
        self.send_response(st)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def bad(self, why, st=401):
        self.note("reject " + why)
        self.reply(st, {"error": "invalid_client", "error_description": "AADSTS7000215: " + why})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        f = urllib.parse.parse_qs(self.rfile.read(n).decode(), strict_parsing=True)
        f = {k: v[0] for k, v in f.items()}
        if self.path != "/%s/oauth2/v2.0/token" % A.tenant:
            return self.bad("unknown tenant path " + self.path, 400)
        if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return self.bad("content type", 400)
        if f.get("grant_type") != "client_credentials" or f.get("client_id") != A.client:
            return self.bad("grant_type/client_id", 400)
        scope = f.get("scope", "")
        if scope != "https://storage.azure.com/.default":
            return self.bad("scope " + scope, 400)
        if "client_secret" in f:
            if f["client_secret"] != open(A.secret_file).read().strip():
                return self.bad("bad secret")
            kind = "secret"
        elif f.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            a = f.get("client_assertion", "")
            if a == open(A.federated_file).read().strip():
                kind = "federated"
            else:
                try:
                    hs, ps, ss = a.split(".")
                    hdr, pl = json.loads(unb64u(hs)), json.loads(unb64u(ps))
                    cert = x509.load_pem_x509_certificate(open(A.client_cert, "rb").read())
                    der = cert.public_bytes(encoding=__import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)
                    assert hdr == {"alg": "PS256", "typ": "JWT", "x5t#S256": b64u(hashlib.sha256(der).digest())}, hdr
                    cert.public_key().verify(unb64u(ss), (hs + "." + ps).encode(),
                                             padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                                             hashes.SHA256())
                    now = time.time()
                    aud = "https://%s/%s/oauth2/v2.0/token" % (self.headers["Host"], A.tenant)
                    assert pl["aud"] == aud, pl["aud"]
                    assert pl["iss"] == pl["sub"] == A.client
                    assert pl["nbf"] <= now + 5 and now < pl["exp"] <= now + 660 and len(pl["jti"]) == 36
                except Exception as e:  # noqa: any failure is a rejection
                    return self.bad("assertion: %r" % (e,))
                kind = "certificate"
        else:
            return self.bad("no credential", 400)
        self.note("%s %s" % (kind, scope))
        self.reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                         "access_token": token("https://storage.azure.com")})

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        res = q.get("resource", "")
        now = int(time.time())
        if u.path == "/metadata/identity/oauth2/token":
            if self.headers.get("Metadata") != "true" or q.get("api-version") != "2018-02-01":
                return self.bad("imds: Metadata header/api-version", 400)
            self.note("imds %s" % res)
            return self.reply(200, {"access_token": token(res), "refresh_token": "", "expires_in": "3599",
                                    "expires_on": str(now + 3599), "not_before": str(now),
                                    "resource": res, "token_type": "Bearer"})
        if u.path == "/msi/token":
            if self.headers.get("X-IDENTITY-HEADER") != A.identity_header or q.get("api-version") != "2019-08-01":
                return self.bad("appservice: header/api-version", 400)
            self.note("appservice %s" % res)
            return self.reply(200, {"access_token": token(res), "expires_on": str(now + 3599),
                                    "resource": res, "token_type": "Bearer", "client_id": A.client})
        self.bad("no such path " + u.path, 404)


def main():
    global A
    p = argparse.ArgumentParser()
    for o in ("cert", "key", "port-file", "log", "tenant", "client", "secret-file", "client-cert",
              "federated-file", "identity-header"):
        p.add_argument("--" + o, required=True)
    A = p.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(A.cert, A.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(A.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(A.port_file + ".tmp", A.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
