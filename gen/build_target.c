/* build_target.c: target.json over a deployment (build_target.h). The
 * deployment is rewritten as JSON and parsed again, so every value from the
 * target passes the same validation (docs/deployment.md) and the derived
 * endpoints are computed by the one code that computes them. */
#include "build_target.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deployment.h"
#include "templates.h"

/* deployment path <- target path; `pinned`: refused when the deployment
 * states another value than its default and the target's. */
static const struct {
	const char *dep, *tgt;
	int pinned, strip_slash;
} map[] = {
    {"target.subscription", "subscription", 1, 0},
    {"target.resource_group", "resource_group", 1, 0},
    {"target.location", "location", 0, 0},
    {"target.key_vault", "key_vault.name", 0, 0},
    {"target.key_vault_kind", "key_vault.kind", 0, 0},
    {"target.endpoints.key_vault", "key_vault.uri", 0, 1},
    {"target.attestation_provider", "attestation.name", 0, 0},
    {"target.endpoints.attestation", "attestation.endpoint", 0, 1},
    {"target.managed_identity", "identity.name", 0, 0},
    {"target.storage_account", "storage.account", 0, 0},
    {"target.endpoints.storage_blob", "storage.blob_endpoint", 0, 1},
    {"encfs.blob_container", "storage.container", 0, 0},
    {"encfs.blob_name", "storage.blob", 0, 0},
    {"containers.caddy.file_share", "storage.share", 0, 0},
};

/* The node at a dotted path; *parent gets its parent. */
static cJSON *node(cJSON *doc, const char *path, cJSON **parent)
{
	char part[64];
	cJSON *up = NULL;
	while (doc && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = 0;
		up = doc;
		doc = cJSON_GetObjectItemCaseSensitive(doc, part);
		path += n + (path[n] == '.');
	}
	if (parent)
		*parent = up;
	return doc;
}

static int guid_ok(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23)
			? s[i] != '-'
			: !strchr("0123456789abcdefABCDEF", s[i]))
			return 0;
	return 1;
}

/* The ARM template puts the id where an expression could go: it must be the
 * plain id of the target's identity, nothing ARM would evaluate. */
static int identity_id_ok(const struct target *t)
{
	const char *id = target_str(t, "identity.resource_id");
	char want[1024];
	int n = snprintf(want, sizeof(want),
			 "/subscriptions/%s/resourceGroups/%s/providers/"
			 "Microsoft.ManagedIdentity/userAssignedIdentities/%s",
			 target_str(t, "subscription"), target_str(t, "resource_group"),
			 target_str(t, "identity.name"));
	return n > 0 && (size_t)n < sizeof(want) && strcasecmp(id, want) == 0 &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./()") ==
		   strlen(id);
}

int deployment_apply_target(struct deployment **d, const char *deployment_path,
			    const struct target *t, const char *target_path, FILE *log,
			    struct ng_err *err)
{
	cJSON *doc = NULL, *dflt = NULL;
	struct deployment *nd = NULL;
	char *text = NULL, name[600];
	int rc;

	if (!guid_ok(target_str(t, "identity.client_id")))
		return ng_errf(err, NG_EINVAL,
			       "%s: identity.client_id is not a GUID: use the file `nutapply infra "
			       "up` wrote",
			       target_path);
	if (!identity_id_ok(t))
		return ng_errf(err, NG_EINVAL,
			       "%s: identity.resource_id is not the identity %s in subscription "
			       "%s, resource group %s: use the file `nutapply infra up` wrote",
			       target_path, target_str(t, "identity.name"),
			       target_str(t, "subscription"), target_str(t, "resource_group"));
	if ((rc = templates_json("deployment/defaults.json", &dflt, err)))
		return rc;
	if (!(doc = cJSON_Duplicate(deployment_json(*d), 1))) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = target_str(t, map[i].tgt);
		cJSON *parent = NULL, *at = node(doc, map[i].dep, &parent);
		const char *old = cJSON_GetStringValue(at);
		const char *def = cJSON_GetStringValue(node(dflt, map[i].dep, NULL));
		char val[1024];
		size_t n;

		/* target.json says "managedhsm" (ARM's word), the deployment "managed_hsm" */
		if (!strcmp(map[i].dep, "target.key_vault_kind") && !strcmp(v, "managedhsm"))
			v = "managed_hsm";
		n = strlen(v);
		if (map[i].strip_slash && n > 1 && v[n - 1] == '/')
			n--;
		if (!old || !def || !parent) {
			rc = ng_errf(err, NG_EINTERNAL, "deployment has no $.%s", map[i].dep);
			goto done;
		}
		if (n >= sizeof(val)) {
			rc = ng_errf(err, NG_EINVAL, "%s: %s: longer than %zu bytes", target_path,
				     map[i].tgt, sizeof(val) - 1);
			goto done;
		}
		memcpy(val, v, n);
		val[n] = 0;
		if (!strcmp(old, val))
			continue;
		if (map[i].pinned && *old && strcmp(old, def)) {
			rc =
			    ng_errf(err, NG_EINVAL,
				    "%s: $.%s is %s but %s names %s: the bundle would deploy "
				    "where the resources are not; remove $.%s or build for the "
				    "target that `nutapply infra up` made there",
				    deployment_path, map[i].dep, old, target_path, val, map[i].dep);
			goto done;
		}
		if (log && *old)
			fprintf(log, "nutgen build: $.%s: %s (from %s; the deployment said %s)\n",
				map[i].dep, val, target_path, old);
		else if (log)
			fprintf(log, "nutgen build: $.%s: %s (from %s)\n", map[i].dep, val,
				target_path);
		cJSON_ReplaceItemInObjectCaseSensitive(parent, strrchr(map[i].dep, '.') + 1,
						       cJSON_CreateString(val));
	}
	if (!(text = cJSON_PrintUnformatted(doc))) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(name, sizeof(name), "%s (names from target.json)", target_path);
	if ((rc = deployment_parse(text, strlen(text), name, 0, &nd, err)))
		goto done;
	deployment_free(*d);
	*d = nd;
done:
	free(text);
	cJSON_Delete(doc);
	cJSON_Delete(dflt);
	return rc;
}
