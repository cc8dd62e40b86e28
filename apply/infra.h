/* infra.h: the volume-blob safety steps of `nutapply infra down`
 * (docs/infra.md): before anything could lose the encfs blob, a snapshot
 * in its account or a full local copy (azure-rest.md §1.7, §1.5, §1.9). */
#ifndef NG_INFRA_H
#define NG_INFRA_H

#include "blob.h"

/* Snapshot Blob; snap (size 64) gets x-ms-snapshot. */
int infra_blob_snapshot(struct http_ctx *http, const struct blob_auth *a, const char *url,
			char snap[64], struct ng_err *err);

/* Downloads the page blob to path (written sparse through a temp file and
 * renamed, mode 0600): only the written ranges are fetched, 4 MiB per Get
 * Blob, each answer's length checked; *bytes gets the bytes fetched. */
int infra_blob_download(struct http_ctx *http, const struct blob_auth *a, const char *url,
			uint64_t size, const char *path, uint64_t *bytes, struct ng_err *err);

#endif
