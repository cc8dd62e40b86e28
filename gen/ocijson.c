#include "ocijson.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bundle-format/digest.h"

static int cmp_key(const void *a, const void *b)
{
	return strcasecmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* Rejects duplicate keys (compared case-insensitively, as Go matches struct
 * fields) and excessive depth, anywhere in the tree. Keys are sorted so that
 * a document with many keys costs n log n, not n^2. */
static int check_tree(const cJSON *j, int depth, const char *what, struct ng_err *err)
{
	size_t n = 0, i = 0;
	const cJSON **keys;
	int rc = 0;

	if (depth > OCI_JSON_MAX_DEPTH)
		return ng_errf(err, NG_ELIMIT, "%s: JSON nested deeper than %d", what,
			       OCI_JSON_MAX_DEPTH);
	for (const cJSON *c = j->child; c; c = c->next) {
		if ((rc = check_tree(c, depth + 1, what, err)))
			return rc;
		n++;
	}
	if (!cJSON_IsObject(j) || n < 2)
		return 0;
	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	for (const cJSON *c = j->child; c; c = c->next)
		keys[i++] = c;
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 1; i < n && !rc; i++)
		if (!strcasecmp(keys[i - 1]->string, keys[i]->string))
			rc = ng_errf(
			    err, NG_EINVAL,
			    "%s: key \"%.80s\" appears twice (keys match case-insensitively "
			    "in Go): refusing an ambiguous document",
			    what, keys[i]->string);
	free(keys);
	return rc;
}

int ocijson_parse(const uint8_t *p, size_t n, const char *what, cJSON **out, struct ng_err *err)
{
	const char *end = NULL;
	cJSON *j;
	int rc;

	if (memchr(p, 0, n))
		return ng_errf(err, NG_EINVAL, "%s: contains a NUL byte: not JSON", what);
	j = cJSON_ParseWithLengthOpts((const char *)p, n, &end, 0);
	if (!j)
		return ng_errf(err, NG_EINVAL, "%s: malformed JSON near byte %zu", what,
			       end ? (size_t)(end - (const char *)p) : (size_t)0);
	while (end && (size_t)(end - (const char *)p) < n &&
	       (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
		end++;
	if (!end || (size_t)(end - (const char *)p) != n) {
		cJSON_Delete(j);
		return ng_errf(err, NG_EINVAL, "%s: trailing data after the JSON value", what);
	}
	if ((rc = check_tree(j, 0, what, err))) {
		cJSON_Delete(j);
		return rc;
	}
	*out = j;
	return 0;
}

int ocijson_str(const cJSON *obj, const char *key, const char *what, const char **out,
		struct ng_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return ng_errf(err, NG_EINVAL, "%s: \"%s\" is not a string", what, key);
	*out = v->valuestring;
	return 0;
}

int ocijson_array(const cJSON *obj, const char *key, size_t max, const char *what,
		  const cJSON **out, struct ng_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return ng_errf(err, NG_EINVAL, "%s: \"%s\" is not an array", what, key);
	if ((size_t)cJSON_GetArraySize(v) > max)
		return ng_errf(err, NG_ELIMIT, "%s: \"%s\" has more than %zu entries", what, key,
			       max);
	*out = v;
	return 0;
}

int ocijson_object(const cJSON *obj, const char *key, const char *what, const cJSON **out,
		   struct ng_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v))
		return ng_errf(err, NG_EINVAL, "%s: \"%s\" is not an object", what, key);
	*out = v;
	return 0;
}

int ocijson_uint(const cJSON *obj, const char *key, const char *what, uint64_t *out, int *present,
		 struct ng_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	double d;

	*out = 0;
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (!(d >= 0 && d <= 9007199254740992.0 && floor(d) == d))
		return ng_errf(err, NG_EINVAL, "%s: \"%s\" is not a non-negative integer", what,
			       key);
	*out = (uint64_t)d;
	return 0;
}

int ocijson_desc(const cJSON *d, const char *what, struct oci_desc *out, struct ng_err *err)
{
	const cJSON *plat = NULL;
	uint8_t raw[SHA256_LEN];
	int present, rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(d))
		return ng_errf(err, NG_EINVAL, "%s: descriptor is not an object", what);
	if ((rc = ocijson_str(d, "mediaType", what, &out->media_type, err)) ||
	    (rc = ocijson_str(d, "digest", what, &out->digest, err)) ||
	    (rc = ocijson_uint(d, "size", what, &out->size, &present, err)) ||
	    (rc = ocijson_object(d, "platform", what, &plat, err)) ||
	    (rc = ocijson_object(d, "annotations", what, &out->annotations, err)))
		return rc;
	if (!out->digest)
		return ng_errf(err, NG_EINVAL, "%s: descriptor has no digest", what);
	if (digest_parse_sha256(out->digest, raw, err))
		return ng_err_prefix(err, NG_EINVAL, "%s", what);
	if (!present)
		return ng_errf(err, NG_EINVAL, "%s: descriptor %s has no size", what, out->digest);
	if (plat && ((rc = ocijson_str(plat, "os", what, &out->os, err)) ||
		     (rc = ocijson_str(plat, "architecture", what, &out->arch, err)) ||
		     (rc = ocijson_str(plat, "variant", what, &out->variant, err))))
		return rc;
	out->has_urls = cJSON_GetObjectItemCaseSensitive(d, "urls") != NULL;
	return 0;
}

/* RFC 3629 UTF-8: no overlong forms, surrogates or code points past U+10FFFF. */
int ocijson_utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p, n, cp;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		p += n + 1;
	}
	return 1;
}
