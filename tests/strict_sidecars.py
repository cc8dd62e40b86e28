#!/usr/bin/env python3
"""Strict decoders for what nutgen hands to Microsoft's sidecars and Key Vault.

The sidecars (Go encoding/json) silently ignore unknown fields: a misspelt
`azure_filesystems` mounts nothing and still reports success, a misspelt
`read_write` mounts read-only. These decoders accept exactly the fields of
../shared/research/sidecars.md (§1.2 EncfsSideCarArgs, §3 SkrSideCarArgs,
§4 release policy and importkey config), with their JSON types, and reject
anything else, duplicate keys included.

usage: strict_sidecars.py encfs|skr|release|importkey FILE [HOSTDATA]
Prints the decoded JSON (sorted, one line) and exits 0, or prints why and exits 1.
"""
import base64
import json
import re
import sys

STR, BOOL, LIST_STR = "string", "bool", "list of strings"
HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
HEX = re.compile(r"^([0-9a-fA-F]{2})*$")


class Bad(Exception):
    pass


def no_dupes(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise Bad(f"duplicate key {k!r}")
        d[k] = v
    return d


def check(obj, schema, path):
    """schema: dict field -> type or nested dict; every field optional unless
    listed in schema['!required']."""
    if not isinstance(obj, dict):
        raise Bad(f"{path}: must be an object")
    required = schema.get("!required", ())
    for k in obj:
        if k not in schema or k.startswith("!"):
            raise Bad(f"{path}.{k}: field not in sidecars.md")
    for k in required:
        if k not in obj:
            raise Bad(f"{path}.{k}: missing")
    for k, v in obj.items():
        t = schema[k]
        p = f"{path}.{k}"
        if isinstance(t, dict):
            check(v, t, p)
        elif isinstance(t, list):
            if not isinstance(v, list):
                raise Bad(f"{p}: must be a list")
            for i, item in enumerate(v):
                check(item, t[0], f"{p}[{i}]")
        elif t == STR and not isinstance(v, str):
            raise Bad(f"{p}: must be a string")
        elif t == BOOL and not isinstance(v, bool):
            raise Bad(f"{p}: must be true or false")
        elif t == LIST_STR and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            raise Bad(f"{p}: must be a list of strings")


CERTCACHE = {"endpoint_type": STR, "endpoint": STR, "tee_type": STR, "api_version": STR,
             "client_id": STR}
IDENTITY = {"client_id": STR}
# §1.2; bearer_token and raw_key exist but nutgen must never send them.
ENCFS = {
    "!required": ("azure_filesystems",),
    "azure_filesystems": [{
        "!required": ("mount_point", "azure_url", "azure_url_private", "read_write", "key"),
        "mount_point": STR, "azure_url": STR, "azure_url_private": BOOL, "read_write": BOOL,
        "key": {"!required": ("kid", "kty", "authority", "akv"),
                "kid": STR, "kty": STR, "key_ops": LIST_STR,
                "authority": {"!required": ("endpoint",), "endpoint": STR, "tee_type": STR,
                              "api_version": STR},
                "akv": {"!required": ("endpoint",), "endpoint": STR, "api_version": STR}},
        "key_derivation": {"!required": ("salt", "label"), "salt": STR, "label": STR},
    }],
    "azure_info": {"certcache": CERTCACHE, "identity": IDENTITY},
}
SKR = {"certcache": CERTCACHE, "identity": IDENTITY, "maaconfig": {"user_agent": STR}}
CLAIMS = ["x-ms-sevsnpvm-hostdata", "x-ms-compliance-status", "x-ms-sevsnpvm-is-debuggable",
          "x-ms-sevsnpvm-vmpl"]
FIXED = {"x-ms-compliance-status": "azure-compliant-uvm", "x-ms-sevsnpvm-is-debuggable": "false",
         "x-ms-sevsnpvm-vmpl": "0"}
IMPORTKEY = {
    "!required": ("key", "claims"),
    "key": {"!required": ("kid", "kty", "authority", "akv"), "kid": STR, "kty": STR,
            "key_ops": LIST_STR, "authority": {"!required": ("endpoint",), "endpoint": STR},
            "akv": {"!required": ("endpoint", "api_version"), "endpoint": STR,
                    "api_version": STR}},
    "key_derivation": {"!required": ("salt", "label"), "salt": STR, "label": STR},
    "claims": "claims",
    "identity": IDENTITY,
}


def b64json(text):
    if text != text.strip() or any(c.isspace() for c in text):
        raise Bad("base64 has whitespace (encfs.sh passes it unquoted)")
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise Bad("not canonical standard base64 with padding")
    return json.loads(raw, object_pairs_hook=no_dupes)


def claims_ok(allof, hostdata):
    if [c.get("claim") for c in allof] != CLAIMS:
        raise Bad(f"claims must be exactly {CLAIMS} in that order")
    for c in allof:
        if list(c) != ["claim", "equals"]:
            raise Bad("each claim must be {claim, equals} (equals only)")
        if not isinstance(c["equals"], str):
            raise Bad("equals must be a string")
        want = FIXED.get(c["claim"], hostdata)
        if want is not None and c["equals"] != want:
            raise Bad(f"{c['claim']} equals {c['equals']!r}, expected {want!r}")
    if not re.fullmatch(r"[0-9a-f]{64}", allof[0]["equals"]):
        raise Bad("hostdata must be 64 lowercase hex")


def decode(kind, text, hostdata=None):
    if kind == "encfs":
        obj = b64json(text)
        check(obj, ENCFS, "$")
        if not obj["azure_filesystems"]:
            raise Bad("$.azure_filesystems: empty")
        for f in obj["azure_filesystems"]:
            k = f["key"]
            for h in (k["authority"]["endpoint"], k["akv"]["endpoint"]):
                if not HOST.match(h):
                    raise Bad(f"endpoint {h!r} must be a bare host name (no scheme, no slash)")
            if not k["kid"]:
                raise Bad("key.kid empty")
            if k["kty"] not in ("RSA-HSM", "oct-HSM"):
                raise Bad("key.kty must be RSA-HSM or oct-HSM")
            if k["kty"] == "RSA-HSM":
                kd = f.get("key_derivation")
                if not kd or not kd["salt"] or not HEX.match(kd["salt"]):
                    raise Bad("RSA-HSM needs an explicit hex key_derivation.salt")
            elif "key_derivation" in f:
                raise Bad("key_derivation applies to RSA keys only")
            if not f["azure_url"].startswith("https://") or "?" in f["azure_url"]:
                raise Bad("azure_url must be https:// without a SAS")
    elif kind == "skr":
        obj = b64json(text)
        check(obj, SKR, "$")
    elif kind == "release":
        if text != text.strip() or ": " in text or ", " in text:
            raise Bad("release policy must be compact JSON")
        pairs = []
        obj = json.loads(text, object_pairs_hook=lambda p: (pairs.append([k for k, _ in p]), no_dupes(p))[1])
        if list(obj) != ["version", "anyOf"] or obj["version"] != "1.0.0":
            raise Bad("top level must be exactly {version: 1.0.0, anyOf}")
        if not isinstance(obj["anyOf"], list) or len(obj["anyOf"]) != 1:
            raise Bad("anyOf must hold exactly one authority")
        a = obj["anyOf"][0]
        if list(a) != ["authority", "allOf"]:
            raise Bad("authority entry must be exactly {authority, allOf}")
        if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:[0-9]+)?", a["authority"]):
            raise Bad("authority must be https://<host>")
        claims_ok(a["allOf"], hostdata)
    elif kind == "importkey":
        obj = json.loads(text, object_pairs_hook=no_dupes)
        check(obj, IMPORTKEY, "$")
        if obj["key"]["akv"]["api_version"] != "api-version=7.4":
            raise Bad("akv.api_version must be the query string api-version=7.4")
        if not isinstance(obj["claims"], list) or len(obj["claims"]) != 1:
            raise Bad("claims must be one list of claims")
        claims_ok(obj["claims"][0], hostdata)
        if obj["key"]["kty"] == "RSA-HSM" and not obj.get("key_derivation", {}).get("salt"):
            raise Bad("RSA-HSM needs key_derivation.salt")
    else:
        raise Bad(f"unknown kind {kind}")
    return obj


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    text = open(sys.argv[2], encoding="utf-8").read()
    if sys.argv[1] in ("encfs", "skr"):
        text = text.rstrip("\n")
    try:
        obj = decode(sys.argv[1], text, sys.argv[3] if len(sys.argv) == 4 else None)
    except (Bad, ValueError) as e:
        print(f"{sys.argv[2]}: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(obj, sort_keys=True))


if __name__ == "__main__":
    main()
