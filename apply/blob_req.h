/* blob_req.h: one Blob service request, its headers and Authorization
 * (azure-rest.md §1.1, §1.10); for blob.c and infra_blob.c. */
#ifndef NG_BLOB_REQ_H
#define NG_BLOB_REQ_H

#include "blob.h"

#define BREQ_MAX_HDRS 12

struct breq {
	const char *method;
	char url[2048];
	char hb[BREQ_MAX_HDRS][256];
	const char *h[BREQ_MAX_HDRS + 1]; /* into hb, sorted, NULL-terminated */
	int n;
	char auth[8192]; /* secret; wiped by breq_free */
};

/* url + "?" + query (when not NULL), x-ms-date, x-ms-version, a request id. */
int breq_init(struct breq *r, const char *method, const char *url, const char *query);
int breq_add(struct breq *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void breq_free(struct breq *r);
/* Signs r and fills q for it (idempotent). */
int breq_prepare(struct breq *r, const struct blob_auth *a, const void *body, size_t len,
		 struct http_req *q, struct ng_err *err);
/* Signs and runs r, once more with a fresh token after a 401. */
int blob_call(struct http_ctx *http, const struct blob_auth *a, struct breq *r, const void *body,
	      size_t len, struct http_resp *resp, struct ng_err *err);
/* All written ranges, merged and sorted (follows NextMarker). */
int blob_page_ranges(struct http_ctx *http, const struct blob_auth *a, const char *url,
		     struct blob_range **out, size_t *n, struct ng_err *err);

#endif
