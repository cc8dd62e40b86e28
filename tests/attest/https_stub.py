#!/usr/bin/env python3
"""Test harness: a tiny HTTPS server on 127.0.0.1 playing the mint's
GET /v1/attestation(/info) and an attestation provider's GET /certs from
files, with its own test CA (python3-cryptography). Not a product component.

  https_stub.py DIR PARENT_PID
Writes DIR/ca.pem, then DIR/url (https://127.0.0.1:PORT) once listening.
Routes come from DIR/routes.json, {"/path": "file"}, reread on every
request (a missing route or file answers 404). Exits when PARENT_PID is gone.
"""
import datetime
import http.server
import ipaddress
import json
import os
import ssl
import sys
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certs(d):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nutgen attest test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    with open(os.path.join(d, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(d, "server.pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def main():
    d, parent = sys.argv[1], int(sys.argv[2])
    make_certs(d)

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            try:
                routes = json.load(open(os.path.join(d, "routes.json")))
                body = open(routes[self.path.split("?")[0]], "rb").read()
                code = 200
            except (OSError, KeyError, ValueError):
                body, code = b'{"detail":"Not Found"}', 404
            with open(os.path.join(d, "requests.log"), "a") as f:
                f.write(self.path + "\n")
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)

    def watch():
        while True:
            try:
                os.kill(parent, 0)
            except OSError:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()
    with open(os.path.join(d, "url.tmp"), "w") as f:
        f.write("https://127.0.0.1:%d" % srv.server_address[1])
    os.rename(os.path.join(d, "url.tmp"), os.path.join(d, "url"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
