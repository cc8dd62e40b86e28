/* manifest.h: MANIFEST.json, the signed statement of a bundle (SPEC.md §5).
 * Its exact bytes are what Ed25519 signs, so it has one canonical form:
 * Python's json.dumps(m, sort_keys=True, indent=2) plus a newline, integers
 * only; manifest_parse rejects any other spelling, unknown top-level fields
 * and every schema violation, naming the field. */
#ifndef NG_MANIFEST_H
#define NG_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"

#define MANIFEST_FORMAT	     "nutgen-bundle"
#define MANIFEST_VERSION     1
#define MANIFEST_MAX_BYTES   (1024 * 1024)
#define MANIFEST_MAX_MEMBERS 40
#define MANIFEST_NAME	     "MANIFEST.json"

struct manifest_member {
	char name[81];
	uint64_t size;
	uint8_t sha256[32];
};

struct manifest {
	cJSON *json;		  /* the whole document */
	int64_t created, expires; /* Unix seconds; expires 0 when absent */
	uint64_t serial;
	struct manifest_member *members;
	size_t nmembers;
};

int manifest_parse(const uint8_t *p, size_t n, struct manifest **out, struct ng_err *err);
void manifest_free(struct manifest *m);

/* Serialises doc canonically (appends to out). */
int manifest_serialize(const cJSON *doc, struct buf *out, struct ng_err *err);

/* Payload member names: tar_name_valid, one component, first byte a-z (so
 * they sort after MANIFEST.json and SIGNATURES/, SPEC §3.2). */
int manifest_payload_name_valid(const char *name);

/* "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339, UTC, no fraction). */
int manifest_time_parse(const char *s, int64_t *t);
void manifest_time_format(int64_t t, char out[21]);

#endif
