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

/* ---- value checks ---- */

static int chars_ok(const char *s, const char *extra, int alpha, int upper, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isdigit(c) || (alpha && islower(c)) || (alpha && upper && isupper(c)) ||
		    (extra && strchr(extra, c)))
			continue;
		return 0;
	}
	return 1;
}

static int url_ok(const char *s)
{
	if (strncmp(s, "https://", 8) || strlen(s) < 9 || strlen(s) > 512)
		return 0;
	if (s[strlen(s) - 1] == '/')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '"' || *s == '?' || *s == '#' ||
		    (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int abs_path_ok(const char *s)
{
	if (s[0] != '/' || strlen(s) > 255 || strstr(s, "//") || strstr(s, "/../") ||
	    strstr(s, "/./"))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

struct check {
	const char *path;
	const char *extra; /* allowed besides digits (and letters when alpha) */
	int alpha, upper;
	size_t min, max;
	const char *what;
};

static const struct check name_checks[] = {
    {"target.resource_group", "-_.()", 1, 1, 1, 90, "1-90 letters, digits, -_.()"},
    {"target.location", "", 1, 0, 1, 40, "a region name such as northeurope"},
    {"target.container_group", "-", 1, 0, 1, 63, "1-63 lowercase letters, digits, -"},
    {"target.key_vault", "-", 1, 1, 3, 24, "3-24 letters, digits, -"},
    {"target.storage_account", "", 1, 0, 3, 24, "3-24 lowercase letters and digits"},
    {"target.attestation_provider", "", 1, 0, 3, 24, "3-24 lowercase letters and digits"},
    {"target.managed_identity", "-_", 1, 1, 3, 128, "3-128 letters, digits, -_"},
    {"containers.skr.name", "-", 1, 0, 1, 63, "1-63 lowercase letters, digits, -"},
    {"containers.encfs.name", "-", 1, 0, 1, 63, "1-63 lowercase letters, digits, -"},
    {"containers.caddy.name", "-", 1, 0, 1, 63, "1-63 lowercase letters, digits, -"},
    {"containers.mint.name", "-", 1, 0, 1, 63, "1-63 lowercase letters, digits, -"},
    {"containers.caddy.file_share", "-", 1, 0, 3, 63, "3-63 lowercase letters, digits, -"},
    {"encfs.key_name", "-", 1, 1, 1, 127, "1-127 letters, digits, -"},
    {"encfs.blob_container", "-", 1, 0, 3, 63, "3-63 lowercase letters, digits, -"},
    {"encfs.blob_name", "-_.", 1, 1, 1, 255, "1-255 letters, digits, -_."},
    {"policy_profile", "-.", 1, 0, 1, 64, "a profile under templates/policy/profiles"},
};

static int one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(v, *set))
			return 1;
	return 0;
}

static int validate(const char *name, struct deployment *d, struct ng_err *err)
{
	static const char *const kinds[] = {"vault", "managed_hsm", NULL};
	static const char *const ktypes[] = {"RSA-HSM", "oct-HSM", NULL};
	static const char *const levels[] = {"",      "trace", "debug", "info", "warning",
					     "error", "fatal", "panic", NULL};
	static const char *const paths[] = {"containers.caddy.data_mount",
					    "containers.mint.data_mount", "encfs.shared_dir",
					    "encfs.mount_point"};
	const cJSON *v;
	const char *s;
	char p[256];

#define FAIL(path, ...) return ng_errf(err, NG_EINVAL, "%s: $.%s: " __VA_ARGS__)
	v = deployment_get(d, "version");
	if (v->valuedouble != 1)
		FAIL("version", "must be 1", name, "version");
	for (size_t i = 0; i < sizeof(name_checks) / sizeof(name_checks[0]); i++) {
		const struct check *c = &name_checks[i];
		if (!chars_ok(deployment_str(d, c->path), c->extra, c->alpha, c->upper, c->min,
			      c->max))
			return ng_errf(err, NG_EINVAL, "%s: $.%s: '%s' is not valid: use %s", name,
				       c->path, deployment_str(d, c->path), c->what);
	}
	s = deployment_str(d, "target.subscription");
	if (*s && !chars_ok(s, "-", 1, 0, 36, 36))
		FAIL("target.subscription", "must be empty or a subscription GUID", name,
		     "target.subscription");
	if (!one_of(deployment_str(d, "target.key_vault_kind"), kinds))
		FAIL("", "must be vault or managed_hsm", name, "target.key_vault_kind");
	if (!one_of(deployment_str(d, "encfs.key_type"), ktypes))
		FAIL("", "must be RSA-HSM or oct-HSM", name, "encfs.key_type");
	if (!one_of(deployment_str(d, "encfs.log_level"), levels))
		FAIL("", "must be empty or trace|debug|info|warning|error|fatal|panic", name,
		     "encfs.log_level");
	for (size_t i = 0; i < 3; i++) {
		static const char *const eps[] = {"target.endpoints.key_vault",
						  "target.endpoints.storage_blob",
						  "target.endpoints.attestation"};
		s = deployment_str(d, eps[i]);
		if (*s && !url_ok(s))
			return ng_errf(err, NG_EINVAL,
				       "%s: $.%s: must be empty or an https:// URL without path "
				       "end slash, query or spaces",
				       name, eps[i]);
	}
	for (size_t i = 0; i < 4; i++)
		if (!abs_path_ok(deployment_str(d, paths[i])))
			return ng_errf(err, NG_EINVAL, "%s: $.%s: must be an absolute path", name,
				       paths[i]);
	{
		const char *sd = deployment_str(d, "encfs.shared_dir");
		const char *mp = deployment_str(d, "encfs.mount_point");
		size_t n = strlen(sd);
		/* encfs mounts at <dir(mount_point)>/.filesystem-0 and links
		 * mount_point to it (sidecars.md §1.2): the parent must be the
		 * emptyDir shared with the mint. */
		if (strncmp(mp, sd, n) || mp[n] != '/' || !mp[n + 1] || strchr(mp + n + 1, '/'))
			FAIL("", "must be a direct child of encfs.shared_dir (%s)", name,
			     "encfs.mount_point", sd);
	}
	for (int c = 0; c < RC_COUNT; c++) {
		const cJSON *ct = container(d, (enum render_container)c);
		const char *img = deployment_image_ref(d, (enum render_container)c);
		double cpu = cJSON_GetObjectItem(ct, "cpu")->valuedouble;
		double mem = cJSON_GetObjectItem(ct, "memory_gb")->valuedouble;
		snprintf(p, sizeof(p), "containers.%s", container_keys[c]);
		if (!*img || strlen(img) > 512 || strpbrk(img, " \t\r\n\"'"))
			return ng_errf(err, NG_EINVAL,
				       "%s: $.%s.image: must be an image reference such as "
				       "registry/name:tag or name@sha256:...",
				       name, p);
		if (!(cpu > 0 && cpu <= 4) || !(mem > 0 && mem <= 16))
			return ng_errf(err, NG_EINVAL,
				       "%s: $.%s: cpu must be in (0, 4] and memory_gb in (0, 16]",
				       name, p);
		for (int o = 0; o < c; o++)
			if (!strcmp(deployment_container_name(d, (enum render_container)o),
				    deployment_container_name(d, (enum render_container)c)))
				return ng_errf(err, NG_EINVAL, "%s: $.%s.name: used twice", name,
					       p);
	}
	v = deployment_get(d, "containers.mint.port");
	if (v->valuedouble < 1 || v->valuedouble > 65535 || v->valuedouble != (int)v->valuedouble ||
	    v->valuedouble == 80 || v->valuedouble == 443 || v->valuedouble == 8080)
		FAIL("", "must be a port 1-65535 other than 80, 443 (Caddy) and 8080 (SKR)", name,
		     "containers.mint.port");
	{
		const char *dom = deployment_str(d, "dns.custom_domain");
		const char *lab = deployment_str(d, "dns.label");
		if (!*dom && !*lab)
			return ng_errf(err, NG_EINVAL,
				       "%s: $.dns: set custom_domain or label (or CUSTOM_DOMAIN / "
				       "DNS_NAME_LABEL)",
				       name);
		if (*dom && (!chars_ok(dom, "-.", 1, 0, 3, 253) || !strchr(dom, '.') ||
			     dom[0] == '.' || dom[strlen(dom) - 1] == '.'))
			FAIL("", "'%s' is not a lowercase host name", name, "dns.custom_domain",
			     dom);
		if (*lab && (!chars_ok(lab, "-", 1, 0, 1, 63) || !islower((unsigned char)lab[0])))
			FAIL("", "must start with a letter; lowercase letters, digits, -", name,
			     "dns.label");
	}
	s = deployment_str(d, "acme_email");
	if (*s && (!strchr(s, '@') || strpbrk(s, " \t\r\n\"") || strlen(s) > 254))
		FAIL("", "must be empty or an e-mail address", name, "acme_email");
	s = deployment_str(d, "registry.server");
	if (*s && !chars_ok(s, "-.:", 1, 0, 1, 253))
		FAIL("", "must be empty or a registry host name", name, "registry.server");
	if (*s && !*deployment_str(d, "registry.username"))
		FAIL("", "must be set when registry.server is", name, "registry.username");
	if (strpbrk(deployment_str(d, "registry.username"), " \t\r\n\""))
		FAIL("", "must not contain spaces or quotes", name, "registry.username");
	if (*deployment_str(d, "encfs.blob_sas"))
		FAIL("",
		     "a SAS would be published in the public CCE policy (the encfs "
		     "arguments are pinned there): leave it empty and grant the managed "
		     "identity Storage Blob Data Contributor",
		     name, "encfs.blob_sas");
	v = deployment_get(d, "encfs.size_mib");
	if (v->valuedouble < 64 || v->valuedouble > 1048576 ||
	    v->valuedouble != (double)(long)v->valuedouble)
		FAIL("", "must be a whole number of MiB from 64 to 1048576", name,
		     "encfs.size_mib");
	s = deployment_str(d, "encfs.existing_volume.salt_hex");
	if (*s) {
		if (!chars_ok(s, "abcdefABCDEF", 0, 0, 2, 1024) || strlen(s) % 2)
			FAIL("", "must be an even number of hex digits (the seed's encfs-salt.txt)",
			     name, "encfs.existing_volume.salt_hex");
		if (strcmp(deployment_str(d, "encfs.key_type"), "RSA-HSM"))
			FAIL("", "an HKDF salt applies to RSA-HSM keys only", name,
			     "encfs.existing_volume.salt_hex");
	}
	if (strpbrk(deployment_str(d, "encfs.existing_volume.label"), "\r\n\"\\") ||
	    strlen(deployment_str(d, "encfs.existing_volume.label")) > 256)
		FAIL("", "must be a short plain label such as encfs", name,
		     "encfs.existing_volume.label");
	if (strpbrk(deployment_str(d, "containers.caddy.debug"), "\r\n\""))
		FAIL("", "must be a plain value", name, "containers.caddy.debug");
#undef FAIL
	return 0;
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
	static const char *const keys[] = {
	    "resource_manager", "active_directory",   "key_vault_suffix",    "managed_hsm_suffix",
	    "storage_suffix",	"attestation_suffix", "container_dns_suffix"};
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
			for (i = 0; i < 7 && strcmp(keys[i], it->string); i++)
				;
			if (i == 7)
				return ng_errf(err, NG_EINVAL,
					       "%s: $.target.custom_cloud.%s: unknown field", name,
					       it->string);
		}
		for (size_t i = 0; i < 7; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(cc, keys[i]);
			if (!cJSON_IsString(v) || !*v->valuestring ||
			    (i < 2 ? !url_ok(v->valuestring)
				   : !chars_ok(v->valuestring, "-.:", 1, 0, 1, 253)))
				return ng_errf(err, NG_EINVAL,
					       "%s: $.target.custom_cloud.%s: must be %s", name,
					       keys[i], i < 2 ? "an https:// URL" : "a DNS suffix");
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
	if (validate(name, d, err) < 0 || derive(name, d, err) < 0)
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
