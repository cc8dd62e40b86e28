/* keyvault.c: key import and release policy (see keyvault.h). */
#include "keyvault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/codec.h"
#include "azcall.h"

struct kv_client {
	struct az_api api;
	char base[AZ_URL_MAX + 64];
};

int kv_client_new(struct http_ctx *http, struct az_cred *cred, const struct az_cloud *cloud,
		  const char *vault, struct kv_client **out, struct ng_err *err)
{
	size_t n = strlen(vault);
	int url = !strncmp(vault, "https://", 8), rc = 0;

	if (url && (n > AZ_URL_MAX || strpbrk(vault, "?# ")))
		rc = ng_errf(err, NG_EINVAL, "vault URL '%.60s': too long or has a query", vault);
	if (rc || (!url && (rc = az_name_ok("vault", vault, 24, "-", err))))
		return rc;
	if (!(*out = calloc(1, sizeof(**out))))
		return ng_errf(err, NG_ENOMEM, "key vault: out of memory");
	if (url)
		snprintf((*out)->base, sizeof((*out)->base), "%.*s",
			 (int)(n - (vault[n - 1] == '/')), vault);
	else
		snprintf((*out)->base, sizeof((*out)->base), "https://%s.%s", vault,
			 cloud->vault_suffix);
	/* A Managed HSM has its own token audience (sidecars.md §7). */
	(*out)->api =
	    (struct az_api){http, cred,
			    strstr((*out)->base, ".managedhsm.") ? "https://managedhsm.azure.net"
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
	char url[AZ_URL_MAX + 512], what[200];
	struct http_resp r;
	int rc = az_name_ok("key name", name, 127, "-", err);

	*out = NULL;
	snprintf(url, sizeof(url), "%s/keys/%s%s%s?api-version=7.4", kv->base, name, ver ? "/" : "",
		 ver ? ver : "");
	snprintf(what, sizeof(what), "key vault: %s key %s", method, name);
	http_resp_init(&r);
	if (!rc && !(rc = az_call(&kv->api, method, url, body, 1, &r, out, err)) && r.status != 200)
		rc = http_status_err(&r, err, r.status == 404 ? NG_ENOTFOUND : NG_ENET, what);
	else if (!rc && !cJSON_IsObject(*out))
		rc = ng_errf(err, NG_ENET, "%s: the answer is not a JSON object", what);
	http_resp_free(&r);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int kv_get_key(struct kv_client *kv, const char *name, cJSON **bundle, struct ng_err *err)
{
	return call(kv, "GET", name, NULL, NULL, bundle, err);
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

static int attr(const cJSON *b, const char *obj, const char *flag)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(b, obj), flag));
}

/* The kid's last segment: the version. */
static const char *version(const cJSON *b)
{
	const char *kid = az_json_str(b, "key.kid"), *v = kid ? strrchr(kid, '/') : NULL;
	return v && v[1] && strlen(v) < 64 ? v + 1 : "";
}

int kv_apply_key(struct kv_client *kv, const char *name, const cJSON *key, const char *policy,
		 struct kv_result *res, struct ng_err *err)
{
	cJSON *want = cJSON_Parse(policy), *cur = NULL, *ans = NULL, *body = cJSON_CreateObject();
	cJSON *rp = cJSON_AddObjectToObject(body, "release_policy"), *at = NULL;
	char *data = base64url_encode((const uint8_t *)policy, strlen(policy)), ver[64];
	int rc = cJSON_IsObject(want) ? 0 : ng_errf(err, NG_EINVAL, "release policy: not JSON");

	res->action = KV_POLICY_UPDATED;
	/* Never immutable: a new bundle must be able to change it (sidecars.md §7). */
	if (!rc &&
	    (!data || !cJSON_AddStringToObject(rp, "data", data) ||
	     !cJSON_AddStringToObject(rp, "contentType", "application/json; charset=utf-8") ||
	     !cJSON_AddFalseToObject(rp, "immutable")))
		rc = ng_errf(err, NG_ENOMEM, "key vault: out of memory");
	if (!rc)
		rc = kv_get_key(kv, name, &cur, err);
	snprintf(ver, sizeof(ver), "%s", version(cur));
	if (rc == NG_ENOTFOUND && !key)
		rc = ng_errf(err, NG_ENOTFOUND,
			     "key vault: key %s is absent and the bundle carries no wrapped key: "
			     "give its private JWK with --key-file",
			     name);
	else if (rc == NG_ENOTFOUND && (res->action = KV_IMPORTED) &&
		 (!(at = cJSON_AddObjectToObject(body, "attributes")) ||
		  !cJSON_AddTrueToObject(at, "exportable") || !cJSON_AddTrueToObject(body, "Hsm") ||
		  !cJSON_AddItemReferenceToObject(body, "key", (cJSON *)key)))
		rc = ng_errf(err, NG_ENOMEM, "key vault: out of memory");
	else if (rc == NG_ENOTFOUND)
		rc = call(kv, "PUT", name, NULL, body, &ans, err);
	else if (!rc && !attr(cur, "attributes", "exportable"))
		rc = ng_errf(err, NG_EEXIST,
			     "key vault: key %s exists and is not exportable, so no release policy "
			     "can apply; use another key name in the deployment file",
			     name);
	else if (!rc && kv_policy_matches(cur, want))
		res->action = KV_UNCHANGED;
	else if (!rc && attr(cur, "release_policy", "immutable"))
		rc = ng_errf(err, NG_EEXIST,
			     "key vault: key %s has an immutable release policy; it can never "
			     "change: use another key name in the deployment file",
			     name);
	/* encfs releases the latest version (sidecars.md §7): update that one. */
	else if (!rc && !(rc = call(kv, "PATCH", name, ver, body, &ans, err)))
		cJSON_Delete(ans);
	if (!rc && res->action != KV_IMPORTED)
		rc = kv_get_key(kv, name, &ans, err);
	if (!rc && (!attr(ans, "attributes", "exportable") || !kv_policy_matches(ans, want)))
		rc = ng_errf(err, NG_EVERIFY,
			     "key vault: key %s read back is not exportable with the bundle's "
			     "release policy; check the vault (Premium or Managed HSM), run again",
			     name);
	else if (!rc && res->action == KV_POLICY_UPDATED && strcmp(version(ans), ver))
		rc = ng_errf(err, NG_EVERIFY, "key vault: key %s got a new version; run again",
			     name);
	free(data);
	cJSON_Delete(want);
	cJSON_Delete(cur);
	cJSON_Delete(body);
	cJSON_Delete(ans);
	return rc;
}
