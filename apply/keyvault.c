/* keyvault.c: Key Vault key import and release policy (see keyvault.h). */
#include "keyvault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/codec.h"
#include "azcall.h"

#define KV_API	     "api-version=7.4"
#define KV_POLICY_CT "application/json; charset=utf-8"

struct kv_client {
	struct az_api api;
	char base[AZ_URL_MAX + 64];
};

int kv_client_new(struct http_ctx *http, struct az_cred *cred, const struct az_cloud *cloud,
		  const char *vault, struct kv_client **out, struct ng_err *err)
{
	struct kv_client *kv;
	size_t n = strlen(vault);

	*out = NULL;
	if (strncmp(vault, "https://", 8) != 0) {
		/* Vault names: 3-24 of letters, digits, '-' (azure-rest.md §3). */
		if (n < 3 || n > 24 ||
		    strspn(vault, "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n)
			return ng_errf(
			    err, NG_EINVAL,
			    "vault '%.40s': not a vault name (3-24 letters, digits, '-') "
			    "nor an https:// URL",
			    vault);
	} else if (n > AZ_URL_MAX || strpbrk(vault, "?# ")) {
		return ng_errf(err, NG_EINVAL, "vault URL '%.60s': too long or has a query", vault);
	}
	if (!(kv = calloc(1, sizeof(*kv))))
		return ng_errf(err, NG_ENOMEM, "key vault: out of memory");
	if (vault[0] == 'h')
		snprintf(kv->base, sizeof(kv->base), "%.*s", (int)(n - (vault[n - 1] == '/')),
			 vault);
	else
		snprintf(kv->base, sizeof(kv->base), "https://%s.%s", vault, cloud->vault_suffix);
	/* A Managed HSM has its own token audience (sidecars.md §7). */
	kv->api = (struct az_api){http, cred,
				  strstr(kv->base, ".managedhsm.") ? "https://managedhsm.azure.net"
								   : cloud->vault_resource};
	*out = kv;
	return 0;
}

void kv_client_free(struct kv_client *kv)
{
	free(kv);
}

static int name_ok(const char *name, struct ng_err *err)
{
	size_t n = strlen(name);
	if (n < 1 || n > 127 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n)
		return ng_errf(
		    err, NG_EINVAL,
		    "key name '%.40s': must be 1-127 letters, digits or '-' (Key Vault rule)",
		    name);
	return 0;
}

static int call(struct kv_client *kv, const char *method, const char *path, const cJSON *body,
		long want, cJSON **out, const char *what, struct ng_err *err)
{
	char url[AZ_URL_MAX + 512];
	struct http_resp resp;
	cJSON *j = NULL;
	int rc;

	snprintf(url, sizeof(url), "%s%s?%s", kv->base, path, KV_API);
	http_resp_init(&resp);
	/* Import is retried too: a 429/5xx answer means it was not done, and
	 * a repeat after a lost answer only adds an identical version. */
	rc = az_call(&kv->api, method, url, body, 1, &resp, &j, err);
	if (!rc && resp.status == 404 && want != 404)
		rc = http_status_err(&resp, err, NG_ENOTFOUND, what);
	else if (!rc && resp.status != want)
		rc = http_status_err(&resp, err, NG_ENET, what);
	else if (!rc && !cJSON_IsObject(j))
		rc = ng_errf(err, NG_ENET, "%s: the answer is not a JSON object (request id %s)",
			     what, resp.request_id[0] ? resp.request_id : "none");
	http_resp_free(&resp);
	if (rc)
		cJSON_Delete(j);
	else
		*out = j;
	return rc;
}

int kv_get_key(struct kv_client *kv, const char *name, cJSON **bundle, struct ng_err *err)
{
	char path[160], what[200];
	int rc = name_ok(name, err);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/keys/%s", name);
	snprintf(what, sizeof(what), "key vault: get key %s", name);
	return call(kv, "GET", path, NULL, 200, bundle, what, err);
}

int kv_policy_matches(const cJSON *bundle, const cJSON *policy)
{
	const char *data = az_json_str(bundle, "release_policy.data");
	uint8_t *raw = NULL;
	size_t len = 0;
	struct ng_err e;
	cJSON *got;
	int same;

	/* The service may re-serialise the policy (azure-rest.md §11.2) and
	 * Microsoft's own tools send standard base64 (§3.1): accept both. */
	if (!data || (base64url_decode(data, strlen(data), &raw, &len, &e) &&
		      base64_decode(data, strlen(data), &raw, &len, &e)))
		return 0;
	got = cJSON_ParseWithLength((const char *)raw, len);
	free(raw);
	same = got && cJSON_Compare(got, policy, 1);
	cJSON_Delete(got);
	return same;
}

static cJSON *policy_member(const char *policy)
{
	char *data = base64url_encode((const uint8_t *)policy, strlen(policy));
	cJSON *rp = cJSON_CreateObject();

	if (!data || !rp || !cJSON_AddStringToObject(rp, "contentType", KV_POLICY_CT) ||
	    !cJSON_AddStringToObject(rp, "data", data) ||
	    !cJSON_AddFalseToObject(rp, "immutable")) { /* never immutable: sidecars.md §7 */
		cJSON_Delete(rp);
		rp = NULL;
	}
	free(data);
	return rp;
}

/* The kid's last path segment, the version. */
static const char *kid_version(const char *kid)
{
	const char *v = kid ? strrchr(kid, '/') : NULL;
	return v && v[1] ? v + 1 : NULL;
}

static int confirm(const cJSON *b, const cJSON *policy, const char *name, const char *what,
		   struct kv_result *res, struct ng_err *err)
{
	const char *kid = az_json_str(b, "key.kid");

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(b, "attributes"), "exportable")))
		return ng_errf(err, NG_EVERIFY,
			       "key vault: key %s came back NOT exportable after %s; the release "
			       "policy cannot work: delete and purge it, then run again",
			       name, what);
	if (!kv_policy_matches(b, policy))
		return ng_errf(err, NG_EVERIFY,
			       "key vault: key %s does not carry the bundle's release policy after "
			       "%s; check the vault (Premium or Managed HSM) and run again",
			       name, what);
	if (!kid_version(kid) || strlen(kid) >= sizeof(res->kid))
		return ng_errf(err, NG_ENET, "key vault: key %s: answer has no usable kid", name);
	snprintf(res->kid, sizeof(res->kid), "%s", kid);
	return 0;
}

int kv_apply_key(struct kv_client *kv, const char *name, const cJSON *key, const char *policy,
		 struct kv_result *res, struct ng_err *err)
{
	cJSON *want = cJSON_Parse(policy), *cur = NULL, *body = NULL, *ans = NULL, *rp;
	char path[200], what[200];
	const char *ver;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!cJSON_IsObject(want)) {
		cJSON_Delete(want);
		return ng_errf(err, NG_EINVAL, "release policy: not a JSON object");
	}
	rc = kv_get_key(kv, name, &cur, err);
	if (rc == NG_ENOTFOUND && !key) {
		rc = ng_errf(err, NG_ENOTFOUND,
			     "key vault: key %s is absent and the bundle carries no wrapped key: "
			     "import the key file nutgen wrote, then apply again",
			     name);
	} else if (rc == NG_ENOTFOUND) {
		body = cJSON_CreateObject();
		cJSON *attrs = cJSON_AddObjectToObject(body, "attributes");
		rp = policy_member(policy);
		if (!body || !attrs || !rp || !cJSON_AddTrueToObject(attrs, "exportable") ||
		    !cJSON_AddTrueToObject(body, "Hsm") ||
		    !cJSON_AddItemReferenceToObject(body, "key", (cJSON *)key)) {
			cJSON_Delete(rp);
			rc = ng_errf(err, NG_ENOMEM, "key vault: out of memory");
			goto out;
		}
		cJSON_AddItemToObject(body, "release_policy", rp);
		snprintf(path, sizeof(path), "/keys/%s", name);
		snprintf(what, sizeof(what), "key vault: import key %s", name);
		rc = call(kv, "PUT", path, body, 200, &ans, what, err);
		if (!rc)
			rc = confirm(ans, want, name, "import", res, err);
		res->action = KV_IMPORTED;
		goto out;
	}
	if (rc)
		goto out;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cur, "attributes"), "exportable"))) {
		rc = ng_errf(err, NG_EEXIST,
			     "key vault: key %s exists and is not exportable, so no release policy "
			     "can apply; use another key name in the deployment file",
			     name);
		goto out;
	}
	if (kv_policy_matches(cur, want)) {
		rc = confirm(cur, want, name, "reading it", res, err);
		res->action = KV_UNCHANGED;
		goto out;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cur, "release_policy"), "immutable"))) {
		rc = ng_errf(err, NG_EEXIST,
			     "key vault: key %s has an immutable release policy for another "
			     "deployment; it can never change: use another key name",
			     name);
		goto out;
	}
	if (!(ver = kid_version(az_json_str(cur, "key.kid"))) || strlen(ver) > 64) {
		rc = ng_errf(err, NG_ENET, "key vault: key %s: answer has no usable kid", name);
		goto out;
	}
	body = cJSON_CreateObject();
	if (!body || !(rp = policy_member(policy))) {
		rc = ng_errf(err, NG_ENOMEM, "key vault: out of memory");
		goto out;
	}
	cJSON_AddItemToObject(body, "release_policy", rp);
	snprintf(path, sizeof(path), "/keys/%s/%s", name, ver);
	snprintf(what, sizeof(what), "key vault: update the release policy of key %s", name);
	if ((rc = call(kv, "PATCH", path, body, 200, &ans, what, err)))
		goto out;
	cJSON_Delete(ans);
	ans = NULL;
	/* Read back the latest version: the policy must be on it, and it must
	 * still be the version just updated (no import raced us). */
	if ((rc = kv_get_key(kv, name, &ans, err)) ||
	    (rc = confirm(ans, want, name, "updating its release policy", res, err)))
		goto out;
	if (strcmp(kid_version(res->kid), ver) != 0)
		rc = ng_errf(err, NG_EVERIFY,
			     "key vault: key %s got a new version while its policy was updated; "
			     "run again",
			     name);
	res->action = KV_POLICY_UPDATED;
out:
	cJSON_Delete(want);
	cJSON_Delete(cur);
	cJSON_Delete(body);
	cJSON_Delete(ans);
	return rc;
}
