#include "oci.h"

#include <stdio.h>
#include <string.h>

#include "../bundle-format/codec.h"
#include "layercache.h"
#include "ociarchive.h"
#include "ocilayers.h"

static cJSON *facts_json(const struct oci_image *img)
{
	cJSON *f = cJSON_CreateObject(), *roots, *layers, *warns;
	char ref[400], hex[65];

	if (!f)
		return NULL;
	if (img->repo) {
		snprintf(ref, sizeof(ref), "%s@%s", img->repo, img->manifest_digest);
		cJSON_AddStringToObject(f, "image", ref);
	} else {
		cJSON_AddNullToObject(f, "image");
	}
	cJSON_AddItemToObject(f, "config", cJSON_Duplicate(img->config, 1));
	roots = cJSON_AddArrayToObject(f, "layer_roothashes");
	cJSON_AddStringToObject(f, "manifest_digest", img->manifest_digest);
	cJSON_AddStringToObject(f, "config_digest", img->config_digest);
	cJSON_AddStringToObject(f, "platform", img->platform);
	cJSON_AddBoolToObject(f, "manifest_verified", img->manifest_verified);
	warns = cJSON_AddArrayToObject(f, "warnings");
	for (size_t i = 0; warns && i < img->nwarnings; i++)
		if (img->warnings[i])
			cJSON_AddItemToArray(warns, cJSON_CreateString(img->warnings[i]));
	layers = cJSON_AddArrayToObject(f, "layers");
	for (size_t i = 0; roots && layers && i < img->nlayers; i++) {
		const struct oci_layer *l = &img->layers[i];
		cJSON *o = cJSON_CreateObject();
		hex_encode(l->root, 32, hex);
		cJSON_AddItemToArray(roots, cJSON_CreateString(hex));
		cJSON_AddStringToObject(o, "digest", l->digest);
		cJSON_AddStringToObject(o, "media_type", l->media_type);
		cJSON_AddNumberToObject(o, "size", (double)l->size);
		cJSON_AddStringToObject(o, "diff_id", l->diff_id);
		cJSON_AddStringToObject(o, "root_hash", hex);
		cJSON_AddBoolToObject(o, "cached", l->cached);
		cJSON_AddItemToArray(layers, o);
	}
	/* Any failed allocation above leaves a hole; refuse partial facts. */
	if (!roots || !layers || !warns || !cJSON_GetObjectItem(f, "config") ||
	    cJSON_GetArraySize(layers) != (int)img->nlayers ||
	    cJSON_GetArraySize(roots) != (int)img->nlayers) {
		cJSON_Delete(f);
		return NULL;
	}
	return f;
}

int oci_image_facts(const char *archive, const struct oci_opts *o, cJSON **facts,
		    struct ng_err *err)
{
	struct oci_src *src = NULL;
	struct oci_image img;
	struct oci_select sel = {o->platform, o->reference, o->digest};
	struct layer_cache cache = {NULL};
	struct oci_hash_opts ho;
	int rc;

	*facts = NULL;
	memset(&img, 0, sizeof(img));
	if ((rc = oci_src_open(archive, &src, err)))
		return rc;
	if ((rc = oci_image_resolve(src, &sel, &img, err)))
		goto out;
	if (o->require_reference && !img.repo) {
		rc = ng_errf(err, NG_EINVAL,
			     "%s: names no repository: pass --reference REGISTRY/REPO", archive);
		goto out;
	}
	if (!o->no_cache)
		layer_cache_open(&cache, o->cache_dir);
	ho.jobs = o->jobs;
	ho.cache = &cache;
	if ((rc = oci_layers_hash(src, &img, &ho, err)))
		goto out;
	if (!(*facts = facts_json(&img)))
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
out:
	layer_cache_close(&cache);
	oci_image_release(&img);
	oci_src_free(src);
	return rc;
}
