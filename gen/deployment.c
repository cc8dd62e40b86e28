/* deployment.c: loading and validating a deployment file
 * (docs/deployment.md). Every field of templates/deployment/defaults.json is
 * a known field with the type of its default; anything else is an error
 * naming its JSON path. */
#include "deployment.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bundle-format/fileio.h"
#include "../bundle-format/jsonw.h"
#include "deployment_int.h"
#include "templates.h"

#define DEPLOYMENT_MAX (1u << 20)

struct deployment {
	cJSON *doc;
	cJSON *cloud; /* the cloud's endpoint object (copy) */
	struct deployment_endpoints ep;
	char *strs[8];
};

static const char *const container_keys[RC_COUNT] = {"skr", "encfs", "caddy", "mint"};

const char *deployment_container_key(enum render_container c)
{
	return (unsigned)c < RC_COUNT ? container_keys[c] : "";
}

const cJSON *deployment_get(const struct deployment *d, const char *path)
{
	char buf[256], *save = NULL, *tok;
	const cJSON *n = d->doc;
	if (strlen(path) >= sizeof(buf))
		return NULL;
	strcpy(buf, path);
	for (tok = strtok_r(buf, ".", &save); tok && n; tok = strtok_r(NULL, ".", &save))
		n = cJSON_GetObjectItemCaseSensitive(n, tok);
	return n;
}

const char *deployment_str(const struct deployment *d, const char *path)
{
	const cJSON *v = deployment_get(d, path);
	return cJSON_IsString(v) ? v->valuestring : "";
}

int deployment_bool(const struct deployment *d, const char *path)
{
	return cJSON_IsTrue(deployment_get(d, path));
}

const cJSON *deployment_json(const struct deployment *d)
{
	return d->doc;
}

static const cJSON *container(const struct deployment *d, enum render_container c)
{
	return cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(d->doc, "containers"), deployment_container_key(c));
}

static const char *cstr(const struct deployment *d, enum render_container c, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(container(d, c), k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

const char *deployment_image_ref(const struct deployment *d, enum render_container c)
{
	return cstr(d, c, "image");
}

const char *deployment_image_archive(const struct deployment *d, enum render_container c)
{
	return cstr(d, c, "archive");
}

const char *deployment_container_name(const struct deployment *d, enum render_container c)
{
	return cstr(d, c, "name");
}

const struct deployment_endpoints *deployment_endpoints(const struct deployment *d)
{
	return &d->ep;
}

void deployment_free(struct deployment *d)
{
	if (!d)
		return;
	cJSON_Delete(d->doc);
	cJSON_Delete(d->cloud);
	for (size_t i = 0; i < sizeof(d->strs) / sizeof(d->strs[0]); i++)
		free(d->strs[i]);
	free(d);
}

/* ---- merging the file over the defaults ---- */

static int valid_env_name(const char *s)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int merge(const char *name, const char *path, const cJSON *in, const cJSON *dflt,
		 cJSON *into, struct ng_err *err)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, in)
	{
		char sub[512];
		const cJSON *dv = cJSON_GetObjectItemCaseSensitive(dflt, it->string);
		snprintf(sub, sizeof(sub), "%s.%s", path, it->string);
		if (!dv || it->string[0] == '_')
			return ng_errf(err, NG_EINVAL,
				       "%s: %s: unknown field (see docs/deployment.md)", name, sub);
		for (const cJSON *prev = in->child; prev != it; prev = prev->next)
			if (!strcmp(prev->string, it->string))
				return ng_errf(err, NG_EINVAL, "%s: %s: duplicate field", name,
					       sub);
		if (!strcmp(sub, "$.containers.mint.env")) {
			cJSON *env = cJSON_GetObjectItemCaseSensitive(into, "env");
			const cJSON *e;
			if (!cJSON_IsObject(it))
				return ng_errf(err, NG_EINVAL, "%s: %s: must be an object", name,
					       sub);
			cJSON_ArrayForEach(e, it)
			{
				for (const cJSON *q = it->child; q != e; q = q->next)
					if (!strcmp(q->string, e->string))
						return ng_errf(err, NG_EINVAL,
							       "%s: %s.%s: duplicate field", name,
							       sub, e->string);
				if (!valid_env_name(e->string))
					return ng_errf(err, NG_EINVAL,
						       "%s: %s.%s: not a valid variable name", name,
						       sub, e->string);
				if (cJSON_IsNull(e)) {
					cJSON_DeleteItemFromObjectCaseSensitive(env, e->string);
					continue;
				}
				if (!cJSON_IsString(e))
					return ng_errf(err, NG_EINVAL,
						       "%s: %s.%s: must be a string (or null to "
						       "remove a default)",
						       name, sub, e->string);
				cJSON_DeleteItemFromObjectCaseSensitive(env, e->string);
				cJSON_AddItemToObject(env, e->string, cJSON_Duplicate(e, 0));
			}
			continue;
		}
		if (cJSON_IsNull(dv)) { /* custom_cloud: null or an object checked later */
			if (!cJSON_IsNull(it) && !cJSON_IsObject(it))
				return ng_errf(err, NG_EINVAL, "%s: %s: must be an object or null",
					       name, sub);
			cJSON_ReplaceItemInObjectCaseSensitive(into, it->string,
							       cJSON_Duplicate(it, 1));
			continue;
		}
		if (cJSON_IsObject(dv)) {
			if (!cJSON_IsObject(it))
				return ng_errf(err, NG_EINVAL, "%s: %s: must be an object", name,
					       sub);
			if (merge(name, sub, it, dv,
				  cJSON_GetObjectItemCaseSensitive(into, it->string), err) < 0)
				return -1;
			continue;
		}
		if ((cJSON_IsString(dv) && !cJSON_IsString(it)) ||
		    (cJSON_IsNumber(dv) && !cJSON_IsNumber(it)) ||
		    (cJSON_IsBool(dv) && !cJSON_IsBool(it)))
			return ng_errf(err, NG_EINVAL, "%s: %s: must be a %s", name, sub,
				       cJSON_IsString(dv)   ? "string"
				       : cJSON_IsNumber(dv) ? "number"
							    : "boolean (true or false)");
		cJSON_ReplaceItemInObjectCaseSensitive(into, it->string, cJSON_Duplicate(it, 1));
	}
	return 0;
}

static cJSON *path_parent(cJSON *doc, const char *path, const char **leaf)
{
	static char buf[256];
	char *dot, *p = buf;
	cJSON *n = doc;
	snprintf(buf, sizeof(buf), "%s", path);
	while ((dot = strchr(p, '.'))) {
		*dot = 0;
		n = cJSON_GetObjectItemCaseSensitive(n, p);
		p = dot + 1;
	}
	*leaf = p;
	return n;
}

static int apply_env(const char *name, cJSON *doc, struct ng_err *err)
{
	cJSON *map;
	const cJSON *e;
	int rc = 0;
	if (templates_json("deployment/env-overrides.json", &map, err) < 0)
		return -1;
	cJSON_ArrayForEach(e, map)
	{
		const char *val, *leaf;
		const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(e, "path"));
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(e, "type"));
		const char *unless = cJSON_GetStringValue(cJSON_GetObjectItem(e, "only_if_unset"));
		const cJSON *also = cJSON_GetObjectItem(e, "also");
		cJSON *parent, *nv;
		if (e->string[0] == '_' || !path || !type)
			continue;
		val = getenv(e->string);
		if (!val || !*val || (unless && getenv(unless) && *getenv(unless)))
			continue;
		if (!strcmp(type, "bool")) {
			if (strcasecmp(val, "true") && strcasecmp(val, "false")) {
				rc = ng_errf(err, NG_EINVAL,
					     "%s: environment variable %s: must be true or false",
					     name, e->string);
				break;
			}
			nv = cJSON_CreateBool(!strcasecmp(val, "true"));
		} else {
			nv = cJSON_CreateString(val);
		}
		parent = path_parent(doc, path, &leaf);
		cJSON_ReplaceItemInObjectCaseSensitive(parent, leaf, nv);
		if (also) {
			const char *ap = cJSON_GetStringValue(cJSON_GetObjectItem(also, "path"));
			const char *av = cJSON_GetStringValue(cJSON_GetObjectItem(also, "value"));
			parent = path_parent(doc, ap, &leaf);
			if (!*cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(parent, leaf)))
				cJSON_ReplaceItemInObjectCaseSensitive(parent, leaf,
								       cJSON_CreateString(av));
		}
	}
	cJSON_Delete(map);
	return rc;
}

static char *dupf(struct deployment *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *dupf(struct deployment *d, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	size_t i;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	for (i = 0; i < sizeof(d->strs) / sizeof(d->strs[0]) && d->strs[i]; i++)
		;
	if (i < sizeof(d->strs) / sizeof(d->strs[0]))
		d->strs[i] = s;
	return s ? s : (char *)"";
}

static const char *url_host(struct deployment *d, const char *url)
{
	const char *h = url + 8; /* validated https:// */
	const char *slash = strchr(h, '/');
	return dupf(d, "%.*s", (int)(slash ? slash - h : (long)strlen(h)), h);
}

static int derive(const char *name, struct deployment *d, struct ng_err *err)
{
	const char *cloud = deployment_str(d, "target.cloud");
	const cJSON *cc = deployment_get(d, "target.custom_cloud");
	/* Seven endpoints every custom cloud names, then four optional token
	 * audiences/IMDS (defaults in build.c's manifest_cloud) that only
	 * nutapply uses: a stand-in or sovereign cloud may differ from Azure's. */
	static const char *const keys[] = {
	    "resource_manager", "active_directory",   "key_vault_suffix",    "managed_hsm_suffix",
	    "storage_suffix",	"attestation_suffix", "container_dns_suffix", "resource_manager_audience",
	    "storage_audience", "key_vault_audience", "imds"};
	const char *s, *kv_sfx, *loc = deployment_str(d, "target.location");
	cJSON *clouds;

	if (!strcmp(cloud, "custom")) {
		const cJSON *it;
		if (!cJSON_IsObject(cc))
			return ng_errf(err, NG_EINVAL,
				       "%s: $.target.custom_cloud: required when cloud is custom",
				       name);
		cJSON_ArrayForEach(it, cc)
		{
			size_t i;
			for (i = 0; i < 11 && strcmp(keys[i], it->string); i++)
				;
			if (i == 11)
				return ng_errf(err, NG_EINVAL,
					       "%s: $.target.custom_cloud.%s: unknown field", name,
					       it->string);
		}
		for (size_t i = 0; i < 11; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(cc, keys[i]);
			int url = i < 2 || (i >= 7 && i < 10);
			if (i >= 7 && !v)
				continue;
			if (i == 10) { /* IMDS is plain http by design (link-local) */
				if (!cJSON_IsString(v) || strncmp(v->valuestring, "http", 4) ||
				    strlen(v->valuestring) > 200)
					return ng_errf(err, NG_EINVAL,
						       "%s: $.target.custom_cloud.imds: must be an "
						       "http(s):// URL",
						       name);
				continue;
			}
			if (!cJSON_IsString(v) || !*v->valuestring ||
			    (url ? !deployment_url_ok(v->valuestring)
				 : !deployment_chars_ok(v->valuestring, "-.:", 1, 0, 1, 253)))
				return ng_errf(err, NG_EINVAL,
					       "%s: $.target.custom_cloud.%s: must be %s", name,
					       keys[i], url ? "an https:// URL" : "a DNS suffix");
		}
		d->cloud = cJSON_Duplicate(cc, 1);
	} else {
		if (!cJSON_IsNull(cc))
			return ng_errf(err, NG_EINVAL,
				       "%s: $.target.custom_cloud: only with cloud \"custom\"",
				       name);
		if (templates_json("deployment/clouds.json", &clouds, err) < 0)
			return -1;
		d->cloud = cJSON_DetachItemFromObjectCaseSensitive(clouds, cloud);
		cJSON_Delete(clouds);
		if (!d->cloud || cloud[0] == '_')
			return ng_errf(err, NG_EINVAL,
				       "%s: $.target.cloud: must be AzureCloud, AzureUSGovernment, "
				       "AzureChinaCloud or custom",
				       name);
	}
#define CL(k) cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d->cloud, k))
	d->ep.resource_manager = CL("resource_manager");
	d->ep.active_directory = CL("active_directory");
	kv_sfx = strcmp(deployment_str(d, "target.key_vault_kind"), "vault")
		     ? CL("managed_hsm_suffix")
		     : CL("key_vault_suffix");
	s = deployment_str(d, "target.endpoints.key_vault");
	d->ep.key_vault_url =
	    *s ? s : dupf(d, "https://%s.%s", deployment_str(d, "target.key_vault"), kv_sfx);
	d->ep.key_vault_host = url_host(d, d->ep.key_vault_url);
	s = deployment_str(d, "target.endpoints.storage_blob");
	d->ep.blob_url =
	    *s ? dupf(d, "%s/%s/%s", s, deployment_str(d, "encfs.blob_container"),
		      deployment_str(d, "encfs.blob_name"))
	       : dupf(d, "https://%s.blob.%s/%s/%s", deployment_str(d, "target.storage_account"),
		      CL("storage_suffix"), deployment_str(d, "encfs.blob_container"),
		      deployment_str(d, "encfs.blob_name"));
	s = deployment_str(d, "target.endpoints.attestation");
	if (*s) {
		d->ep.attestation_url = s;
	} else {
		cJSON *regions;
		const cJSON *code;
		if (templates_json("deployment/regions.json", &regions, err) < 0)
			return -1;
		code = cJSON_GetObjectItemCaseSensitive(regions, loc);
		if (!cJSON_IsString(code) || loc[0] == '_') {
			cJSON_Delete(regions);
			return ng_errf(
			    err, NG_EINVAL,
			    "%s: $.target.endpoints.attestation: the attestation host of "
			    "region %s is not known offline: set it to the provider's "
			    "attestUri (az attestation show --query attestUri)",
			    name, loc);
		}
		d->ep.attestation_url =
		    dupf(d, "https://%s.%s.%s", deployment_str(d, "target.attestation_provider"),
			 code->valuestring, CL("attestation_suffix"));
		cJSON_Delete(regions);
	}
	d->ep.attestation_host = url_host(d, d->ep.attestation_url);
	s = deployment_str(d, "dns.custom_domain");
	d->ep.domain = *s ? s
			  : dupf(d, "%s.%s.%s", deployment_str(d, "dns.label"), loc,
				 CL("container_dns_suffix"));
#undef CL
	return 0;
}

int deployment_parse(const char *json, size_t len, const char *name, int env,
		     struct deployment **out, struct ng_err *err)
{
	struct deployment *d = calloc(1, sizeof(*d));
	cJSON *in = NULL, *dflt = NULL;
	int rc = -1;

	*out = NULL;
	if (!d)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	in = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(in)) {
		ng_errf(err, NG_EINVAL, "%s: not a JSON object (see docs/deployment.md)", name);
		goto done;
	}
	if (templates_json("deployment/defaults.json", &dflt, err) < 0)
		goto done;
	d->doc = cJSON_Duplicate(dflt, 1);
	if (merge(name, "$", in, dflt, d->doc, err) < 0)
		goto done;
	if (env && apply_env(name, d->doc, err) < 0)
		goto done;
	if (deployment_validate(name, d, err) < 0 || derive(name, d, err) < 0)
		goto done;
	*out = d;
	d = NULL;
	rc = 0;
done:
	if (rc < 0 && err && !err->msg[0])
		ng_errf(err, NG_EINVAL, "%s: invalid deployment", name);
	deployment_free(d);
	cJSON_Delete(in);
	cJSON_Delete(dflt);
	return rc < 0 ? NG_EINVAL : 0;
}

int deployment_load(const char *path, int env, struct deployment **out, struct ng_err *err)
{
	uint8_t *data;
	size_t n;
	int rc = read_file_capped(path, DEPLOYMENT_MAX, &data, &n, err);
	*out = NULL;
	if (rc < 0)
		return rc;
	rc = deployment_parse((char *)data, n, path, env, out, err);
	free(data);
	return rc;
}

int deployment_default_text(int env, char **out, struct ng_err *err)
{
	cJSON *dflt;
	struct buf b;
	*out = NULL;
	if (templates_json("deployment/defaults.json", &dflt, err) < 0)
		return -1;
	if (env && apply_env("environment", dflt, err) < 0) {
		cJSON_Delete(dflt);
		return NG_EINVAL;
	}
	buf_init(&b, DEPLOYMENT_MAX);
	if (jsonw_print(dflt, &(struct jsonw_opts){2, ",", ": ", 0, 1}, &b, err) < 0) {
		buf_free(&b);
		cJSON_Delete(dflt);
		return -1;
	}
	buf_puts(&b, "\n");
	cJSON_Delete(dflt);
	*out = buf_steal(&b);
	return 0;
}
