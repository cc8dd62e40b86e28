#!/usr/bin/env python3
"""Self-test of the Azure stand-in: shows that it enforces azure-rest.md §9
(and really unwraps BYOK blobs, evaluates release policies, runs async
operations and injects faults). Usage: selftest.py DIR (of a running fake).
Exit 0 when every check holds; the first failed check is printed."""
import base64
import hashlib
import http.client
import json
import os
import secrets
import ssl
import sys
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding, aes_key_wrap_with_padding

D = sys.argv[1]
EP = json.load(open(os.path.join(D, "endpoints.json")))
CTX = ssl.create_default_context(cafile=EP["ca"])
SECRET = os.environ["FAKEAZURE_CLIENT_SECRET"]
SUB = EP["subscription"]
RG = "/subscriptions/%s/resourceGroups/rg1" % SUB
checks = 0


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def call(method, url, body=None, token=None, headers=None, form=None):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPSConnection(u.hostname, u.port, context=CTX, timeout=20)
    h = dict(headers or {})
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, u.path + ("?" + u.query if u.query else ""), body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    c.close()
    try:
        obj = json.loads(raw) if raw else None
    except ValueError:
        obj = raw
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), obj


def check(cond, what):
    global checks
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    checks += 1


def code(obj):
    return obj["error"]["code"] if isinstance(obj, dict) and isinstance(obj.get("error"), dict) else obj


def token(resource, secret=SECRET, scope=None):
    return call("POST", "%s/%s/oauth2/v2.0/token" % (EP["entra"], EP["tenant"]), form={
        "client_id": EP["client_id"], "scope": scope or resource + "/.default",
        "grant_type": "client_credentials", "client_secret": secret})


def ctl(path, body=None):
    st, _, obj = call("POST" if body is not None else "GET", EP["arm"] + "/_fake/" + path, body)
    assert st == 200, (path, st, obj)
    return obj


# --- Entra ---------------------------------------------------------------------------
st, _, o = token("https://vault.azure.net", secret="wrong")
check(st == 401 and o["error"] == "invalid_client" and "AADSTS7000215" in o["error_description"], "bad secret -> 401")
st, _, o = token("https://example.com")
check(st == 400 and o["error"] == "invalid_scope", "unknown scope -> 400")
st, _, o = call("POST", "%s/%s/oauth2/v2.0/token" % (EP["entra"], EP["tenant"]), form={
    "client_id": EP["client_id"], "scope": "https://vault.azure.net/.default", "grant_type": "password",
    "client_secret": SECRET})
check(st == 400 and o["error"] == "unsupported_grant_type", "wrong grant_type -> 400")
st, _, o = token("https://vault.azure.net")
check(st == 200 and o["token_type"] == "Bearer" and isinstance(o["expires_in"], int), "client secret token")
KV = o["access_token"]
ARM = token("https://management.azure.com")[2]["access_token"]
st, _, o = call("GET", EP["imds"] + "?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net")
check(st == 400, "IMDS without Metadata: true -> 400")
st, _, o = call("GET", EP["imds"] + "?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net",
                headers={"Metadata": "true"})
check(st == 200 and isinstance(o["expires_in"], str), "IMDS token, string values")
MI = o["access_token"]

# Certificate assertions (azure-rest.md §5.2): PS256 with a 32-byte salt and
# x5t#S256, or RS256 with x5t; aud = the token endpoint; exp <= 10 min.
ckey = serialization.load_pem_private_key(open(os.environ["FAKEAZURE_TEST_CLIENT_KEY"], "rb").read(), None)
cder = x509.load_pem_x509_certificate(open(os.path.join(os.path.dirname(os.environ["FAKEAZURE_TEST_CLIENT_KEY"]),
                                                        "client.pem"), "rb").read()).public_bytes(serialization.Encoding.DER)
TOKEN_URL = "%s/%s/oauth2/v2.0/token" % (EP["entra"], EP["tenant"])


def assertion(alg="PS256", salt=32, aud=TOKEN_URL, life=300):
    now = int(time.time())
    hdr = {"alg": alg, "typ": "JWT"}
    if alg == "PS256":
        hdr["x5t#S256"] = b64u(hashlib.sha256(cder).digest())
    else:
        hdr["x5t"] = b64u(hashlib.sha1(cder).digest())
    claims = {"aud": aud, "iss": EP["client_id"], "sub": EP["client_id"], "jti": secrets.token_hex(8),
              "nbf": now, "iat": now, "exp": now + life}
    si = (b64u(json.dumps(hdr).encode()) + "." + b64u(json.dumps(claims).encode())).encode()
    if alg == "PS256":
        sig = ckey.sign(si, padding.PSS(padding.MGF1(hashes.SHA256()), salt), hashes.SHA256())
    else:
        sig = ckey.sign(si, padding.PKCS1v15(), hashes.SHA256())
    return si.decode() + "." + b64u(sig)


def by_assertion(a):
    return call("POST", TOKEN_URL, form={"client_id": EP["client_id"], "scope": "https://vault.azure.net/.default",
                                        "grant_type": "client_credentials", "client_assertion": a,
                                        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})


check(by_assertion(assertion())[0] == 200, "PS256 assertion, salt 32")
check(by_assertion(assertion(alg="RS256"))[0] == 200, "RS256 assertion with x5t")
check(by_assertion(assertion(salt=padding.PSS.MAX_LENGTH))[0] == 401, "PS256 with OpenSSL's maximum salt -> 401")
check(by_assertion(assertion(aud=EP["entra"]))[0] == 400, "assertion with another audience -> 400")
check(by_assertion(assertion(life=3600))[0] == 400, "assertion valid for an hour -> 400")

# --- Key Vault: auth and api-version -----------------------------------------------------
V = EP["vault"]
st, h, o = call("GET", V + "/keys/kek1?api-version=7.4")
check(st == 401 and "AKV10000" in o["error"]["message"] and 'resource="https://vault.azure.net"' in h["www-authenticate"],
      "vault: no token -> 401 challenge")
st, _, o = call("GET", V + "/keys/kek1", token=KV)
check(st == 400 and code(o) == "BadParameter", "vault: missing api-version -> 400")
st, _, o = call("GET", V + "/keys/kek1?api-version=7.3", token=KV)
check(st == 400 and code(o) == "BadParameter", "vault: api-version 7.3 -> 400")
st, _, o = call("GET", V + "/keys/kek1?api-version=7.4", token=ARM)
check(st == 401, "vault: ARM audience -> 401")
st, _, o = call("GET", V + "/keys/kek1?api-version=7.4", token=MI)
check(st == 403 and o["error"]["innererror"]["code"] == "ForbiddenByRbac", "vault: identity without officer role -> 403")

# --- Key Vault: JWK import rules ---------------------------------------------------------
HOSTDATA = hashlib.sha256(b"policy").hexdigest()


def policy(hostdata, authority=EP["attest"]):
    return {"version": "1.0.0", "anyOf": [{"authority": authority, "allOf": [
        {"claim": "x-ms-sevsnpvm-hostdata", "equals": hostdata},
        {"claim": "x-ms-compliance-status", "equals": "azure-compliant-uvm"},
        {"claim": "x-ms-sevsnpvm-is-debuggable", "equals": "false"},
        {"claim": "x-ms-sevsnpvm-vmpl", "equals": "0"}]}]}


def rp(pol, std=False):
    raw = json.dumps(pol).encode()
    data = base64.b64encode(raw).decode() if std else b64u(raw)
    return {"contentType": "application/json; charset=utf-8", "data": data}


def rsa_jwk(key):
    n = key.private_numbers()

    def e(i):
        return b64u(i.to_bytes((i.bit_length() + 7) // 8, "big"))
    return {"kty": "RSA-HSM", "n": e(n.public_numbers.n), "e": e(n.public_numbers.e), "d": e(n.d), "p": e(n.p),
            "q": e(n.q), "dp": e(n.dmp1), "dq": e(n.dmq1), "qi": e(n.iqmp), "key_ops": ["encrypt", "decrypt"]}


mint = rsa.generate_private_key(65537, 2048)
url = V + "/keys/mintkey?api-version=7.4"
st, _, o = call("PUT", url, {"key": rsa_jwk(mint), "Hsm": True, "attributes": {"exportable": True}}, KV)
check(st == 400 and code(o) == "BadParameter", "exportable without release_policy -> 400")
st, _, o = call("PUT", url, {"key": rsa_jwk(mint), "hsm": True, "release_policy": rp(policy(HOSTDATA))}, KV)
check(st == 400 and "AKV.SKR.1005" in o["error"]["message"], "release_policy without exportable -> 400 AKV.SKR.1005")
bad = rsa_jwk(mint)
bad["d"] = bad["d"][:-4] + "AAAA"
st, _, o = call("PUT", url, {"key": bad, "attributes": {"exportable": True}, "release_policy": rp(policy(HOSTDATA))}, KV)
check(st == 400, "inconsistent RSA JWK -> 400")
bad = rsa_jwk(mint)
bad["n"] = "***"
st, _, o = call("PUT", url, {"key": bad, "attributes": {"exportable": True}, "release_policy": rp(policy(HOSTDATA))}, KV)
check(st == 400, "non-base64url JWK member -> 400")
pol_notequals = policy(HOSTDATA)
pol_notequals["anyOf"][0]["allOf"][0] = {"claim": "x-ms-sevsnpvm-hostdata", "notEquals": "x"}
st, _, o = call("PUT", url, {"key": rsa_jwk(mint), "attributes": {"exportable": True}, "release_policy": rp(pol_notequals)}, KV)
check(st == 400, "release policy with an operator other than equals -> 400")
st, _, o = call("PUT", url, {"key": rsa_jwk(mint), "Hsm": True, "attributes": {"exportable": True},
                             "release_policy": rp(policy(HOSTDATA), std=True)}, KV)
check(st == 200 and o["attributes"]["exportable"] and "d" not in o["key"] and o["key"]["kid"].startswith(V + "/keys/mintkey/"),
      "JWK import (std base64 policy data accepted), public only back")
check(json.loads(b64u_dec(o["release_policy"]["data"])) == policy(HOSTDATA), "release policy read back equals (semantically)")
kid1 = o["key"]["kid"]
st, _, o = call("GET", V + "/keys/mintkey/?api-version=7.4", token=KV)
check(st == 200 and o["key"]["kid"] == kid1 and "d" not in o["key"], "GET latest (empty version) has no private members")
st, _, o = call("PATCH", V + "/keys/mintkey/?api-version=7.4", {"attributes": {"exportable": True}}, KV)
check(st == 400 and "AKV.SKR.1014" in o["error"]["message"], "exportable in PATCH -> 400 AKV.SKR.1014")
HOSTDATA2 = hashlib.sha256(b"policy2").hexdigest()
st, _, o = call("PATCH", V + "/keys/mintkey/?api-version=7.4", {"release_policy": rp(policy(HOSTDATA2))}, KV)
check(st == 200 and json.loads(b64u_dec(o["release_policy"]["data"])) == policy(HOSTDATA2), "PATCH release policy")
state = ctl("state")
v = state["vault"]["keys"]["mintkey"]["versions"][-1]
check(v["rsa_d_hex"] == format(mint.private_numbers().d, "x"), "state: JWK key material held")
check(v["release_policy"]["policy"] == policy(HOSTDATA2), "state: updated policy held")

# --- Key Vault: BYOK -----------------------------------------------------------------------
kek_kid = EP["keks"]["kek1"]
st, _, o = call("GET", kek_kid + "?api-version=7.4", token=KV)
kek_pub = rsa.RSAPublicNumbers(int.from_bytes(b64u_dec(o["key"]["e"]), "big"),
                               int.from_bytes(b64u_dec(o["key"]["n"]), "big")).public_key()


def byok(target, kid=kek_kid, pub=kek_pub):
    aes = secrets.token_bytes(32)
    ct = pub.encrypt(aes, padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)) + \
        aes_key_wrap_with_padding(aes, target)
    blob = {"schema_version": "1.0.0", "header": {"kid": kid, "alg": "dir", "enc": "CKM_RSA_AES_KEY_WRAP"},
            "ciphertext": b64u(ct), "generator": "selftest"}
    return b64u(json.dumps(blob).encode())


byok_key = rsa.generate_private_key(65537, 2048)
der = byok_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
body = {"key": {"kty": "RSA-HSM", "key_ops": ["encrypt", "decrypt"], "key_hsm": byok(der)}, "Hsm": True,
        "attributes": {"exportable": True}, "release_policy": rp(policy(HOSTDATA))}
st, _, o = call("PUT", V + "/keys/byokkey?api-version=7.4", body, KV)
check(st == 200 and o["attributes"]["exportable"], "BYOK import")
v = ctl("state")["vault"]["keys"]["byokkey"]["versions"][-1]
check(v["source"] == "byok" and v["material_hex"] == der.hex(), "state: BYOK blob really unwrapped to the PKCS#8 sent")
other = rsa.generate_private_key(65537, 2048)
body["key"]["key_hsm"] = byok(der, pub=other.public_key())
st, _, o = call("PUT", V + "/keys/byokkey?api-version=7.4", body, KV)
check(st == 400 and "KEK cannot decrypt" in o["error"]["message"], "BYOK wrapped to another key -> 400")
# another version of the KEK: change its last character (1 in 16 already ends in 0)
body["key"]["key_hsm"] = byok(der, kid=kek_kid[:-1] + ("1" if kek_kid.endswith("0") else "0"))
st, _, o = call("PUT", V + "/keys/byokkey?api-version=7.4", body, KV)
check(st == 400, "BYOK naming an unknown KEK version -> 400")
st, _, o = call("PUT", V + "/keys/octkey?api-version=7.4", {"key": {"kty": "oct-HSM", "key_hsm": byok(b"\x07" * 32)},
                "attributes": {"exportable": True}, "release_policy": rp(policy(HOSTDATA))}, KV)
check(st == 200 and ctl("state")["vault"]["keys"]["octkey"]["versions"][0]["material_hex"] == "07" * 32, "BYOK oct-HSM")

st, _, o = call("DELETE", V + "/keys/octkey?api-version=7.4", token=KV)
check(st == 200, "delete key (soft)")
st, _, o = call("PUT", V + "/keys/octkey?api-version=7.4", {"key": {"kty": "oct-HSM", "key_hsm": byok(b"\x07" * 32)},
                "attributes": {"exportable": True}, "release_policy": rp(policy(HOSTDATA))}, KV)
check(st == 409 and o["error"]["innererror"]["code"] == "ObjectIsDeletedButRecoverable", "soft-deleted name -> 409")

# --- Attestation + release -----------------------------------------------------------------
A = EP["attest"]
st, _, meta = call("GET", A + "/.well-known/openid-configuration")
check(st == 200 and meta["issuer"] == A and meta["jwks_uri"] == A + "/certs", "MAA OpenID metadata")
st, _, jwks = call("GET", A + "/certs")
cert = x509.load_der_x509_certificate(base64.b64decode(jwks["keys"][0]["x5c"][0]))
transfer = rsa.generate_private_key(65537, 2048)
tn = transfer.public_key().public_numbers()
runtime = {"keys": [{"kty": "RSA", "kid": "tk", "key_ops": ["encrypt"], "e": b64u(tn.e.to_bytes(3, "big")),
                     "n": b64u(tn.n.to_bytes(256, "big"))}]}


def maa(**over):
    claims = {"x-ms-sevsnpvm-hostdata": HOSTDATA, "x-ms-runtime": runtime}
    signer = over.pop("signer", "maa")
    claims.update(over)
    return ctl("attest/token", {"claims": claims, "signer": signer})["token"]


tok = maa()
h, p, s = tok.split(".")
hdr = json.loads(b64u_dec(h))
check(hdr["alg"] == "RS256" and hdr["jku"] == A + "/certs" and hdr["kid"] == jwks["keys"][0]["kid"], "MAA token header")
cert.public_key().verify(b64u_dec(s), (h + "." + p).encode(), padding.PKCS1v15(), hashes.SHA256())
claims = json.loads(b64u_dec(p))
check(claims["iss"] == A and claims["x-ms-sevsnpvm-is-debuggable"] is False and claims["x-ms-sevsnpvm-vmpl"] == 0,
      "MAA token verifies with /certs, claims shaped as sidecars.md §6")
rel = V + "/keys/byokkey/release?api-version=7.4"
ctl("roles", {EP["client_id"]: ["arm", "kv-officer"]})
st, _, o = call("POST", rel, {"target": tok}, KV)
check(st == 403, "release needs the release role (officer alone -> 403)")
st, _, o = call("POST", rel, {"target": tok}, MI)
check(st == 200 and "value" in o, "release with a matching token")
jh, jp, js = o["value"].split(".")
jhdr = json.loads(b64u_dec(jh))
leaf = x509.load_der_x509_certificate(base64.b64decode(jhdr["x5c"][0]))
leaf.public_key().verify(b64u_dec(js), (jh + "." + jp).encode(), padding.PKCS1v15(), hashes.SHA256())
payload = json.loads(b64u_dec(jp))
kh = json.loads(b64u_dec(payload["response"]["key"]["key"]["key_hsm"]))
ct = b64u_dec(kh["ciphertext"])
aes = transfer.decrypt(ct[:256], padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))
check(aes_key_unwrap_with_padding(aes, ct[256:]) == der, "released key unwraps to the imported key")
for what, t in (("another hostdata", maa(**{"x-ms-sevsnpvm-hostdata": HOSTDATA2})),
                ("debuggable", maa(**{"x-ms-sevsnpvm-is-debuggable": True})),
                ("VMPL 1", maa(**{"x-ms-sevsnpvm-vmpl": 1})),
                ("signed by another key", maa(signer="rogue")),
                ("another issuer", maa(iss="https://evil.example")),
                ("expired", maa(exp=int(time.time()) - 3600))):
    st, _, o = call("POST", rel, {"target": t}, MI)
    check(st == 403, "release refused: " + what)

# --- ARM ----------------------------------------------------------------------------------------
M = EP["arm"]
dep = M + RG + "/providers/Microsoft.Resources/deployments/d1"
st, _, o = call("GET", dep, token=ARM)
check(st == 400 and code(o) == "InvalidApiVersionParameter", "ARM: missing api-version -> 400")
st, _, o = call("GET", dep + "?api-version=2025-04-01", token=KV)
check(st == 401 and code(o) == "InvalidAuthenticationTokenAudience", "ARM: vault audience -> 401")
st, _, o = call("GET", dep + "?api-version=2025-04-01")
check(st == 401 and code(o) == "AuthenticationFailed", "ARM: no token -> 401")
st, _, o = call("POST", M + RG + "/providers/Microsoft.Storage/storageAccounts/acct1/listKeys?api-version=2025-01-01", token=ARM)
check(st == 200 and len(o["keys"]) == 2, "listKeys")
SKEY = o["keys"][0]["value"]
CCE = base64.b64encode(b"package policy").decode()


def template(cce=CCE):
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"storageAccountKey": {"type": "securestring"}, "registryPassword": {"type": "securestring"},
                           "location": {"type": "string", "defaultValue": "[resourceGroup().location]"}},
            "resources": [{"type": "Microsoft.ContainerInstance/containerGroups", "apiVersion": "2023-05-01",
                           "name": "mint", "location": "[parameters('location')]", "properties": {
                               "sku": "Confidential", "osType": "Linux", "restartPolicy": "Always",
                               "confidentialComputeProperties": {"ccePolicy": cce},
                               "imageRegistryCredentials": [{"server": "r.example", "username": "u",
                                                             "password": "[parameters('registryPassword')]"}],
                               "containers": [{"name": n, "properties": {"image": "r.example/%s@sha256:%s" % (n, "0" * 64),
                                               "resources": {"requests": {"cpu": 1, "memoryInGB": 1}}}}
                                              for n in ("mint", "caddy", "skr", "encfs")],
                               "volumes": [{"name": "acme", "azureFile": {"shareName": "caddy", "storageAccountName": "acct1",
                                                                         "storageAccountKey": "[parameters('storageAccountKey')]"}}]}}],
            "outputs": {"cg": {"type": "string", "value": "[resourceId('Microsoft.ContainerInstance/containerGroups', 'mint')]"}}}


def params():
    return {"storageAccountKey": {"value": SKEY}, "registryPassword": {"value": "regpass"}}


def poll(hdrs, max_polls=20):
    """Polls like a client should: Azure-AsyncOperation first, else Location."""
    styles = set()
    for _ in range(max_polls):
        if "azure-asyncoperation" in hdrs:
            styles.add("async")
            check(hdrs.get("retry-after") is not None, "Retry-After on async operation")
            st, h2, o = call("GET", hdrs["azure-asyncoperation"], token=ARM)
            if o["status"] in ("Succeeded", "Failed", "Canceled"):
                return o["status"], styles
            continue
        if "location" in hdrs:
            styles.add("location")
            st, h2, o = call("GET", hdrs["location"], token=ARM)
            if st == 202:
                hdrs = {"location": h2["location"]}
                continue
            return ("Succeeded" if st in (200, 204) else "Failed"), styles
        return "sync", styles
    check(False, "LRO did not finish")


styles = set()
for i in range(4):  # cycle: async, location, both, none
    st, h, o = call("PUT", dep + "?api-version=2025-04-01", {"properties": {"mode": "Incremental", "template": template(),
                                                                           "parameters": params()}}, ARM)
    check(st in (200, 201), "deployment PUT accepted")
    res, s = poll(h)
    styles |= s | ({"sync"} if res == "sync" else set())
    st, _, o = call("GET", dep + "?api-version=2025-04-01", token=ARM)
    check(o["properties"]["provisioningState"] == "Succeeded", "deployment succeeded")
check(styles == {"async", "location", "sync"}, "LRO styles vary: %s" % sorted(styles))
check("value" not in o["properties"]["parameters"]["storageAccountKey"], "GET deployment omits secure values")
check(o["properties"]["outputs"]["cg"]["value"].endswith("/containerGroups/mint"), "deployment outputs")
d = ctl("state")["arm"]["deployments"]["d1"]
cg = d["resources"][0]["properties"]
check(cg["volumes"][0]["azureFile"]["storageAccountKey"] == SKEY and cg["imageRegistryCredentials"][0]["password"] == "regpass",
      "state: template held with the secure parameters filled")
st, _, o = call("PUT", dep + "?api-version=2025-04-01", {"properties": {"mode": "Incremental", "template": template(),
                "parameters": {"storageAccountKey": {"value": SKEY}}}}, ARM)
check(st == 400 and code(o) == "InvalidTemplate", "missing secure parameter -> 400 InvalidTemplate")
st, _, o = call("PUT", dep + "?api-version=2025-04-01", {"properties": {"mode": "Complete", "template": template(),
                "parameters": params()}}, ARM)
check(st == 400, "Complete mode refused")
cgu = M + RG + "/providers/Microsoft.ContainerInstance/containerGroups/mint"
st, _, o = call("GET", cgu + "?api-version=2025-09-01", token=ARM)
check(st == 200 and "storageAccountKey" not in o["properties"]["volumes"][0]["azureFile"] and
      "password" not in o["properties"]["imageRegistryCredentials"][0], "GET container group hides secrets")
st, _, o = call("POST", cgu + "/restart?api-version=2025-09-01", token=ARM)
check(st == 204, "restart -> 204")
st, _, o = call("GET", cgu + "?api-version=2025-09-01", token=ARM)
states = [c["properties"]["instanceView"]["currentState"]["state"] for c in o["properties"]["containers"]]
check(states == ["Waiting"] * 4 and o["properties"]["containers"][0]["properties"]["instanceView"]["restartCount"] == 1,
      "after restart containers wait")
st, _, o = call("GET", cgu + "?api-version=2025-09-01", token=ARM)
check(all(c["properties"]["instanceView"]["currentState"]["state"] == "Running" for c in o["properties"]["containers"])
      and o["properties"]["instanceView"]["state"] == "Running", "then every container runs")
ctl("arm/container", {"group": "mint", "container": "encfs", "state": "Terminated", "exitCode": 1, "detailStatus": "Error"})
st, _, o = call("GET", cgu + "?api-version=2025-09-01", token=ARM)
check(o["properties"]["containers"][3]["properties"]["instanceView"]["currentState"]["exitCode"] == 1, "forced container state")
ctl("arm/container", {"group": "mint", "container": "encfs", "state": "Running"})
st, _, o = call("GET", cgu + "/containers/mint/logs?api-version=2025-09-01&tail=10", token=ARM)
check(st == 200 and "content" in o, "logs")
# A deployment that fails: empty ccePolicy, reported through the operations list.
dep2 = M + RG + "/providers/Microsoft.Resources/deployments/d2"
for _ in range(4):
    st, h, o = call("PUT", dep2 + "?api-version=2025-04-01", {"properties": {"mode": "Incremental", "template": template(cce=""),
                                                                            "parameters": params()}}, ARM)
    res, _ = poll(h)
    st, _, o = call("GET", dep2 + "?api-version=2025-04-01", token=ARM)
    check(o["properties"]["provisioningState"] == "Failed" and o["properties"]["error"]["code"] == "DeploymentFailed",
          "failed deployment")
st, _, o = call("GET", M + RG + "/deployments/d2/operations?api-version=2025-04-01", token=ARM)
err = [x for x in o["value"] if x["properties"]["provisioningState"] == "Failed"][0]["properties"]["statusMessage"]["error"]
check(err["code"] == "InvalidCcePolicy", "operations list names InvalidCcePolicy")
st, h, o = call("POST", dep + "/whatIf?api-version=2025-04-01", {"properties": {"mode": "Incremental", "template": template(),
                "parameters": params()}}, ARM)
check(st in (200, 202), "whatIf accepted")
if st == 202:
    for _ in range(10):
        st, h2, o = call("GET", h["location"], token=ARM)
        if st != 202:
            break
check(o["properties"]["changes"][0]["changeType"] == "NoChange", "whatIf: NoChange after deploy")
st, h, o = call("DELETE", cgu + "?api-version=2025-09-01", token=ARM)
if st == 202:
    poll(h)
st, _, o = call("GET", cgu + "?api-version=2025-09-01", token=ARM)
check(st == 404 and code(o) == "ResourceNotFound", "container group deleted")

# --- Faults -----------------------------------------------------------------------------------
ctl("faults", [{"service": "vault", "method": "GET", "path": "/keys/mintkey", "kind": "429", "retry_after": 2},
               {"service": "arm", "method": "GET", "path": "/deployments/d1$", "kind": "503"},
               {"service": "entra", "kind": "reset"},
               {"service": "vault", "method": "GET", "path": "/keys/octkey", "kind": "truncated"},
               {"service": "attest", "kind": "slow", "delay": 1},
               {"service": "arm", "method": "GET", "path": "/resourceGroups/rg1$", "kind": "expired"}])
st, h, o = call("GET", V + "/keys/mintkey?api-version=7.4", token=KV)
check(st == 429 and h["retry-after"] == "2", "fault: 429 with Retry-After")
st, h, o = call("GET", V + "/keys/mintkey?api-version=7.4", token=KV)
check(st == 200, "fault fires once")
st, h, o = call("GET", dep + "?api-version=2025-04-01", token=ARM)
check(st == 503, "fault: 503")
try:
    token("https://vault.azure.net")
    check(False, "fault: reset")
except (ConnectionError, http.client.HTTPException, OSError):
    check(True, "fault: connection reset")
try:
    call("GET", V + "/keys/octkey?api-version=7.4", token=KV)
    check(False, "fault: truncated")
except http.client.IncompleteRead:
    check(True, "fault: truncated body")
t0 = time.time()
call("GET", A + "/certs")
check(time.time() - t0 >= 0.9, "fault: slow reply")
st, _, o = call("GET", M + RG + "?api-version=2025-04-01", token=ARM)
check(st == 401 and code(o) == "ExpiredAuthenticationToken", "fault: expired token")
st, _, o = call("GET", M + RG + "?api-version=2025-04-01", token=ARM)
check(st == 401, "the expired token stays expired")
ARM = token("https://management.azure.com")[2]["access_token"]
st, _, o = call("GET", M + RG + "?api-version=2025-04-01", token=ARM)
check(st == 200, "a fresh token works")
ctl("expire-tokens", {})
st, _, o = call("GET", M + RG + "?api-version=2025-04-01", token=ARM)
check(st == 401 and code(o) == "ExpiredAuthenticationToken", "expire-tokens control")
state = ctl("state")
check(SECRET not in json.dumps(state["requests"]) and "auth" in state, "request log carries no secrets")
print("fakeazure selftest: %d checks passed" % checks)
