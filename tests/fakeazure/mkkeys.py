#!/usr/bin/env python3
"""Test data for the Key Vault client, made independently of nutapply with
python-cryptography (an oracle, not our C):
  mkkeys.py byok KEK_PUBLIC_JWK_JSON KID OUT.byok OUT.der   RSA-2048 key, PKCS#8
      DER in OUT.der, wrapped per the BYOK format (azure-rest.md §3.2)
  mkkeys.py jwk OUT.json OUT.dhex                           private RSA JWK
  mkkeys.py policy AUTHORITY HOSTDATA OUT.json              release policy with
      the four claims of sidecars.md §4, in that order
  mkkeys.py cloud ENDPOINTS.json OUT.json                   custom cloud for the fake"""
import base64
import json
import secrets
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_int(s):
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")


def be(i):
    return b64u(i.to_bytes((i.bit_length() + 7) // 8, "big"))


cmd = sys.argv[1]
if cmd == "byok":
    jwk = json.load(open(sys.argv[2]))["key"]
    kek = rsa.RSAPublicNumbers(b64u_int(jwk["e"]), b64u_int(jwk["n"])).public_key()
    key = rsa.generate_private_key(65537, 2048)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    aes = secrets.token_bytes(32)
    ct = kek.encrypt(aes, padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)) + \
        aes_key_wrap_with_padding(aes, der)
    blob = {"schema_version": "1.0.0", "header": {"kid": sys.argv[3], "alg": "dir", "enc": "CKM_RSA_AES_KEY_WRAP"},
            "ciphertext": b64u(ct), "generator": "mkkeys.py"}
    open(sys.argv[4], "w").write(json.dumps(blob))
    open(sys.argv[5], "w").write(der.hex())
elif cmd == "jwk":
    n = rsa.generate_private_key(65537, 2048).private_numbers()
    jwk = {"kty": "RSA", "n": be(n.public_numbers.n), "e": be(n.public_numbers.e), "d": be(n.d), "p": be(n.p),
           "q": be(n.q), "dp": be(n.dmp1), "dq": be(n.dmq1), "qi": be(n.iqmp)}
    open(sys.argv[2], "w").write(json.dumps(jwk))
    open(sys.argv[3], "w").write(format(n.d, "x"))
elif cmd == "policy":
    pol = {"version": "1.0.0", "anyOf": [{"authority": sys.argv[2], "allOf": [
        {"claim": "x-ms-sevsnpvm-hostdata", "equals": sys.argv[3]},
        {"claim": "x-ms-compliance-status", "equals": "azure-compliant-uvm"},
        {"claim": "x-ms-sevsnpvm-is-debuggable", "equals": "false"},
        {"claim": "x-ms-sevsnpvm-vmpl", "equals": "0"}]}]}
    open(sys.argv[4], "w").write(json.dumps(pol, separators=(",", ":")))
elif cmd == "cloud":
    ep = json.load(open(sys.argv[2]))
    cloud = {"name": "fakeazure", "authority": ep["entra"], "management": ep["arm"],
             "management_resource": "https://management.azure.com", "storage_resource": "https://storage.azure.com",
             "vault_resource": "https://vault.azure.net", "vault_suffix": "vault.azure.net",
             "blob_suffix": "blob.core.windows.net", "attest_suffix": "attest.azure.net",
             "imds": ep["entra"]}
    open(sys.argv[3], "w").write(json.dumps(cloud))
else:
    sys.exit("mkkeys.py: unknown command " + cmd)
