/* blob.h: the encfs volume as an Azure page blob, uploaded so that the
 * mint's data is never lost (azure-rest.md §1, §8). Auth is Shared Key or an
 * Entra bearer token (cred.h); neither ever reaches a log or an error. */
#ifndef NG_BLOB_H
#define NG_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"
#include "cred.h"
#include "http.h"

#define BLOB_PAGE     512u
#define BLOB_MAX_PUT  (4u << 20) /* Put Page body limit */
#define BLOB_X_MS_VER "2025-07-05"

struct blob_auth {
	const char *account; /* Shared Key: the account and its decoded key */
	const uint8_t *key;
	size_t key_len;
	struct az_cred *cred; /* otherwise a bearer token for `resource` */
	const char *resource;
};

struct blob_opts {
	int parallel; /* concurrent Put Page calls; 0: 8 */
	int replace;  /* --replace-volume: lease, snapshot, replace a foreign blob */
};

enum blob_action { BLOB_UNCHANGED, BLOB_CREATED, BLOB_RESUMED, BLOB_REPLACED };

struct blob_result {
	enum blob_action action;
	uint64_t put_bytes; /* Put Page body bytes sent */
	char snapshot[64];  /* x-ms-snapshot taken before a replace, else "" */
};

/* Brings the blob at url to the image. Absent: created with If-None-Match: *
 * and metadata nutapply_state=uploading, nutapply_bundle, nutapply_volume.
 * Ours (same volume id and size) and uploading: resumed. Then the non-zero
 * pages the server lacks are put (<= 4 MiB each, Content-MD5, `parallel` at
 * once) until Get Page Ranges equals them, and only then state=complete.
 * Ours and complete: nothing sent. Anything else: NG_EEXIST, untouched,
 * unless opts->replace: lease, snapshot, recreate under If-Match (§8). */
int blob_upload_volume(struct http_ctx *http, const struct blob_auth *auth, const char *url,
		       const char *image_path, const char *bundle_id, const char *volume_id,
		       const struct blob_opts *opts, struct blob_result *res, struct ng_err *err);

struct blob_state {
	int exists;
	uint64_t size;
	char etag[128], last_modified[64];
	char state[32], volume[128]; /* nutapply_* metadata, "" if absent */
};

/* HEAD, read-only; NG_EEXIST when the blob is not a page blob. */
int blob_status(struct http_ctx *http, const struct blob_auth *auth, const char *url,
		struct blob_state *st, struct ng_err *err);

/* The storage account of a blob URL: the host's first label, or the first
 * path segment for path-style URLs (an IP or localhost host, as Azurite). */
int blob_account_from_url(const char *url, char *out, size_t n, struct ng_err *err);

/* --- exposed for unit tests --- */

struct blob_range {
	uint64_t off, len;
};

/* The non-zero 512-byte pages of the image (read in its data extents only)
 * as runs, zero gaps under 4 KiB bridged, cut at 4 MiB. *out is malloc'd. */
int blob_plan(int fd, uint64_t size, struct blob_range **out, size_t *n, struct ng_err *err);

/* Appends the <PageRange>s of a Get Page Ranges reply to *r (*n entries),
 * merging adjacent ones; strict: aligned, in order, no overlap. marker
 * (size 256) gets NextMarker, "" if none. */
int blob_parse_page_list(const char *xml, struct blob_range **r, size_t *n, char *marker,
			 struct ng_err *err);

/* The Shared Key string-to-sign (azure-rest.md §1.10); malloc'd. */
char *blob_string_to_sign(const char *account, const char *method, const char *url,
			  const char *const *headers, size_t body_len);

#endif
