/* keyvault.c: key import and release policy (see keyvault.h). */
#include "keyvault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/codec.h"
#include "azcall.h"

struct kv_client {
	struct az_api api;
	char base[AZ_URL_MAX];
};

int kv_client_new(struct http_ctx *http, struct az_cred *cred, const struct az_cloud *cloud,
		  const char *vault, struct kv_client **out, struct ng_err *err)
{
	int n = (int)strlen(vault);

	if (strncmp(vault, "https://", 8) || n >= AZ_URL_MAX || strpbrk(vault, "?# "))
		return ng_errf(err, NG_EINVAL, "vault '%.60s': want an https:// URL", vault);
	if (!(*out = calloc(1, sizeof(**out))))
		return ng_errf(err, NG_ENOMEM, "key vault: out of memory");
	snprintf((*out)->base, AZ_URL_MAX, "%.*s", n - (vault[n - 1] == '/'), vault);
	/* A Managed HSM has its own token audience (sidecars.md §7). */
	(*out)->api = (struct az_api){http, cred,
				      strstr(vault, ".managedhsm.") ? "https://managedhsm.azure.net"
								    : cloud->vault_resource};
	return 0;
}

void kv_client_free(struct kv_client *kv)
{
	free(kv);
}

/* Retried even for import: a 429/5xx means not done, and a repeat after a
 * lost answer only adds an identical version. */
static int call(struct kv_client *kv, const char *method, const char *name, const char *ver,
		const cJSON *body, cJSON **out, struct ng_err *err)
{
	char url[AZ_URL_MAX + 256], what[200];
	struct http_resp r;
	int rc = az_name_ok("key name", name, 127, "-", err);

	*out = NULL;
	snprintf(url, sizeof(url), "%s/keys/%s%s%s?api-version=7.4", kv->base, name,
		 *ver ? "/" : "", ver);
	snprintf(what, sizeof(what), "key vault: %s key %s", method, name);
	if (!rc && (rc = az_req(&kv->api, method, url, body, &r, out, what, err))) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	http_resp_free(&r);
	return rc;
}

int kv_get_key(struct kv_client *kv, const char *name, cJSON **bundle, struct ng_err *err)
{
	return call(kv, "GET", name, "", NULL, bundle, err);
}

int kv_policy_matches(const cJSON *bundle, const cJSON *policy)
{
	const char *d = az_json_str(bundle, "release_policy.data");
	uint8_t *raw = NULL;
	size_t len = 0;
	struct ng_err e;
	cJSON *got = NULL;

	/* Re-serialised by the service (§11.2); standard base64 from Microsoft's tools (§3.1). */
	if (d && (!base64url_decode(d, strlen(d), &raw, &len, &e) ||
		  !base64_decode(d, strlen(d), &raw, &len, &e)))
		got = cJSON_ParseWithLength((const char *)raw, len);
	free(raw);
	int same = got && cJSON_Compare(got, policy, 1);
	cJSON_Delete(got);
	return same;
}

static int flag(const cJSON *b, const char *obj, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(b, obj), name));
}

int kv_apply_key(struct kv_client *kv, const char *name, const cJSON *key, const char *policy,
		 struct kv_result *res, struct ng_err *err)
{
	cJSON *want = cJSON_Parse(policy), *cur = NULL, *ans = NULL, *body = cJSON_CreateObject();
	cJSON *rp = cJSON_AddObjectToObject(body, "release_policy");
	char *data = base64url_encode((const uint8_t *)policy, strlen(policy));
	int rc = kv_get_key(kv, name, &cur, err);
	const char *kid = az_json_str(cur, "key.kid");

	/* Never immutable: a new bundle must be able to change it (sidecars.md §7). */
	if (!data || !cJSON_IsObject(want) || !cJSON_AddStringToObject(rp, "data", data) ||
	    !cJSON_AddStringToObject(rp, "contentType", "application/json; charset=utf-8") ||
	    !cJSON_AddFalseToObject(rp, "immutable"))
		rc = ng_errf(err, NG_EINVAL, "release policy of key %s: not JSON", name);
	res->action = rc == NG_ENOTFOUND ? KV_IMPORTED : KV_POLICY_UPDATED;
	if (rc == NG_ENOTFOUND && !key) {
		rc = ng_errf(err, rc, "key vault: no key %s and no wrapped key: use --key-file",
			     name);
	} else if (rc == NG_ENOTFOUND) {
		cJSON_AddTrueToObject(cJSON_AddObjectToObject(body, "attributes"), "exportable");
		cJSON_AddTrueToObject(body, "Hsm");
		cJSON_AddItemReferenceToObject(body, "key", (cJSON *)key);
		rc = call(kv, "PUT", name, "", body, &ans, err);
	} else if (!rc && !flag(cur, "attributes", "exportable")) {
		rc = ng_errf(err, NG_EEXIST, "key vault: key %s is not exportable: use another",
			     name);
	} else if (!rc && kv_policy_matches(cur, want)) {
		res->action = KV_UNCHANGED;
		ans = cur;
		cur = NULL;
	} else if (!rc && flag(cur, "release_policy", "immutable")) {
		rc = ng_errf(err, NG_EEXIST,
			     "key vault: key %s has an immutable policy: use another", name);
	} else if (!rc && !(rc = call(kv, "PATCH", name, strrchr(kid ? kid : "/", '/') + 1, body,
				      &ans, err))) {
		/* encfs releases the latest version (sidecars.md §7): read it back. */
		cJSON_Delete(ans);
		rc = kv_get_key(kv, name, &ans, err);
	}
	if (!rc && (!flag(ans, "attributes", "exportable") || !kv_policy_matches(ans, want)))
		rc = ng_errf(err, NG_EVERIFY,
			     "key vault: key %s read back lacks exportable or the "
			     "policy: is the vault Premium or Managed HSM?",
			     name);
	free(data);
	cJSON_Delete(want);
	cJSON_Delete(cur);
	cJSON_Delete(body);
	cJSON_Delete(ans);
	return rc;
}
