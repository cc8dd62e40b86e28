/* blob.h: the encfs volume as an Azure page blob, uploaded so that the mint's
 * data is never lost (azure-rest.md §1, §8). Auth is Shared Key or an Entra
 * token; neither ever reaches a log or an error. */
#ifndef NG_BLOB_H
#define NG_BLOB_H

#include <stdint.h>

#include "../bundle-format/err.h"
#include "cred.h"
#include "http.h"

#define BLOB_PAGE    512u
#define BLOB_MAX_PUT (4u << 20) /* Put Page body limit */

struct blob_auth {
	const char *account; /* Shared Key: the account and its decoded key */
	const uint8_t *key;
	size_t key_len;
	struct az_cred *cred; /* otherwise a bearer token for `resource` */
	const char *resource;
};

struct blob_opts {
	int parallel; /* concurrent Put Page calls; 0: 8 */
	int replace;  /* --replace-volume */
};

enum blob_action { BLOB_UNCHANGED, BLOB_CREATED, BLOB_RESUMED, BLOB_REPLACED };

struct blob_result {
	enum blob_action action;
	uint64_t put_bytes; /* Put Page body bytes sent */
	char snapshot[64];  /* taken before a replace, else "" */
};

/* Creates the blob if absent (If-None-Match: *, state "uploading" with the
 * bundle and volume ids) or resumes our own unfinished upload, puts the
 * non-zero pages it lacks (<= 4 MiB, Content-MD5, `parallel` at once), sets
 * "complete" once all read back right. Another blob: NG_EEXIST, untouched,
 * unless opts->replace: lease, snapshot, replace, write under the lease (§8). */
int blob_upload_volume(struct http_ctx *http, const struct blob_auth *auth, const char *url,
		       const char *image_path, const char *bundle_id, const char *volume_id,
		       const struct blob_opts *opts, struct blob_result *res, struct ng_err *err);

struct blob_state {
	int exists;
	uint64_t size;
	char etag[128], last_modified[64];
	char state[32], volume[128]; /* nutapply_* metadata, "" if absent */
};

/* HEAD the blob; read-only. */
int blob_status(struct http_ctx *http, const struct blob_auth *auth, const char *url,
		struct blob_state *st, struct ng_err *err);

/* The storage account of a blob URL: the host's first label, or the first
 * path segment for path-style URLs (an IP or localhost, as Azurite). */
int blob_account_from_url(const char *url, char *out, size_t n, struct ng_err *err);

#endif
