"""What ACI asks the guest for when it starts the containers of an ARM
template's container group (confcom-policy.md §2): shared by the two
admission harnesses (admission_model.py, rego_admission.py), which differ
in how they decide, not in what they are asked."""

PAUSE_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"]
# what ACI adds to every user container's environment (confcom-policy.md §2)
ACI_ENV = ["TERM=xterm", "HOSTNAME=SandboxHost-638000000000000000", "Fabric_NodeIPOrFQDN=10.0.0.4",
           "IDENTITY_API_VERSION=2020-06-01", "IDENTITY_HEADER=abc",
           "IDENTITY_SERVER_THUMBPRINT=0011", "azurecontainerinstance_restarted_by=none"]
# ACI's sandbox-relative directories per volume kind (confcom-policy.md §2 mount sources)
VOLUME_DIRS = {"emptyDir": "tmp/atlas/emptydir", "azureFile": "tmp/atlas/azureFileVolume",
               "secret": "tmp/atlas/secretsVolume", "gitRepo": "tmp/atlas/gitRepoVolume"}


def container_group(arm):
    """The properties of the template's container group and its volumes by name."""
    g = [r for r in arm["resources"] if r["type"].lower().endswith("/containergroups")][0]["properties"]
    return g, {v["name"]: v for v in g.get("volumes", [])}


def process(p, cfg):
    """args, template env and full env of a container with properties p and
    image config cfg: the template's command, else the image's entrypoint
    and cmd; template env first, then image env and ACI's additions that it
    does not name."""
    args = p.get("command") or ((cfg.get("Entrypoint") or []) + (cfg.get("Cmd") or []))
    tenv = [f"{e['name']}={e.get('value', e.get('secureValue'))}" for e in p.get("environmentVariables", [])]
    names = {e.split("=", 1)[0] for e in tenv}
    env = tenv + [e for e in (cfg.get("Env") or []) if e.split("=", 1)[0] not in names]
    env += [e for e in ACI_ENV if e.split("=", 1)[0] not in {x.split("=", 1)[0] for x in env}]
    return args, tenv, env


def volume_mounts(p, vols, sandbox_mounts):
    """The bind mounts of a container's volumeMounts, sourced under the
    sandbox mounts directory sandbox_mounts."""
    out = []
    for vm in p.get("volumeMounts", []):
        kind = [k for k in vols[vm["name"]] if k in VOLUME_DIRS][-1]
        out.append({"destination": vm["mountPath"], "type": "bind",
                    "source": f"{sandbox_mounts}/{VOLUME_DIRS[kind]}/{vm['name']}",
                    "options": ["rbind", "rshared", "ro" if vm.get("readOnly") else "rw"]})
    return out
