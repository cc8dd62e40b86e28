#include "ociimage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "ocijson.h"
#include "ociconfig.h"
#include "ociref.h"

#define MT_OCI_INDEX	"application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG	"application/vnd.oci.image.config.v1+json"
#define MT_DKR_LIST	"application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DKR_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DKR_CONFIG	"application/vnd.docker.container.image.v1+json"
#define MT_DKR_TAR	"application/vnd.docker.image.rootfs.diff.tar"

static const struct {
	const char *media_type;
	int compression;
} layer_types[] = {
    {"application/vnd.oci.image.layer.v1.tar", OCI_PLAIN},
    {"application/vnd.oci.image.layer.v1.tar+gzip", OCI_GZIP},
    {"application/vnd.oci.image.layer.v1.tar+zstd", OCI_ZSTD},
    {"application/vnd.docker.image.rootfs.diff.tar.gzip", OCI_GZIP},
    {MT_DKR_TAR, OCI_PLAIN},
};

static int add_warning(struct oci_image *img, const char *msg)
{
	if (img->nwarnings < sizeof(img->warnings) / sizeof(img->warnings[0]))
		img->warnings[img->nwarnings++] = strdup(msg);
	return 0;
}

/* Reads the blob a descriptor names and checks its size and digest. */
static int read_blob(const struct oci_src *src, const struct oci_desc *d, const char *what,
		     size_t max, uint8_t **out, size_t *len, struct ng_err *err)
{
	char path[96], hex[SHA256_HEX_LEN + 1];
	int rc;

	if (d->size > max)
		return ng_errf(err, NG_ELIMIT, "%s %s: %llu bytes is over the limit of %zu", what,
			       d->digest, (unsigned long long)d->size, max);
	snprintf(path, sizeof(path), "blobs/sha256/%s", d->digest + 7);
	if ((rc = oci_src_read(src, path, max, out, len, err)))
		return ng_err_prefix(err, rc, "%s %s", what, d->digest);
	sha256_hex(*out, *len, hex);
#ifdef NG_FUZZING
	/* Let the fuzzer reach the parsers behind the digests it cannot forge. */
	return 0;
#endif
	if (*len != d->size || strcmp(hex, d->digest + 7)) {
		free(*out);
		*out = NULL;
		if (*len != d->size)
			return ng_errf(
			    err, NG_EVERIFY,
			    "%s %s in %s: blob is %zu bytes but its descriptor says %llu: "
			    "the archive is corrupt or tampered",
			    what, d->digest, oci_src_name(src), *len, (unsigned long long)d->size);
		return ng_errf(err, NG_EVERIFY,
			       "%s %s in %s: content hashes to sha256:%s: the archive is corrupt "
			       "or tampered",
			       what, d->digest, oci_src_name(src), hex);
	}
	return 0;
}

#define MAX_CANDIDATES 64

struct candidate {
	struct oci_desc d;
	const char *name; /* ref name annotation of the index.json entry */
};

static const char *ref_annotation(const cJSON *ann)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ann, "io.containerd.image.name");

	if (!cJSON_IsString(v))
		v = cJSON_GetObjectItemCaseSensitive(ann, "org.opencontainers.image.ref.name");
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Collects the image manifests an index (image-spec image-index.md) reaches,
 * following nested indexes (crane writes index.json → index blob). Each
 * nested index blob is verified before it is parsed; the parsed documents are
 * kept in docs so the descriptors stay valid. */
static int walk_index(const struct oci_src *src, const cJSON *index, const char *what, int depth,
		      const char *name, struct candidate *c, size_t *nc, cJSON **docs,
		      size_t *ndocs, struct ng_err *err)
{
	const cJSON *ms;
	uint64_t schema;
	int rc, present;

	if (!cJSON_IsObject(index))
		return ng_errf(err, NG_EINVAL, "%s: not a JSON object", what);
	if ((rc = ocijson_uint(index, "schemaVersion", what, &schema, &present, err)))
		return rc;
	if (schema != 2)
		return ng_errf(err, NG_EINVAL, "%s: schemaVersion is not 2", what);
	if ((rc = ocijson_array(index, "manifests", OCI_MAX_MANIFESTS, what, &ms, err)))
		return rc;
	for (const cJSON *e = ms ? ms->child : NULL; e; e = e->next) {
		struct oci_desc d;
		const char *n;
		if ((rc = ocijson_desc(e, what, &d, err)))
			return rc;
		n = name ? name : ref_annotation(d.annotations);
		if (d.media_type &&
		    (!strcmp(d.media_type, MT_OCI_INDEX) || !strcmp(d.media_type, MT_DKR_LIST))) {
			char sub[120];
			uint8_t *b;
			size_t len;
			cJSON *j;
			if (depth >= OCI_MAX_INDEX_DEPTH || *ndocs >= MAX_CANDIDATES)
				return ng_errf(err, NG_ELIMIT, "index %s: indexes nested too deep",
					       d.digest);
			snprintf(sub, sizeof(sub), "index %s", d.digest);
			if ((rc = read_blob(src, &d, "index", OCI_INDEX_MAX_BYTES, &b, &len, err)))
				return rc;
			rc = ocijson_parse(b, len, sub, &j, err);
			free(b);
			if (rc)
				return rc;
			docs[(*ndocs)++] = j;
			if ((rc = walk_index(src, j, sub, depth + 1, n, c, nc, docs, ndocs, err)))
				return rc;
		} else if (d.media_type && (!strcmp(d.media_type, MT_OCI_MANIFEST) ||
					    !strcmp(d.media_type, MT_DKR_MANIFEST))) {
			if (*nc >= MAX_CANDIDATES)
				return ng_errf(err, NG_ELIMIT, "%s: more than %d image manifests",
					       what, MAX_CANDIDATES);
			c[*nc].d = d;
			c[(*nc)++].name = n;
		} else if (!d.media_type) {
			return ng_errf(err, NG_EINVAL, "%s: descriptor %s has no mediaType", what,
				       d.digest);
		}
		/* Other media types (signatures, SBOMs, artifacts) are not images. */
	}
	return 0;
}

static void set_repo_from(struct oci_image *img, const char *name)
{
	char *repo = NULL;
	struct ng_err e;

	/* A bare tag ("latest", "v1.2") names no repository (image-spec
	 * annotations.md allows either form in ref.name). */
	if (!name || (!strchr(name, '/') && !strchr(name, ':')) ||
	    oci_parse_reference(name, &repo, NULL, NULL, &e))
		return;
	free(img->repo);
	img->repo = repo;
}

/* Whether an index entry's ref name names the image the user asked for
 * (--reference with a tag): a full name equal in repository and tag, or a
 * bare tag equal to the tag. */
static int name_matches(const char *name, const char *reference)
{
	char *r1 = NULL, *t1 = NULL, *r2 = NULL, *t2 = NULL;
	struct ng_err e;
	int m = 0;

	if (!name || oci_parse_reference(reference, &r2, &t2, NULL, &e) || !t2)
		goto out;
	if (!strchr(name, '/') && !strchr(name, ':'))
		m = !strcmp(name, t2);
	else if (!oci_parse_reference(name, &r1, &t1, NULL, &e))
		m = !strcmp(r1, r2) && t1 && !strcmp(t1, t2);
out:
	free(r1);
	free(t1);
	free(r2);
	free(t2);
	return m;
}

/* Picks the one manifest for the wanted platform: entries that state it,
 * else entries that state no platform (checked against the config later);
 * several entries of one digest are one image; several images are told apart
 * by --reference's tag against their ref names. */
static int pick(const struct candidate *c, size_t nc, const struct oci_platform *want,
		const char *reference, const char *archive, const struct candidate **out,
		struct ng_err *err)
{
	const struct candidate *sel[MAX_CANDIDATES];
	size_t n = 0, exact = 0, distinct = 0;
	char have[400] = "";

	for (size_t i = 0; i < nc; i++)
		exact +=
		    c[i].d.os && oci_platform_matches(want, c[i].d.os, c[i].d.arch, c[i].d.variant);
	for (size_t i = 0; i < nc; i++) {
		int ok = exact ? c[i].d.os && oci_platform_matches(want, c[i].d.os, c[i].d.arch,
								   c[i].d.variant)
			       : !c[i].d.os;
		if (ok)
			sel[n++] = &c[i];
		else if (c[i].d.os && strlen(have) < sizeof(have) - 100)
			snprintf(have + strlen(have), sizeof(have) - strlen(have),
				 "%s%.20s/%.20s%s%.10s", have[0] ? ", " : "", c[i].d.os,
				 c[i].d.arch ? c[i].d.arch : "?", c[i].d.variant ? "/" : "",
				 c[i].d.variant ? c[i].d.variant : "");
	}
	if (n > 1 && reference) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (name_matches(sel[i]->name, reference))
				sel[k++] = sel[i];
		if (k)
			n = k;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < i && strcmp(sel[j]->d.digest, sel[i]->d.digest))
			j++;
		distinct += j == i;
	}
	if (distinct == 1) {
		*out = sel[0];
		return 0;
	}
	if (distinct > 1)
		return ng_errf(err, NG_EINVAL,
			       "%s: holds %zu images for %s/%s%s%s; name one with --reference "
			       "REPO:TAG (its ref name) or keep one image per archive",
			       archive, distinct, want->os, want->arch, want->variant[0] ? "/" : "",
			       want->variant);
	return ng_errf(err, NG_ENOTFOUND,
		       "%s: no image for %s/%s%s%s (it has: %s); choose with --platform", archive,
		       want->os, want->arch, want->variant[0] ? "/" : "", want->variant,
		       have[0] ? have : "none");
}

static int layer_type(const char *mt)
{
	for (size_t i = 0; i < sizeof(layer_types) / sizeof(layer_types[0]); i++)
		if (!strcmp(mt, layer_types[i].media_type))
			return layer_types[i].compression;
	return -1;
}

static int resolve_manifest(const struct oci_src *src, const struct oci_desc *md,
			    const struct oci_platform *want, struct oci_image *img,
			    struct ng_err *err)
{
	uint8_t *b = NULL;
	size_t len;
	cJSON *m = NULL;
	const cJSON *cd, *ls;
	const char *mt;
	struct oci_desc cfg;
	char what[120];
	uint64_t schema;
	int rc, present;

	snprintf(what, sizeof(what), "manifest %s", md->digest);
	snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s", md->digest);
	if ((rc = read_blob(src, md, "manifest", OCI_MANIFEST_MAX_BYTES, &b, &len, err)) ||
	    (rc = ocijson_parse(b, len, what, &m, err)))
		goto out;
	if (!cJSON_IsObject(m)) {
		rc = ng_errf(err, NG_EINVAL, "%s: not a JSON object", what);
		goto out;
	}
	if ((rc = ocijson_uint(m, "schemaVersion", what, &schema, &present, err)) ||
	    (rc = ocijson_str(m, "mediaType", what, &mt, err)))
		goto out;
	if (schema != 2 || (mt && strcmp(mt, md->media_type))) {
		rc = ng_errf(err, NG_EINVAL,
			     "%s: schemaVersion is not 2 or mediaType differs from its descriptor",
			     what);
		goto out;
	}
	cd = cJSON_GetObjectItemCaseSensitive(m, "config");
	if ((rc = ocijson_desc(cd, what, &cfg, err)) ||
	    (rc = ocijson_array(m, "layers", OCI_MAX_LAYERS, what, &ls, err)))
		goto out;
	if (!cfg.media_type ||
	    (strcmp(cfg.media_type, MT_OCI_CONFIG) && strcmp(cfg.media_type, MT_DKR_CONFIG))) {
		rc = ng_errf(err, NG_EINVAL,
			     "%s: config %s is not an image config (mediaType %.80s)", what,
			     cfg.digest, cfg.media_type ? cfg.media_type : "missing");
		goto out;
	}
	img->nlayers = ls ? (size_t)cJSON_GetArraySize(ls) : 0;
	img->layers = calloc(img->nlayers ? img->nlayers : 1, sizeof(*img->layers));
	if (!img->layers) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto out;
	}
	{
		size_t i = 0;
		for (const cJSON *e = ls ? ls->child : NULL; e; e = e->next, i++) {
			struct oci_desc d;
			struct oci_layer *l = &img->layers[i];
			if ((rc = ocijson_desc(e, what, &d, err)))
				goto out;
			if (!d.media_type || (l->compression = layer_type(d.media_type)) < 0 ||
			    d.has_urls) {
				rc = ng_errf(err, NG_EINVAL,
					     "%s: layer %s has media type %.100s%s, which nutgen "
					     "cannot verify",
					     what, d.digest, d.media_type ? d.media_type : "(none)",
					     d.has_urls ? " with external urls" : "");
				goto out;
			}
			snprintf(l->digest, sizeof(l->digest), "%s", d.digest);
			l->media_type = strdup(d.media_type);
			if (asprintf(&l->member, "blobs/sha256/%s", d.digest + 7) < 0)
				l->member = NULL;
			if (!l->media_type || !l->member) {
				rc = ng_errf(err, NG_ENOMEM, "out of memory");
				goto out;
			}
			l->size = d.size;
			l->size_known = 1;
		}
	}
	snprintf(img->config_digest, sizeof(img->config_digest), "%s", cfg.digest);
	free(b);
	b = NULL;
	if ((rc = read_blob(src, &cfg, "config", OCI_CONFIG_MAX_BYTES, &b, &len, err)))
		goto out;
	rc = oci_config_parse(b, len, want, img, err);
out:
	free(b);
	cJSON_Delete(m);
	return rc;
}

static int resolve_oci(const struct oci_src *src, const struct oci_platform *want,
		       const char *reference, struct oci_image *img, struct ng_err *err)
{
	struct candidate c[MAX_CANDIDATES];
	cJSON *docs[MAX_CANDIDATES + 1] = {0}, *index = NULL, *layout = NULL;
	const struct candidate *chosen = NULL;
	const char *ver = NULL;
	size_t nc = 0, nd = 0, len;
	uint8_t *b = NULL;
	int rc;

	if ((rc = oci_src_read(src, "oci-layout", 4096, &b, &len, err)))
		return ng_err_prefix(err, rc, "not an OCI image layout");
	rc = ocijson_parse(b, len, "oci-layout", &layout, err);
	free(b);
	if (rc)
		return ng_err_prefix(err, rc, "%s", oci_src_name(src));
	if (ocijson_str(layout, "imageLayoutVersion", "oci-layout", &ver, err) || !ver ||
	    strcmp(ver, "1.0.0")) {
		cJSON_Delete(layout);
		return ng_errf(err, NG_EINVAL, "%s: oci-layout imageLayoutVersion is not 1.0.0",
			       oci_src_name(src));
	}
	cJSON_Delete(layout);
	if ((rc = oci_src_read(src, "index.json", OCI_INDEX_MAX_BYTES, &b, &len, err)))
		return rc;
	rc = ocijson_parse(b, len, "index.json", &index, err);
	free(b);
	if (rc)
		return ng_err_prefix(err, rc, "%s", oci_src_name(src));
	docs[nd++] = index;
	rc = walk_index(src, index, "index.json", 0, NULL, c, &nc, docs, &nd, err);
	if (!rc)
		rc = pick(c, nc, want, reference, oci_src_name(src), &chosen, err);
	if (!rc) {
		set_repo_from(img, chosen->name);
		rc = resolve_manifest(src, &chosen->d, want, img, err);
	}
	for (size_t i = 0; i < nd; i++)
		cJSON_Delete(docs[i]);
	if (!rc)
		img->manifest_verified = 1;
	return rc;
}

/* The hex a docker-save name carries for its config ("<hex>.json" in the
 * legacy format, "blobs/sha256/<hex>" since Docker 25), or NULL. */
static const char *named_hex(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strspn(base, "0123456789abcdef");
	if (n == SHA256_HEX_LEN && (!base[n] || !strcmp(base + n, ".json")))
		return base;
	return NULL;
}

static int tag_matches(const cJSON *tags, const char *repo, const char *tag)
{
	for (const cJSON *t = tags ? tags->child : NULL; t; t = t->next) {
		char *r = NULL, *g = NULL;
		struct ng_err e;
		int m = cJSON_IsString(t) &&
			!oci_parse_reference(t->valuestring, &r, &g, NULL, &e) &&
			!strcmp(r, repo) && (!tag || (g && !strcmp(g, tag)));
		free(r);
		free(g);
		if (m)
			return 1;
	}
	return 0;
}

/* `docker save` (moby image/tarexport): manifest.json lists per image its
 * Config file, RepoTags and Layers (uncompressed tars, in order). */
static int resolve_docker(const struct oci_src *src, const struct oci_select *sel,
			  const struct oci_platform *want, struct oci_image *img,
			  struct ng_err *err)
{
	const char *what = "docker-save manifest.json";
	uint8_t *b = NULL, raw[32];
	size_t len;
	cJSON *m = NULL;
	const cJSON *entry = NULL, *ls, *tags;
	const char *cfgpath, *hex;
	char *urepo = NULL, *utag = NULL;
	char chex[SHA256_HEX_LEN + 1];
	int rc, n;

	if (!sel->digest)
		return ng_errf(
		    err, NG_EUSAGE,
		    "%s: a docker-save archive holds no registry manifest; pass --digest "
		    "sha256:... (the manifest digest of the image in its registry)",
		    oci_src_name(src));
	if ((rc = digest_parse_sha256(sel->digest, raw, err)))
		return ng_err_prefix(err, NG_EUSAGE, "--digest");
	if ((rc = oci_src_read(src, "manifest.json", OCI_INDEX_MAX_BYTES, &b, &len, err)) ||
	    (rc = ocijson_parse(b, len, what, &m, err)))
		goto out;
	n = cJSON_IsArray(m) ? cJSON_GetArraySize(m) : -1;
	if (n < 1 || n > OCI_MAX_MANIFESTS) {
		rc = ng_errf(err, NG_EINVAL, "%s: not an array of 1 to %d images", what,
			     OCI_MAX_MANIFESTS);
		goto out;
	}
	if (sel->reference && (rc = oci_parse_reference(sel->reference, &urepo, &utag, NULL, err)))
		goto out;
	for (const cJSON *e = m->child; e; e = e->next) {
		if (!cJSON_IsObject(e)) {
			rc = ng_errf(err, NG_EINVAL, "%s: an entry is not an object", what);
			goto out;
		}
		if ((rc = ocijson_array(e, "RepoTags", 256, what, &tags, err)))
			goto out;
		if (n == 1 || (urepo && tag_matches(tags, urepo, utag))) {
			if (entry) {
				rc = ng_errf(err, NG_EINVAL, "%s: several images match %s", what,
					     sel->reference);
				goto out;
			}
			entry = e;
		}
	}
	if (!entry) {
		rc = ng_errf(err, NG_ENOTFOUND,
			     "%s: holds %d images; name one of its RepoTags with --reference",
			     oci_src_name(src), n);
		goto out;
	}
	tags = cJSON_GetObjectItemCaseSensitive(entry, "RepoTags");
	if (cJSON_IsArray(tags) && cJSON_IsString(tags->child))
		set_repo_from(img, tags->child->valuestring);
	if ((rc = ocijson_str(entry, "Config", what, &cfgpath, err)) ||
	    (rc = ocijson_array(entry, "Layers", OCI_MAX_LAYERS, what, &ls, err)))
		goto out;
	if (!cfgpath || !ls) {
		rc = ng_errf(err, NG_EINVAL, "%s: entry has no Config or Layers", what);
		goto out;
	}
	img->nlayers = (size_t)cJSON_GetArraySize(ls);
	img->layers = calloc(img->nlayers ? img->nlayers : 1, sizeof(*img->layers));
	if (!img->layers) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto out;
	}
	{
		size_t i = 0;
		for (const cJSON *e = ls->child; e; e = e->next, i++) {
			if (!cJSON_IsString(e) || !oci_member_name_ok(e->valuestring)) {
				rc = ng_errf(err, NG_EINVAL,
					     "%s: layer path '%.200s' is absolute or leaves the "
					     "archive: refusing it",
					     what, cJSON_IsString(e) ? e->valuestring : "?");
				goto out;
			}
			if (!(img->layers[i].member = strdup(e->valuestring))) {
				rc = ng_errf(err, NG_ENOMEM, "out of memory");
				goto out;
			}
			img->layers[i].compression = -1; /* from the bytes */
		}
	}
	free(b);
	b = NULL;
	if ((rc = oci_src_read(src, cfgpath, OCI_CONFIG_MAX_BYTES, &b, &len, err)))
		goto out;
	sha256_hex(b, len, chex);
	hex = named_hex(cfgpath);
	if (hex && strncmp(hex, chex, SHA256_HEX_LEN)) {
		rc = ng_errf(err, NG_EVERIFY,
			     "config %.200s in %s: content hashes to sha256:%s, not the digest its "
			     "name states: the archive is corrupt or tampered",
			     cfgpath, oci_src_name(src), chex);
		goto out;
	}
	snprintf(img->config_digest, sizeof(img->config_digest), "sha256:%s", chex);
	snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s", sel->digest);
	if ((rc = oci_config_parse(b, len, want, img, err)))
		goto out;
	{
		char msg[300];
		snprintf(
		    msg, sizeof(msg),
		    "docker-save archive: manifest digest %s was stated with --digest and could "
		    "not be verified (the archive holds no registry manifest)",
		    sel->digest);
		add_warning(img, msg);
	}
out:
	free(urepo);
	free(utag);
	free(b);
	cJSON_Delete(m);
	return rc;
}

int oci_image_resolve(const struct oci_src *src, const struct oci_select *sel,
		      struct oci_image *img, struct ng_err *err)
{
	struct oci_platform want;
	int rc;

	memset(img, 0, sizeof(*img));
	if ((rc = oci_platform_parse(sel->platform ? sel->platform : "linux/amd64", &want, err)))
		return rc;
	if (oci_src_exists(src, "index.json")) {
		rc = resolve_oci(src, &want, sel->reference, img, err);
		if (!rc && sel->digest && strcmp(sel->digest, img->manifest_digest))
			rc =
			    ng_errf(err, NG_EVERIFY,
				    "%s: its manifest is %s but --digest says %s: the archive does "
				    "not hold the image you named",
				    oci_src_name(src), img->manifest_digest, sel->digest);
	} else if (oci_src_exists(src, "manifest.json")) {
		rc = resolve_docker(src, sel, &want, img, err);
	} else {
		rc = ng_errf(
		    err, NG_EINVAL,
		    "%s: neither an OCI image layout (index.json) nor a docker-save archive "
		    "(manifest.json)",
		    oci_src_name(src));
	}
	if (!rc && sel->reference) {
		char *repo = NULL, *dg = NULL;
		if ((rc = oci_parse_reference(sel->reference, &repo, NULL, &dg, err)))
			rc = ng_err_prefix(err, NG_EUSAGE, "--reference");
		else if (dg && strcmp(dg, img->manifest_digest))
			rc = ng_errf(err, NG_EVERIFY,
				     "--reference names %s but %s holds manifest %s", dg,
				     oci_src_name(src), img->manifest_digest);
		if (!rc) {
			free(img->repo);
			img->repo = repo;
			repo = NULL;
		}
		free(repo);
		free(dg);
	}
	if (!rc && !img->repo)
		add_warning(img, "the archive names no repository: pass --reference REGISTRY/REPO "
				 "to get a pinned image reference");
	if (rc)
		oci_image_release(img);
	return rc;
}

void oci_image_release(struct oci_image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->nlayers; i++) {
		free(img->layers[i].media_type);
		free(img->layers[i].member);
	}
	free(img->layers);
	for (size_t i = 0; i < img->nwarnings; i++)
		free(img->warnings[i]);
	free(img->repo);
	free(img->platform);
	cJSON_Delete(img->config);
	memset(img, 0, sizeof(*img));
}
