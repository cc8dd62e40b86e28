/* blob_req.h: private to blob.c and blob_upload.c: one Blob service request
 * with its headers and Authorization (azure-rest.md §1.1, §1.10). */
#ifndef NG_BLOB_REQ_H
#define NG_BLOB_REQ_H

#include "blob.h"

#define BREQ_MAX_HDRS 24

struct breq {
	const char *method;
	char *url;
	char *h[BREQ_MAX_HDRS + 1]; /* "Name: value", NULL-terminated */
	int n;
	char *auth; /* secret; wiped on free */
};

/* Sets the URL (url + "?"/"&" + query when query is not NULL), x-ms-date and
 * x-ms-version. */
int breq_init(struct breq *r, const char *method, const char *url, const char *query);
int breq_add(struct breq *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Computes Authorization; call after the last breq_add. */
int breq_sign(struct breq *r, const struct blob_auth *a, size_t body_len, struct ng_err *err);
void breq_fill(const struct breq *r, struct http_req *q, const void *body, size_t len,
	       int idempotent);
void breq_free(struct breq *r);

/* Signs and runs r (idempotent), once more with a fresh token after a 401. */
int blob_call(struct http_ctx *http, const struct blob_auth *a, struct breq *r, const void *body,
	      size_t len, struct http_resp *resp, struct ng_err *err);
/* HEAD: st->exists 0 on 404; NG_EEXIST when it is not a page blob. */
int blob_head(struct http_ctx *http, const struct blob_auth *a, const char *url,
	      struct blob_state *st, struct ng_err *err);
/* All written ranges, merged and sorted (follows NextMarker). */
int blob_page_ranges(struct http_ctx *http, const struct blob_auth *a, const char *url,
		     struct blob_range **out, size_t *n, struct ng_err *err);

#endif
