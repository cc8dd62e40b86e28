/* blob_req.h: one Blob service request (azure-rest.md §1.1, §1.10), for
 * blob.c and infra_blob.c. */
#ifndef NG_BLOB_REQ_H
#define NG_BLOB_REQ_H

#include "blob.h"

struct blob_range {
	uint64_t off, len;
};

struct breq {
	char url[2048], hb[12][256], auth[8192]; /* auth: secret, wiped by breq_free */
	const char *h[13];			 /* into hb, sorted, NULL-ended */
	int n, bad;				 /* bad: the URL or a header did not fit */
	struct http_req q;
};

/* url + "?" + query (if not NULL), x-ms-date, x-ms-version, a request id. */
int breq_init(struct breq *r, const char *method, const char *url, const char *query);
int breq_add(struct breq *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void breq_free(struct breq *r);
/* Signs and runs r (idempotent), once more with a fresh token after a 401. */
int blob_call(struct http_ctx *http, const struct blob_auth *a, struct breq *r, const void *body,
	      size_t len, struct http_resp *resp, struct ng_err *err);
/* All written ranges, sorted, adjacent ones merged (follows NextMarker). */
int blob_page_ranges(struct http_ctx *http, const struct blob_auth *a, const char *url,
		     struct blob_range **out, size_t *n, struct ng_err *err);

#endif
