"""Infrastructure resources for the Azure stand-in (test harness only):
what `nutapply infra` needs beyond the base ARM fake, installed onto it by
install(fake) so the shared modules stay untouched but for one hook line.

- template expressions guid(), reference(), and(), empty(), if(); resource
  `condition`;
- runtime properties ARM adds to what a template declares (vault vaultUri,
  identity principalId/clientId, attestation attestUri, storage
  primaryEndpoints.blob from $FAKEAZURE_BLOB_ENDPOINT), returned on GET and
  by reference() but not stored, so what-if compares declared payloads;
- Key Vault soft delete (azure-rest.md §3, seed-deployment.md §7.2):
  DELETE of a vault keeps it under deletedVaults; GET and POST .../purge at
  /subscriptions/S/providers/Microsoft.KeyVault/locations/L/deletedVaults/N;
  purge refused while purge protection is on; a PUT (deployment) of a name
  that is soft-deleted fails 409 as ARM does;
- listKeys of account devstoreaccount1 answers Azurite's well-known key, so
  nutapply can reach the volume blob in Azurite with it.
"""
import copy
import datetime
import os
import uuid

import arm
import armexpr
from common import HTTPError, cloud_error

AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
FAKE = None


def runtime(rid, typ):
    t, name = typ.lower(), rid.rsplit("/", 1)[-1]
    if t == "microsoft.keyvault/vaults":
        return {"vaultUri": FAKE.base["vault"] + "/"}
    if t == "microsoft.managedidentity/userassignedidentities":
        return {"principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, rid.lower() + "#p")),
                "clientId": str(uuid.uuid5(uuid.NAMESPACE_URL, rid.lower() + "#c")), "tenantId": FAKE.tenant}
    if t == "microsoft.attestation/attestationproviders":
        return {"attestUri": FAKE.base["attest"], "status": "Ready"}
    if t == "microsoft.storage/storageaccounts":
        return {"primaryEndpoints": {"blob": os.environ.get("FAKEAZURE_BLOB_ENDPOINT",
                                                           "https://%s.blob.core.windows.net/" % name)}}
    return {}


def type_of(rid):
    segs = rid.split("/providers/", 1)[1].split("/")
    return "/".join([segs[0]] + segs[1::2])


_call = armexpr.Eval.call


def call(self, fn, a):
    if fn == "guid":
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join(str(x).lower() for x in a)))
    if fn == "and":
        return all(bool(x) for x in a)
    if fn == "empty":
        return not a[0]
    if fn == "if":  # ARM evaluates only the branch taken; the fake's reference() never fails
        return a[1] if a[0] else a[2]
    if fn == "reference":
        cur = FAKE.arm.res.get(str(a[0]).lower(), {})
        return dict(copy.deepcopy(cur.get("properties", {})), **runtime(a[0], type_of(a[0])))
    return _call(self, fn, a)


_check, _apply, _generic, _handle, _list_keys, _dump = (arm.Arm.check_template, arm.Arm.apply_resources,
                                                         arm.Arm.generic, arm.Arm.handle, arm.Arm.list_keys,
                                                         arm.Arm.dump)


def check_template(self, body, rg):
    props, values, resources, outputs = _check(self, body, rg)
    kept = []
    for r in resources:
        c = r.pop("condition", True)
        if not isinstance(c, bool):
            raise cloud_error(400, "InvalidTemplate", "condition of %s is not a boolean" % r["name"])
        if c:
            kept.append(r)
        if c and r["type"].lower() == "microsoft.keyvault/vaults" and r["name"].lower() in self.deleted_vaults:
            raise cloud_error(409, "ConflictError", "Exist soft deleted vault with the same name.")
    return props, values, kept, outputs


def apply_resources(self, rec, fail):
    out = _apply(self, rec, fail)
    for r in rec["resources"]:  # stored as declared, like store_cg does
        cur = self.res.get(self.res_id(rec["rg"], r).lower())
        if cur is not None:
            cur.pop("apiVersion", None)
            cur.pop("dependsOn", None)
    return out


def generic(self, req, rg, rest):
    rid = self.rg_id(rg) + "/" + "/".join(rest)
    cur = self.res.get(rid.lower())
    if cur is not None and req.method == "GET":
        body = copy.deepcopy(cur)
        body.setdefault("properties", {}).update(runtime(rid, type_of(rid)))
        return 200, {}, body
    if cur is not None and req.method == "DELETE":
        typ = type_of(rid).lower()
        if typ == "microsoft.keyvault/vaults":
            p = cur.get("properties", {})
            self.deleted_vaults[cur["name"].lower()] = {
                "name": cur["name"], "id": "/subscriptions/%s/providers/Microsoft.KeyVault/locations/%s/deletedVaults/%s"
                % (self.sub(), cur.get("location", ""), cur["name"]), "type": "Microsoft.KeyVault/deletedVaults",
                "properties": {"vaultId": rid, "location": cur.get("location"),
                               "deletionDate": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "purgeProtectionEnabled": bool(p.get("enablePurgeProtection"))}}
        if typ == "microsoft.storage/storageaccounts":  # its containers and shares go with it
            for k in [k for k in self.res if k.startswith(rid.lower() + "/")]:
                del self.res[k]
    return _generic(self, req, rg, rest)


def handle(self, req):
    low = req.path.strip("/").lower().split("/")
    if len(low) in (8, 9) and low[2:4] == ["providers", "microsoft.keyvault"] and low[6] == "deletedvaults":
        self.auth(req)
        self.api(req, "microsoft.keyvault")
        with self.fake.lock:
            d = self.deleted_vaults.get(low[7])
            if d is None:
                raise cloud_error(404, "ResourceNotFound", "deleted vault %s not found" % low[7])
            if len(low) == 8 and req.method == "GET":
                return 200, {}, d
            if len(low) == 9 and low[8] == "purge" and req.method == "POST":
                if d["properties"]["purgeProtectionEnabled"]:
                    raise cloud_error(409, "Conflict", "Vault %s has purge protection enabled and cannot be purged "
                                      "until its retention period ends." % d["name"])

                def finish():
                    self.purged_vaults.append(self.deleted_vaults.pop(low[7])["name"])
                hdrs, sync = self.start_op("Microsoft.KeyVault", finish)
                return (200 if sync else 202), hdrs, None
        raise cloud_error(405, "MethodNotAllowed", req.method)
    return _handle(self, req)


def list_keys(self, req, base):
    if base.rsplit("/", 1)[-1] == "devstoreaccount1" and req.method == "POST" and base.lower() in self.res:
        return 200, {}, {"keys": [{"keyName": "key1", "value": AZURITE_KEY, "permissions": "FULL"}]}
    return _list_keys(self, req, base)


def dump(self):
    d = _dump(self)
    d["deleted_vaults"] = copy.deepcopy(self.deleted_vaults)
    d["purged_vaults"] = list(self.purged_vaults)
    return d


def install(fake):
    global FAKE
    FAKE = fake
    fake.arm.deleted_vaults, fake.arm.purged_vaults = {}, []
    armexpr.Eval.call = call
    for f in (check_template, apply_resources, generic, handle, list_keys, dump):
        setattr(arm.Arm, f.__name__, f)
