/* http.h: nutapply's one HTTP client (libcurl), so the rules live in one place:
 * TLS always verified (--ca-file ADDS CAs to the system store); idempotent
 * calls retried on connection errors, 408, 429 and 5xx but 501/505
 * (azure-rest.md §1.11) with full-jitter backoff or the server's Retry-After,
 * within a total budget; an x-ms-client-request-id on every call, named in
 * errors with the server's x-ms-request-id; the Authorization value, bodies and
 * URL queries never logged. NUTAPPLY_HTTP_DEBUG=1 logs each attempt. */
#ifndef NG_HTTP_H
#define NG_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/err.h"

struct http_ctx;
struct http_opts {
	const char *ca_file; /* PEM CA(s) added to the system store; NULL: none */
};
/* One-line error naming ca_file when it holds no PEM certificate. */
int http_ctx_new(const struct http_opts *opts, struct http_ctx **out, struct ng_err *err);
void http_ctx_free(struct http_ctx *ctx);

struct http_req {
	const char *method, *url;
	/* "Name: value" lines, NULL-terminated, or NULL. curl adds no Content-Type
	 * nor Expect; a caller that signs x-ms-* sends its x-ms-client-request-id. */
	const char *const *headers;
	const char *authorization; /* full Authorization value; secret */
	const void *body;	   /* may be NULL; kept for retries */
	size_t body_len;
	int idempotent;		/* 1: retried per the rules above */
	int no_proxy;		/* 1: never through a proxy (IMDS) */
	double connect_s;	/* connect timeout if > 0; else 10 s */
	double budget_s;	/* total seconds incl. retries if > 0; else 300 */
	size_t max_response;	/* body cap if > 0; else 16 MiB */
	int retry_statuses_4xx; /* also retry 404 and 410 (IMDS while updating) */
};
struct http_resp {
	long status;	     /* last attempt's; 0 if none */
	struct buf body;     /* NUL-terminated */
	struct buf hdrs;     /* last attempt's, "\nname: value" each */
	int tries;	     /* attempts made */
	uint64_t sent_bytes; /* request headers + bodies on the wire, all tries */
	char client_request_id[40];
	char request_id[96]; /* x-ms-request-id or "" */
	char error_code[96]; /* x-ms-error-code or the body's error code, or "" */
};
void http_resp_init(struct http_resp *r);
void http_resp_free(struct http_resp *r);
/* A header's value (name case-insensitive) or NULL; valid until the next call. */
const char *http_resp_header(const struct http_resp *r, const char *name);

/* 0 when a response arrived, whatever its status; NG_ENET when none did within
 * the budget; NG_ELIMIT when the body exceeded the cap. */
int http_do(struct http_ctx *ctx, const struct http_req *req, struct http_resp *resp,
	    struct ng_err *err);
/* "what: HTTP 409 Code: message (request id X, client request id Y)"; returns code. */
int http_status_err(const struct http_resp *resp, struct ng_err *err, int code, const char *what);

/* Runs requests `parallel` at a time, each as by http_do. next() fills *req for
 * `slot` (its body valid until done() for that slot) and returns 1, 0 when no
 * more, < 0 to stop; done() judges the response. Returns 0 or the first failure. */
typedef int (*http_next_fn)(void *arg, int slot, struct http_req *req, struct ng_err *err);
typedef int (*http_done_fn)(void *arg, int slot, const struct http_resp *resp, struct ng_err *err);
int http_multi_run(struct http_ctx *ctx, int parallel, http_next_fn next, http_done_fn done,
		   void *arg, struct ng_err *err);

/* Retry-After (RFC 9110 §10.2.3: seconds or HTTP-date) in ms from now, at most a
 * day; -1 when unparseable. */
long http_parse_retry_after(const char *value, time_t now);
/* Full jitter: rnd in [0,1) times min(max_s, base_s * 2^(attempt-1)), in ms. */
long http_backoff_ms(int attempt, double base_s, double max_s, double rnd);
int http_status_retryable(long status);
void http_redact_url(const char *url, char *out, size_t n); /* drops the query */
void http_uuid(char out[37]);				    /* random UUIDv4 */

#endif
