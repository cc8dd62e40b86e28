#include "ociconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/digest.h"
#include "ocijson.h"

static int copy_str_array(const cJSON *cfg, const char *key, size_t max, const char *what,
			  cJSON *dst, struct ng_err *err)
{
	const cJSON *a;
	int rc = ocijson_array(cfg, key, max, what, &a, err);

	if (rc)
		return rc;
	if (!a)
		return cJSON_AddNullToObject(dst, key) ? 0 : NG_ENOMEM;
	for (const cJSON *e = a->child; e; e = e->next)
		if (!cJSON_IsString(e) || !ocijson_utf8_ok(e->valuestring))
			return ng_errf(err, NG_EINVAL,
				       "%s: \"%s\" holds a non-string or invalid UTF-8", what, key);
	return cJSON_AddItemToObject(dst, key, cJSON_Duplicate(a, 1)) ? 0 : NG_ENOMEM;
}

static int copy_str(const cJSON *cfg, const char *key, const char *what, cJSON *dst,
		    struct ng_err *err)
{
	const char *v;
	int rc = ocijson_str(cfg, key, what, &v, err);

	if (rc)
		return rc;
	if (v && !ocijson_utf8_ok(v))
		return ng_errf(err, NG_EINVAL, "%s: \"%s\" is not valid UTF-8", what, key);
	return (v ? cJSON_AddStringToObject(dst, key, v) : cJSON_AddNullToObject(dst, key))
		   ? 0
		   : NG_ENOMEM;
}

/* The config blob (image-spec config.md): platform, rootfs.diff_ids paired
 * with the manifest's layers, and the fields a container policy needs. */
int oci_config_parse(const uint8_t *p, size_t n, const struct oci_platform *want,
		     struct oci_image *img, struct ng_err *err)
{
	char what[120];
	cJSON *j = NULL;
	const cJSON *rootfs, *ids, *cfg;
	const char *os, *arch, *variant, *type;
	int rc;

	snprintf(what, sizeof(what), "config %s", img->config_digest);
	if ((rc = ocijson_parse(p, n, what, &j, err)))
		return rc;
	if (!cJSON_IsObject(j)) {
		rc = ng_errf(err, NG_EINVAL, "%s: not a JSON object", what);
		goto out;
	}
	if ((rc = ocijson_str(j, "os", what, &os, err)) ||
	    (rc = ocijson_str(j, "architecture", what, &arch, err)) ||
	    (rc = ocijson_str(j, "variant", what, &variant, err)) ||
	    (rc = ocijson_object(j, "rootfs", what, &rootfs, err)) ||
	    (rc = ocijson_object(j, "config", what, &cfg, err)))
		goto out;
	if (!oci_platform_matches(want, os, arch, variant)) {
		rc = ng_errf(err, NG_EVERIFY,
			     "%s is for %s/%s%s%s, not %s/%s%s%s: pick the image with --platform",
			     what, os ? os : "?", arch ? arch : "?", variant ? "/" : "",
			     variant ? variant : "", want->os, want->arch,
			     want->variant[0] ? "/" : "", want->variant);
		goto out;
	}
	if (asprintf(&img->platform, "%s/%s%s%s", os, arch, variant && *variant ? "/" : "",
		     variant && *variant ? variant : "") < 0) {
		img->platform = NULL;
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto out;
	}
	if (!rootfs || (rc = ocijson_str(rootfs, "type", what, &type, err)) || !type ||
	    strcmp(type, "layers")) {
		rc = rc ? rc : ng_errf(err, NG_EINVAL, "%s: rootfs.type is not \"layers\"", what);
		goto out;
	}
	if ((rc = ocijson_array(rootfs, "diff_ids", OCI_MAX_LAYERS, what, &ids, err)))
		goto out;
	if ((size_t)cJSON_GetArraySize(ids) != img->nlayers) {
		rc = ng_errf(err, NG_EVERIFY,
			     "manifest %s lists %zu layers but %s has %d rootfs.diff_ids: the "
			     "image is inconsistent",
			     img->manifest_digest, img->nlayers, what,
			     ids ? cJSON_GetArraySize(ids) : 0);
		goto out;
	}
	{
		size_t i = 0;
		for (const cJSON *e = ids ? ids->child : NULL; e; e = e->next, i++) {
			uint8_t raw[32];
			if (!cJSON_IsString(e) || digest_parse_sha256(e->valuestring, raw, err)) {
				rc = ng_errf(err, NG_EINVAL,
					     "%s: rootfs.diff_ids[%zu] is not a sha256 digest",
					     what, i);
				goto out;
			}
			snprintf(img->layers[i].diff_id, sizeof(img->layers[i].diff_id), "%s",
				 e->valuestring);
		}
	}
	img->config = cJSON_CreateObject();
	if (!img->config) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = copy_str_array(cfg, "Env", OCI_MAX_ENV, what, img->config, err)) ||
	    (rc = copy_str_array(cfg, "Entrypoint", OCI_MAX_ENV, what, img->config, err)) ||
	    (rc = copy_str_array(cfg, "Cmd", OCI_MAX_ENV, what, img->config, err)) ||
	    (rc = copy_str(cfg, "WorkingDir", what, img->config, err)) ||
	    (rc = copy_str(cfg, "User", what, img->config, err)) ||
	    (rc = copy_str(cfg, "StopSignal", what, img->config, err)))
		goto out;
out:
	if (rc == NG_ENOMEM && !err->msg[0])
		ng_errf(err, NG_ENOMEM, "out of memory");
	cJSON_Delete(j);
	return rc;
}
