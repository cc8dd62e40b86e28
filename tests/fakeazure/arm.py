"""Azure Resource Manager of the Azure stand-in (test harness only).

Contract: azure-rest.md §4 (async operations §4.2, deployments §4.3,
what-if §4.4, container instances §4.5), §1.12 (listKeys) and §9.
"""
import base64
import copy
import datetime
import secrets
import threading
import uuid

import armexpr
from common import HTTPError, cloud_error

API = {
    "microsoft.resources": "2025-04-01",
    "microsoft.containerinstance": "2025-09-01",
    "microsoft.storage": "2025-01-01",
    "microsoft.authorization": "2022-04-01",
    "microsoft.keyvault": "2023-07-01",
    "microsoft.managedidentity": "2023-01-31",
    "microsoft.attestation": "2021-06-01",
}
TERMINAL = ("Succeeded", "Failed", "Canceled")
SECURE_TYPES = ("securestring", "secureobject")
TYPES = {"string": str, "securestring": str, "int": int, "bool": bool, "object": dict,
         "secureobject": dict, "array": list}


def now_iso():
    return datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def strip_secrets(cg):
    """ACI never returns secure values (azure-rest.md §4.5)."""
    p = cg.get("properties", {})
    for c in p.get("containers", []) + p.get("initContainers", []):
        for e in c.get("properties", {}).get("environmentVariables", []):
            e.pop("secureValue", None)
    for v in p.get("volumes", []):
        if isinstance(v.get("azureFile"), dict):
            v["azureFile"].pop("storageAccountKey", None)
        if isinstance(v.get("secret"), dict):
            v["secret"] = {k: None for k in v["secret"]}
    for r in p.get("imageRegistryCredentials", []):
        r.pop("password", None)
    return cg


def validate_cg(body, name):
    """What ACI checks synchronously on a container group PUT."""
    def bad(code, msg):
        return cloud_error(400, code, msg)
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise bad("InvalidRequestContent", "container group %s: properties missing" % name)
    if not isinstance(body.get("location"), str) or not body["location"]:
        raise bad("LocationRequired", "container group %s: location is required" % name)
    p = body["properties"]
    cs = p.get("containers")
    if not isinstance(cs, list) or not cs:
        raise bad("InvalidContainerGroup", "container group %s: at least one container" % name)
    exposed = set()
    for c in cs:
        cp = c.get("properties") if isinstance(c, dict) else None
        if not isinstance(c.get("name"), str) or not isinstance(cp, dict) or not cp.get("image"):
            raise bad("InvalidContainer", "container group %s: a container lacks name or image" % name)
        req = cp.get("resources", {}).get("requests", {})
        if not isinstance(req.get("cpu"), (int, float)) or not isinstance(req.get("memoryInGB"), (int, float)):
            raise bad("InvalidContainerResources", "container %s: resources.requests cpu and memoryInGB" % c["name"])
        for port in cp.get("ports", []):
            exposed.add(port.get("port"))
        for e in cp.get("environmentVariables", []):
            if "name" not in e or ("value" in e) == ("secureValue" in e):
                raise bad("InvalidEnvironmentVariable", "container %s: each variable has value or secureValue" % c["name"])
    if p.get("osType") not in ("Linux", "Windows"):
        raise bad("InvalidOsType", "container group %s: osType must be Linux or Windows" % name)
    if str(p.get("sku", "Standard")).lower() == "confidential":
        ccp = p.get("confidentialComputeProperties") or {}
        pol = ccp.get("ccePolicy") if isinstance(ccp, dict) else None
        if not pol:
            raise bad("InvalidCcePolicy", "The CCE Policy cannot be left empty for Confidential Container Groups.")
        try:
            base64.b64decode(pol, validate=True)
        except ValueError:
            raise bad("InvalidCcePolicy", "The CCE Policy is not valid base64.")
    ip = p.get("ipAddress")
    if isinstance(ip, dict):
        for port in ip.get("ports", []):
            if port.get("port") not in exposed:
                raise bad("InvalidIpAddressPorts", "port %s is not exposed by any container" % port.get("port"))
    for v in p.get("volumes", []):
        af = v.get("azureFile")
        if af is not None and not (af.get("shareName") and af.get("storageAccountName") and af.get("storageAccountKey")):
            raise bad("InvalidAzureFileVolume", "volume %s: shareName, storageAccountName and storageAccountKey" % v.get("name"))
    for r in p.get("imageRegistryCredentials", []):
        if "password" in r and not r["password"]:
            raise bad("InvalidImageRegistryCredential", "registry %s: empty password" % r.get("server"))


class Arm:
    def __init__(self, fake):
        self.fake = fake
        self.groups = {}  # lower rg -> {"name","location"}
        self.res = {}  # lower id -> resource dict (full, with secrets)
        self.cg_state = {}  # lower id -> {"containers": {name: state}, "pending": n, "forced": {}}
        self.deployments = {}  # lower id -> record
        self.ops = {}  # op id -> record
        self.roles = {}  # lower id -> body
        self.keys = {}  # lower storage id -> [key1, key2]
        self.lro_n = 0
        self.fail_next = None
        self.lock = threading.RLock()

    # --- helpers ---------------------------------------------------------------
    def sub(self):
        return self.fake.args.subscription

    def seed_group(self, name, location):
        self.groups[name.lower()] = {"name": name, "location": location}

    def rg_id(self, rg):
        return "/subscriptions/%s/resourceGroups/%s" % (self.sub(), rg)

    def seed_storage(self, rg, name):
        rid = self.rg_id(rg) + "/providers/Microsoft.Storage/storageAccounts/" + name
        self.res[rid.lower()] = {"id": rid, "name": name, "type": "Microsoft.Storage/storageAccounts",
                                 "location": self.groups.get(rg.lower(), {}).get("location", "westeurope"),
                                 "properties": {"provisioningState": "Succeeded"}}

    def auth(self, req):
        info, why = self.fake.bearer(req)
        if info is None:
            code = {"missing": "AuthenticationFailed", "expired": "ExpiredAuthenticationToken"}.get(
                why, "InvalidAuthenticationToken")
            raise cloud_error(401, code, "The access token is %s." % (why or "invalid"), headers={
                "WWW-Authenticate": 'Bearer authorization_uri="%s/", error="invalid_token", '
                                    'error_description="The access token is %s."' % (self.fake.base["entra"], why)})
        if info["aud"] != "https://management.azure.com":
            raise cloud_error(401, "InvalidAuthenticationTokenAudience", "The access token has an invalid audience.")
        if not self.fake.has_role(info["principal"], "arm"):
            raise cloud_error(403, "AuthorizationFailed", "The client does not have authorization to perform action.")

    def api(self, req, ns):
        want = API[ns]
        got = req.query.get("api-version")
        if got != want:
            raise cloud_error(400, "InvalidApiVersionParameter",
                              "The api-version '%s' is invalid. The supported version is '%s'." % (got or "", want))

    def need_group(self, rg):
        g = self.groups.get(rg.lower())
        if g is None:
            raise cloud_error(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % rg)
        return g

    # --- long-running operations ----------------------------------------------------
    def start_op(self, ns, finish, result=None):
        """finish() -> None on success or an error dict; result() -> final body.
        Returns (headers, done_synchronously)."""
        style = self.fake.args.lro_style
        if style == "cycle":
            style = ("async", "location", "both", "none")[self.lro_n % 4]
            self.lro_n += 1
        op = {"id": uuid.uuid4().hex, "ns": ns, "status": "InProgress", "remaining": self.fake.args.lro_polls,
              "finish": finish, "result": result, "error": None, "start": now_iso()}
        if style == "none":
            self.complete(op)
            return {}, True
        self.ops[op["id"]] = op
        base = "%s/subscriptions/%s/providers/%s/locations/westeurope" % (self.fake.base["arm"], self.sub(), ns)
        q = "?api-version=" + API[ns.lower()]
        hdrs = {"Retry-After": str(self.fake.args.retry_after)}
        if style in ("async", "both"):
            hdrs["Azure-AsyncOperation"] = "%s/operationStatuses/%s%s" % (base, op["id"], q)
        if style in ("location", "both"):
            hdrs["Location"] = "%s/operationResults/%s%s" % (base, op["id"], q)
        return hdrs, False

    def complete(self, op):
        err = op["finish"]()
        op["status"], op["error"], op["end"] = ("Failed" if err else "Succeeded"), err, now_iso()

    def advance(self, op):
        if op["status"] in TERMINAL:
            return
        if op["remaining"] > 0:
            op["remaining"] -= 1
            op["status"] = "Running"
            return
        self.complete(op)

    def poll(self, req, kind, opid):
        op = self.ops.get(opid)
        if op is None:
            raise cloud_error(404, "OperationNotFound", "operation %s not found" % opid)
        self.api(req, op["ns"].lower())
        self.advance(op)
        ra = {"Retry-After": str(self.fake.args.retry_after)}
        if kind == "operationstatuses":
            body = {"id": req.path, "name": op["id"], "status": op["status"], "startTime": op["start"]}
            if op["error"]:
                body["error"] = op["error"]
            if op["status"] in TERMINAL:
                body["endTime"] = op["end"]
                ra = {}
            return 200, ra, body
        if op["status"] not in TERMINAL:
            return 202, dict(ra, Location=self.fake.base["arm"] + req.path + "?api-version=" + API[op["ns"].lower()]), None
        if op["error"]:
            raise HTTPError(400, {"error": op["error"]})
        res = op["result"]() if op["result"] else None
        return (200, {}, res) if res is not None else (204, {}, None)

    # --- dispatch ---------------------------------------------------------------------
    def handle(self, req):
        self.auth(req)
        segs = req.path.strip("/").split("/")
        low = [s.lower() for s in segs]
        with self.fake.lock:
            if len(low) < 2 or low[0] != "subscriptions":
                raise cloud_error(404, "InvalidResourceType", "no such ARM path")
            if segs[1] != self.sub():
                raise cloud_error(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % segs[1])
            if len(low) >= 4 and low[-2] in ("operationstatuses", "operationresults"):
                return self.poll(req, low[-2], segs[-1])
            if "microsoft.authorization" in low and "roleassignments" in low:
                return self.role_assignment(req, segs)
            if len(low) < 4 or low[2] != "resourcegroups":
                raise cloud_error(404, "InvalidResourceType", "no such ARM path")
            rg = segs[3]
            if len(low) == 4:
                return self.resource_group(req, rg)
            self.need_group(rg)
            rest, lrest = segs[4:], low[4:]
            if lrest[:1] == ["deployments"]:  # the operations list also routes without providers
                rest, lrest = ["providers", "Microsoft.Resources"] + rest, ["providers", "microsoft.resources"] + lrest
            if lrest[:1] != ["providers"] or len(lrest) < 4:
                raise cloud_error(404, "InvalidResourceType", "no such ARM path")
            ns = lrest[1]
            if ns not in API:
                raise cloud_error(404, "NoRegisteredProviderFound", "No registered resource provider found for %s" % rest[1])
            self.api(req, ns)
            base = self.rg_id(rg) + "/providers/" + rest[1] + "/" + rest[2] + "/" + rest[3]
            tail = lrest[4:]
            if ns == "microsoft.resources" and lrest[2] == "deployments":
                return self.deployment(req, rg, rest[3], base, tail)
            if ns == "microsoft.containerinstance" and lrest[2] == "containergroups":
                return self.container_group(req, rg, rest[3], base, tail, rest[4:])
            if ns == "microsoft.storage" and lrest[2] == "storageaccounts" and tail == ["listkeys"]:
                return self.list_keys(req, base)
            return self.generic(req, rg, rest)

    def resource_group(self, req, rg):
        self.api(req, "microsoft.resources")
        g = self.groups.get(rg.lower())
        if req.method == "PUT":
            body = req.json()
            if not isinstance(body, dict) or not isinstance(body.get("location"), str):
                raise cloud_error(400, "LocationRequired", "The location property is required.")
            self.groups[rg.lower()] = {"name": rg, "location": body["location"], "tags": body.get("tags", {})}
            return (200 if g else 201), {}, self.rg_body(rg)
        if g is None:
            raise cloud_error(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % rg)
        if req.method == "GET":
            return 200, {}, self.rg_body(rg)
        if req.method == "DELETE":
            def finish():
                prefix = self.rg_id(rg).lower() + "/"
                for store in (self.res, self.cg_state, self.deployments, self.roles):
                    for k in [k for k in store if k.startswith(prefix)]:
                        del store[k]
                self.groups.pop(rg.lower(), None)
            hdrs, sync = self.start_op("Microsoft.Resources", finish)
            return (200 if sync else 202), hdrs, None
        raise cloud_error(405, "MethodNotAllowed", req.method)

    def rg_body(self, rg):
        g = self.groups[rg.lower()]
        return {"id": self.rg_id(g["name"]), "name": g["name"], "type": "Microsoft.Resources/resourceGroups",
                "location": g["location"], "tags": g.get("tags", {}),
                "properties": {"provisioningState": "Succeeded"}}

    # --- deployments ----------------------------------------------------------------------
    def check_template(self, body, rg):
        """Synchronous validation (azure-rest.md §4.3); returns evaluated resources."""
        def inv(code, msg):
            return cloud_error(400, code, msg)
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict):
            raise inv("InvalidRequestContent", "The request content must have properties.")
        if props.get("mode") != "Incremental":
            # Complete mode deletes what the template omits; nutapply must never send it.
            raise inv("InvalidDeploymentMode", "fakeazure accepts only mode Incremental, got %r" % props.get("mode"))
        t = props.get("template")
        if not isinstance(t, dict):
            raise inv("InvalidRequestContent", "properties.template (inline) is required; templateLink is not supported here.")
        if not isinstance(t.get("$schema"), str) or not isinstance(t.get("contentVersion"), str) or \
                not isinstance(t.get("resources"), list):
            raise inv("InvalidTemplate", "Deployment template validation failed: $schema, contentVersion, resources are required.")
        decl = t.get("parameters", {})
        given = props.get("parameters", {})
        if not isinstance(decl, dict) or not isinstance(given, dict):
            raise inv("InvalidTemplate", "parameters must be objects")
        values = {}
        ctx = {"parameters": values, "variables": {}, "rg": rg, "subscription": self.sub(),
               "location": self.groups[rg.lower()]["location"]}
        for pname, p in given.items():
            if pname not in decl:
                raise inv("InvalidTemplate", "Deployment template validation failed: The template parameter '%s' is not valid." % pname)
            if not isinstance(p, dict) or "value" not in p:
                raise inv("InvalidRequestContent", "parameter '%s': only {\"value\": ...} is supported" % pname)
        for pname, d in decl.items():
            typ = str(d.get("type", "")).lower()
            if typ not in TYPES:
                raise inv("InvalidTemplate", "parameter '%s': unknown type %r" % (pname, d.get("type")))
            if pname in given:
                v = given[pname]["value"]
            elif "defaultValue" in d:
                v = armexpr.evaluate(d["defaultValue"], ctx)
            else:
                raise inv("InvalidTemplate", "Deployment template validation failed: The value for the template "
                          "parameter '%s' is not provided." % pname)
            if not isinstance(v, TYPES[typ]) or (typ == "int" and isinstance(v, bool)):
                raise inv("InvalidTemplate", "parameter '%s': value is not of type %s" % (pname, d["type"]))
            if typ in SECURE_TYPES and not v:
                raise inv("InvalidTemplate", "parameter '%s': a secure parameter is empty" % pname)
            if "allowedValues" in d and v not in d["allowedValues"]:
                raise inv("InvalidTemplate", "parameter '%s': value not allowed" % pname)
            values[pname] = v
        ctx["variables"] = armexpr.evaluate(t.get("variables", {}), ctx)
        resources = armexpr.evaluate(t["resources"], ctx)
        for r in resources:
            if not isinstance(r, dict) or not all(isinstance(r.get(k), str) for k in ("type", "apiVersion", "name")):
                raise inv("InvalidTemplate", "every resource needs type, apiVersion and name")
        outputs = armexpr.evaluate(t.get("outputs", {}), ctx)
        return props, values, resources, outputs

    def res_id(self, rg, r):
        parts = r["type"].split("/")
        names = r["name"].split("/")
        path = parts[0]
        for t, n in zip(parts[1:], names):
            path += "/%s/%s" % (t, n)
        return self.rg_id(rg) + "/providers/" + path

    def deployment(self, req, rg, name, base, tail):
        key = base.lower()
        d = self.deployments.get(key)
        if tail == ["operations"] and req.method == "GET":
            if d is None:
                raise cloud_error(404, "DeploymentNotFound", "Deployment '%s' could not be found." % name)
            return 200, {}, {"value": d["operations"]}
        if tail == ["whatif"] and req.method == "POST":
            return self.what_if(req, rg)
        if tail:
            raise cloud_error(404, "InvalidResourceType", "no such deployment path")
        if req.method == "GET":
            if d is None:
                raise cloud_error(404, "DeploymentNotFound", "Deployment '%s' could not be found." % name)
            return 200, {}, self.dep_body(d)
        if req.method == "DELETE":
            if d is None:
                return 204, {}, None
            del self.deployments[key]
            return 202, {"Location": "%s%s/operationResults/%s?api-version=%s" % (
                self.fake.base["arm"], base, "done", API["microsoft.resources"])}, None
        if req.method != "PUT":
            raise cloud_error(405, "MethodNotAllowed", req.method)
        if d is not None and d["state"] not in TERMINAL:
            raise cloud_error(409, "DeploymentActive", "The deployment '%s' is still active." % name)
        props, values, resources, outputs = self.check_template(req.json(), rg)
        rec = {"id": base, "name": name, "rg": rg, "state": "Accepted", "mode": props["mode"],
               "template": props["template"], "parameters": values, "resources": resources,
               "outputs": outputs, "operations": [], "error": None, "timestamp": now_iso(),
               "correlationId": str(uuid.uuid4()),
               "secure": [k for k, dd in props["template"].get("parameters", {}).items()
                          if str(dd.get("type", "")).lower() in SECURE_TYPES]}
        self.deployments[key] = rec
        fail, self.fail_next = self.fail_next, None

        def finish():
            return self.apply_resources(rec, fail)
        hdrs, sync = self.start_op("Microsoft.Resources", finish, lambda: self.dep_body(rec))
        if not sync:
            rec["state"] = "Running"
        return (200 if d else 201), hdrs, self.dep_body(rec)

    def apply_resources(self, rec, fail):
        details = []
        for r in rec["resources"]:
            rid = self.res_id(rec["rg"], r)
            op = {"id": rec["id"] + "/operations/" + uuid.uuid4().hex[:16].upper(), "operationId": uuid.uuid4().hex[:16].upper(),
                  "properties": {"provisioningOperation": "Create", "provisioningState": "Succeeded",
                                 "timestamp": now_iso(), "duration": "PT1S", "statusCode": "OK",
                                 "targetResource": {"id": rid, "resourceName": r["name"], "resourceType": r["type"]}}}
            err = None
            if fail and not details:
                err = {"code": fail.get("code", "Conflict"), "message": fail.get("message", "injected failure")}
            elif r["type"].lower() == "microsoft.containerinstance/containergroups":
                try:
                    validate_cg(r, r["name"])
                    self.store_cg(rid, r)
                except HTTPError as e:
                    err = e.body["error"]
            else:
                self.res[rid.lower()] = dict(copy.deepcopy(r), id=rid)
            if err:
                op["properties"].update({"provisioningState": "Failed", "statusCode": "BadRequest",
                                         "statusMessage": {"status": "Failed", "error": err}})
                details.append(err)
            rec["operations"].append(op)
        if details:
            rec["state"] = "Failed"
            rec["error"] = {"code": "DeploymentFailed", "message": "At least one resource deployment operation "
                            "failed. Please list deployment operations for details.", "details": details}
            return rec["error"]
        rec["state"] = "Succeeded"
        return None

    def dep_body(self, d):
        params = {}
        for k, v in d["parameters"].items():
            typ = d["template"].get("parameters", {}).get(k, {}).get("type", "String")
            params[k] = {"type": typ} if k in d["secure"] else {"type": typ, "value": v}
        props = {"provisioningState": d["state"], "mode": d["mode"], "timestamp": d["timestamp"],
                 "correlationId": d["correlationId"], "parameters": params,
                 "outputResources": [{"id": self.res_id(d["rg"], r)} for r in d["resources"]]}
        if d["state"] == "Succeeded":
            props["outputs"] = {k: {"type": v.get("type"), "value": v.get("value")} for k, v in d["outputs"].items()}
        if d["error"]:
            props["error"] = d["error"]
        return {"id": d["id"], "name": d["name"], "type": "Microsoft.Resources/deployments", "properties": props}

    def what_if(self, req, rg):
        _, _, resources, _ = self.check_template(req.json(), rg)
        changes = []
        for r in resources:
            rid = self.res_id(rg, r)
            cur = self.res.get(rid.lower())
            after = strip_secrets(copy.deepcopy(r))
            after.pop("apiVersion", None)
            after.pop("dependsOn", None)
            if cur is None:
                changes.append({"resourceId": rid, "changeType": "Create", "after": after})
                continue
            before = strip_secrets(copy.deepcopy(cur))
            before.pop("id", None)
            delta = [{"path": k, "propertyChangeType": "Modify", "before": before.get(k), "after": after.get(k)}
                     for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
            changes.append({"resourceId": rid, "changeType": "Modify" if delta else "NoChange",
                            "before": before, "after": after, "delta": delta})
        result = {"status": "Succeeded", "properties": {"changes": changes}}
        hdrs, sync = self.start_op("Microsoft.Resources", lambda: None, lambda: result)
        if sync:
            return 200, {}, result
        hdrs.pop("Azure-AsyncOperation", None)
        if "Location" not in hdrs:  # whatIf answers 202 + Location (azure-rest.md §4.4)
            opid = list(self.ops)[-1]
            hdrs["Location"] = "%s/subscriptions/%s/providers/Microsoft.Resources/locations/westeurope/operationResults/%s?api-version=%s" % (
                self.fake.base["arm"], self.sub(), opid, API["microsoft.resources"])
        return 202, hdrs, None

    # --- container groups ----------------------------------------------------------------
    def store_cg(self, rid, body):
        body = copy.deepcopy(body)
        body.pop("apiVersion", None)
        body.pop("dependsOn", None)
        self.res[rid.lower()] = dict(body, id=rid, type="Microsoft.ContainerInstance/containerGroups")
        st = self.cg_state.get(rid.lower())
        names = [c["name"] for c in body["properties"]["containers"]]
        if st is None:
            st = self.cg_state[rid.lower()] = {"restarts": {}, "forced": {}, "pending": 0, "created": now_iso()}
        st["pending"] = self.fake.args.start_polls
        st["names"] = names

    def cg_body(self, rid):
        cg = strip_secrets(copy.deepcopy(self.res[rid.lower()]))
        st = self.cg_state[rid.lower()]
        if st["pending"] > 0:
            st["pending"] -= 1
            running = False
        else:
            running = True
        p = cg["properties"]
        p["provisioningState"] = "Succeeded"
        all_run = True
        for c in p["containers"]:
            n = c["name"]
            forced = st["forced"].get(n)
            if forced:
                cur = dict(forced)
            elif running:
                cur = {"state": "Running", "startTime": st["created"], "detailStatus": ""}
            else:
                cur = {"state": "Waiting", "detailStatus": "ContainerCreating"}
            all_run = all_run and cur["state"] == "Running"
            c["properties"]["instanceView"] = {"restartCount": st["restarts"].get(n, 0), "currentState": cur,
                                               "events": []}
        p["instanceView"] = {"state": "Running" if all_run else "Pending", "events": []}
        if "ipAddress" in p:
            p["ipAddress"]["ip"] = "10.0.0.4"
        return cg

    def container_group(self, req, rg, name, base, tail, rest_tail):
        key = base.lower()
        exists = key in self.res
        if not tail:
            if req.method == "GET":
                if not exists:
                    raise cloud_error(404, "ResourceNotFound", "The Resource '%s' was not found." % name)
                return 200, {}, self.cg_body(base)
            if req.method == "PUT":
                body = req.json()
                validate_cg(body, name)
                pending = {"done": False}

                def finish():
                    self.store_cg(base, body)
                    pending["done"] = True
                hdrs, sync = self.start_op("Microsoft.ContainerInstance", finish, lambda: self.cg_body(base))
                out = strip_secrets(copy.deepcopy(body))
                out.update(id=base, name=name, type="Microsoft.ContainerInstance/containerGroups")
                out["properties"]["provisioningState"] = "Succeeded" if sync else ("Updating" if exists else "Creating")
                return (200 if exists else 201), hdrs, out
            if req.method == "DELETE":
                if not exists:
                    return 204, {}, None
                out = self.cg_body(base)

                def finish():
                    self.res.pop(key, None)
                    self.cg_state.pop(key, None)
                hdrs, sync = self.start_op("Microsoft.ContainerInstance", finish)
                return (200, {}, out) if sync else (202, hdrs, None)
        if not exists:
            raise cloud_error(404, "ResourceNotFound", "The Resource '%s' was not found." % name)
        st = self.cg_state[key]
        if tail == ["restart"] and req.method == "POST":
            for n in st["names"]:
                st["restarts"][n] = st["restarts"].get(n, 0) + 1
            st["pending"] = self.fake.args.start_polls
            st["restarted"] = st.get("restarted", 0) + 1
            return 204, {}, None
        if tail in (["stop"], ["start"]) and req.method == "POST":
            st["pending"] = 10 ** 9 if tail == ["stop"] else self.fake.args.start_polls
            return 204, {}, None
        if len(tail) == 3 and tail[0] == "containers" and tail[2] == "logs" and req.method == "GET":
            if rest_tail[1] not in st["names"]:
                raise cloud_error(404, "ContainerNotFound", "container %s not found" % rest_tail[1])
            return 200, {}, {"content": "fakeazure log of %s\n" % rest_tail[1]}
        raise cloud_error(404, "InvalidResourceType", "no such container group path")

    # --- storage, roles, generic ----------------------------------------------------------
    def list_keys(self, req, base):
        if req.method != "POST":
            raise cloud_error(405, "MethodNotAllowed", req.method)
        if base.lower() not in self.res:
            raise cloud_error(404, "ResourceNotFound", "storage account not found")
        keys = self.keys.setdefault(base.lower(), [base64.b64encode(secrets.token_bytes(64)).decode() for _ in range(2)])
        return 200, {}, {"keys": [{"keyName": "key%d" % (i + 1), "value": k, "permissions": "FULL"}
                                  for i, k in enumerate(keys)]}

    def role_assignment(self, req, segs):
        self.api(req, "microsoft.authorization")
        rid = "/" + "/".join(segs)
        key = rid.lower()
        if req.method == "PUT":
            body = req.json()
            p = body.get("properties") if isinstance(body, dict) else None
            if not isinstance(p, dict) or not p.get("roleDefinitionId") or not p.get("principalId"):
                raise cloud_error(400, "InvalidRoleAssignmentRequest", "roleDefinitionId and principalId are required")
            cur = self.roles.get(key)
            if cur and cur["properties"] != p:
                raise cloud_error(409, "RoleAssignmentExists", "The role assignment already exists.")
            self.roles[key] = {"id": rid, "name": segs[-1], "type": "Microsoft.Authorization/roleAssignments",
                               "properties": dict(p, scope=rid.split("/providers/Microsoft.Authorization")[0])}
            return (200 if cur else 201), {}, self.roles[key]
        if req.method == "GET":
            if key not in self.roles:
                raise cloud_error(404, "RoleAssignmentNotFound", "The role assignment was not found.")
            return 200, {}, self.roles[key]
        if req.method == "DELETE":
            return (200, {}, self.roles.pop(key)) if key in self.roles else (204, {}, None)
        raise cloud_error(405, "MethodNotAllowed", req.method)

    def generic(self, req, rg, rest):
        rid = self.rg_id(rg) + "/" + "/".join(rest)
        key = rid.lower()
        if req.method == "PUT":
            body = req.json()
            if not isinstance(body, dict):
                raise cloud_error(400, "InvalidRequestContent", "body must be an object")
            existed = key in self.res
            typ = "/".join([rest[1]] + rest[2::2])
            self.res[key] = dict(body, id=rid, name=rest[-1], type=typ)
            self.res[key].setdefault("properties", {})["provisioningState"] = "Succeeded"
            return (200 if existed else 201), {}, self.res[key]
        if key not in self.res:
            raise cloud_error(404, "ResourceNotFound", "The Resource '%s' was not found." % rest[-1])
        if req.method == "GET":
            return 200, {}, self.res[key]
        if req.method == "DELETE":
            del self.res[key]
            return 200, {}, None
        raise cloud_error(405, "MethodNotAllowed", req.method)

    # --- control and state -----------------------------------------------------------------
    def control(self, what, body):
        with self.fake.lock:
            if what == "fail-deployment":
                self.fail_next = body
                return 200, {}, {"armed": True}
            if what == "container":
                gid = None
                for k, v in self.res.items():
                    if v.get("name") == body.get("group") and k in self.cg_state:
                        gid = k
                if gid is None:
                    raise HTTPError(404, {"error": "no such container group"})
                st = self.cg_state[gid]
                if body.get("state") in (None, "Running"):
                    st["forced"].pop(body.get("container"), None)
                else:
                    st["forced"][body.get("container")] = {k: body[k] for k in ("state", "exitCode", "detailStatus") if k in body}
                return 200, {}, {"forced": st["forced"]}
        raise HTTPError(404, {"error": "no arm control %s" % what})

    def dump(self):
        deps = {}
        for d in self.deployments.values():
            deps[d["name"]] = {"id": d["id"], "state": d["state"], "mode": d["mode"], "template": d["template"],
                               "parameters": d["parameters"], "resources": d["resources"], "error": d["error"]}
        cgs = {}
        for k, st in self.cg_state.items():
            r = self.res[k]
            cgs[r["name"]] = {"id": r["id"], "body": r, "restarts": st.get("restarted", 0)}
        return {"resource_groups": {g["name"]: g for g in self.groups.values()}, "deployments": deps,
                "container_groups": cgs, "resources": {v["id"]: v for k, v in self.res.items() if k not in self.cg_state},
                "role_assignments": list(self.roles.values()),
                "storage_keys": {self.res[k]["name"]: v for k, v in self.keys.items() if k in self.res},
                "operations": {k: {"status": o["status"], "error": o["error"]} for k, o in self.ops.items()}}
