/* blob.h: the encfs volume as an Azure page blob, uploaded so that the
 * mint's data is never lost (azure-rest.md §1, §7, §8).
 *
 * blob_upload_volume brings the blob at `url` to the local image:
 * - absent: created with If-None-Match: * and metadata
 *   nutapply_state=uploading, nutapply_bundle, nutapply_volume; then only
 *   the non-zero 512-byte pages are sent (the file's holes found with
 *   SEEK_DATA/SEEK_HOLE, then all-zero pages skipped), in Put Page calls of
 *   at most 4 MiB, several in parallel, each with Content-MD5; every range
 *   is read back and compared (SHA-256) and Get Page Ranges must hold no
 *   page outside the image's; only then nutapply_state=complete.
 * - ours and complete (same volume id and size): nothing is sent.
 * - ours and uploading (an interrupted run): resumed; ranges already on
 *   the server are verified by reading back instead of being re-sent,
 *   pages that should be zero are cleared.
 * - anything else (another volume, no metadata, another size): refused
 *   with NG_EEXIST and nothing is written, unless opts.replace: then a 60 s
 *   lease is taken (renewed every 40 s), a snapshot is made, the blob is
 *   recreated with If-Match on the inspected ETag under the lease, uploaded
 *   as above, marked complete, and the lease released.
 * Concurrent runs of the same volume are harmless: they write the same
 * bytes. A replace run killed midway leaves its lease to expire within 60 s.
 *
 * Auth: Shared Key (account key, for Azurite and key-based accounts) or an
 * Entra bearer token for https://storage.azure.com (cred.h). Neither ever
 * reaches a log or error.
 */
#ifndef NG_BLOB_H
#define NG_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"
#include "cred.h"
#include "http.h"

#define BLOB_PAGE      512u
#define BLOB_MAX_PUT   (4u << 20) /* Put Page body limit */
#define BLOB_X_MS_VER  "2025-07-05"
#define BLOB_MAX_IMAGE (1ull << 40) /* refuse local images above 1 TiB */

struct blob_auth {
	/* Shared Key: account name and the decoded account key. */
	const char *account;
	const uint8_t *key;
	size_t key_len;
	/* Otherwise a bearer token from cred for `resource`. */
	struct az_cred *cred;
	const char *resource;
};

struct blob_opts {
	int parallel; /* concurrent Put Page calls; 0: 8 */
	size_t chunk; /* bytes per Put Page, multiple of 512, <= 4 MiB; 0: 4 MiB */
	int replace;  /* --replace-volume: lease, snapshot, replace a foreign blob */
};

enum blob_action { BLOB_UNCHANGED, BLOB_CREATED, BLOB_RESUMED, BLOB_REPLACED };

struct blob_result {
	enum blob_action action;
	uint64_t image_size;
	uint64_t nonzero_bytes; /* bytes of non-zero pages in the image */
	uint64_t put_bytes;	/* Put Page body bytes sent (first tries + retries) */
	uint64_t sent_bytes;	/* everything put on the wire for Put Page calls */
	uint64_t ranges;	/* Put Page ranges in the plan */
	uint64_t put_calls, verified_ranges, cleared_ranges;
	char snapshot[64]; /* x-ms-snapshot taken before a replace, else "" */
};

int blob_upload_volume(struct http_ctx *http, const struct blob_auth *auth, const char *url,
		       const char *image_path, const char *bundle_id, const char *volume_id,
		       const struct blob_opts *opts, struct blob_result *res, struct ng_err *err);

struct blob_state {
	int exists;
	uint64_t size;
	char etag[128], last_modified[64], lease_state[32];
	char state[32], bundle[128], volume[128]; /* nutapply_* metadata, "" if absent */
	uint64_t written_bytes;			  /* sum of Get Page Ranges */
};

/* HEAD + Get Page Ranges; read-only. */
int blob_status(struct http_ctx *http, const struct blob_auth *auth, const char *url,
		struct blob_state *st, struct ng_err *err);

/* The storage account a blob URL names: the host's first label, or the
 * first path segment for path-style URLs (an IP or localhost host, as
 * Azurite uses). */
int blob_account_from_url(const char *url, char *out, size_t n, struct ng_err *err);

/* --- exposed for unit tests --- */

struct blob_range {
	uint64_t off, len;
};

/* The upload plan for an image: runs of non-zero 512-byte pages (zero gaps
 * shorter than `gap` bytes are sent rather than split, as a request costs
 * more than a few zero pages), each cut at `chunk` bytes. Reads only the
 * file's data extents (SEEK_DATA/SEEK_HOLE). size must be a multiple of
 * 512. *out is malloc'd. */
int blob_plan(int fd, uint64_t size, uint64_t chunk, uint64_t gap, struct blob_range **out,
	      size_t *n, uint64_t *nonzero, struct ng_err *err);

/* Parses a Get Page Ranges body: <PageRange><Start>s</Start><End>e</End>
 * pairs into sorted, merged [off,len) ranges; *next_marker gets the
 * NextMarker text ("" if none, size 256). Strict: unaligned, overlapping out
 * of order, or malformed numbers fail. */
int blob_parse_page_list(const char *xml, struct blob_range **out, size_t *n, char *next_marker,
			 struct ng_err *err);

/* The Shared Key string-to-sign (azure-rest.md §1.10) for a request with
 * the given "Name: value" headers and body length. Malloc'd. */
char *blob_string_to_sign(const char *account, const char *method, const char *url,
			  const char *const *headers, size_t body_len);

#endif
