/* ocijson.h: strict JSON for image metadata (OCI image spec index, manifest,
 * config; docker-save manifest.json), which comes from the user's archive and
 * may be hostile.
 *
 * Go's encoding/json, which registries and containerd use, keeps the LAST of
 * duplicate keys and matches keys case-insensitively, while cJSON returns the
 * first exact match: a document like {"layers":[A],"Layers":[B]} would mean
 * different images to Azure and to us. Such documents are refused outright,
 * as are trailing garbage, NUL bytes and nesting deeper than 64. */
#ifndef NG_OCIJSON_H
#define NG_OCIJSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"

#define OCI_JSON_MAX_DEPTH 64

/* Parses n bytes as one JSON object; what names the document in errors. */
int ocijson_parse(const uint8_t *p, size_t n, const char *what, cJSON **out, struct ng_err *err);

/* Typed member access. A member that is absent gives NULL/0; present with
 * the wrong type is an error naming what and the key. */
int ocijson_str(const cJSON *obj, const char *key, const char *what, const char **out,
		struct ng_err *err);
int ocijson_array(const cJSON *obj, const char *key, size_t max, const char *what,
		  const cJSON **out, struct ng_err *err);
int ocijson_object(const cJSON *obj, const char *key, const char *what, const cJSON **out,
		   struct ng_err *err);
/* Non-negative integer no larger than 2^53 (exact in a double). */
int ocijson_uint(const cJSON *obj, const char *key, const char *what, uint64_t *out, int *present,
		 struct ng_err *err);

/* 1 when s is valid UTF-8 (strings that reach a policy must be). */
int ocijson_utf8_ok(const char *s);

/* An OCI content descriptor (image-spec descriptor.md). */
struct oci_desc {
	const char *media_type; /* may be NULL where the spec allows it */
	const char *digest;	/* "sha256:<64 lowercase hex>" */
	uint64_t size;
	const char *os, *arch, *variant; /* platform, when given */
	const cJSON *annotations;	 /* object or NULL */
	int has_urls; /* "urls": content fetched from elsewhere (foreign layers) */
};
int ocijson_desc(const cJSON *d, const char *what, struct oci_desc *out, struct ng_err *err);

#endif
