/* http.h: the one HTTP client of nutapply (libcurl). Every Azure call goes
 * through it, so the rules live here once:
 *
 * - TLS is always verified (peer and host name); there is no switch to turn
 *   it off. http_opts.ca_file ADDS a CA (PEM, may hold several) to the
 *   system bundle instead of replacing it, so tests can trust a test CA and
 *   operators a corporate proxy CA without losing the public roots.
 * - Retries: a request marked idempotent is retried on connection errors,
 *   timeouts, 408, 429 and every 5xx but 501/505 (azure-rest.md §1.11, the
 *   storage SDK's rule), with exponential backoff and full jitter, honouring
 *   Retry-After (seconds or HTTP-date), retry-after-ms and
 *   x-ms-retry-after-ms. Everything for one call, waits included, fits in a
 *   total time budget; when it is spent the call fails with one line.
 * - Request ids: every call gets an x-ms-client-request-id (a fresh UUID,
 *   the same across its retries); errors name it and the server's
 *   x-ms-request-id so an operator can quote both to Azure support. A
 *   caller that signs x-ms-* headers (Shared Key) sends its own
 *   x-ms-client-request-id in http_req.headers; it is then used as is.
 * - Limits: a response body larger than max_response fails the call.
 * - Secrets: the Authorization value lives in http_req.authorization only;
 *   it is never logged nor put in an error. URLs in logs and errors pass
 *   through http_redact_url (SAS `sig` and friends become "REDACTED").
 *   Bodies are never logged. NUTAPPLY_HTTP_DEBUG=1 in the environment logs
 *   each attempt's method, redacted URL, status, request ids and timing on
 *   stderr, with secret-bearing headers redacted (http_redact_header).
 *
 * Two ways to call: http_do (one request, blocking) and http_multi_run
 * (many requests on a curl multi handle, `parallel` at a time, each retried
 * on its own; used for Put Page uploads).
 */
#ifndef NG_HTTP_H
#define NG_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/err.h"

struct http_ctx; /* opaque: options, a reusable easy handle, the extra CAs */

struct http_opts {
	const char *ca_file;   /* PEM CA(s) added to the system bundle; NULL: none */
	double budget_s;       /* total seconds per call incl. retries; 0: 300 */
	double attempt_s;      /* seconds per attempt; 0: 120 */
	double connect_s;      /* connect timeout per attempt; 0: 10 */
	int max_tries;	       /* attempts per idempotent call; 0: 8 */
	double backoff_base_s; /* first backoff cap; 0: 0.5 (doubles each retry) */
	double backoff_max_s;  /* largest single wait; 0: 30 */
	size_t max_response;   /* response body cap in bytes; 0: 16 MiB */
};

/* Reads NUTAPPLY_HTTP_DEBUG and, for tests only, NUTAPPLY_HTTP_BACKOFF_BASE
 * (seconds, overrides backoff_base_s when opts leave it 0). Fails with a
 * one-line error naming ca_file when it cannot be read or holds no cert. */
int http_ctx_new(const struct http_opts *opts, struct http_ctx **out, struct ng_err *err);
void http_ctx_free(struct http_ctx *ctx);

struct http_req {
	const char *method; /* "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE" */
	const char *url;
	/* Extra headers, "Name: value", NULL-terminated; may be NULL. Without a
	 * Content-Type here none is sent (libcurl's default is suppressed, as
	 * is Expect: 100-continue), which matters for Shared Key signing. */
	const char *const *headers;
	const char *authorization; /* full Authorization value; secret */
	const void *body;	   /* sent as is (also for retries); may be NULL */
	size_t body_len;
	int idempotent;		/* 1: retry per the rules above */
	int no_proxy;		/* 1: never use a proxy (IMDS refuses forwarded calls) */
	double connect_s;	/* overrides the context's connect timeout if > 0 */
	double budget_s;	/* overrides the context's budget if > 0 */
	size_t max_response;	/* overrides the context's cap if > 0 */
	int retry_statuses_4xx; /* also retry 404 and 410 (IMDS while updating) */
};

struct http_resp {
	long status;	     /* last attempt's HTTP status; 0 if none */
	struct buf body;     /* response body, NUL-terminated */
	struct buf hdrs;     /* last attempt's headers, "name: value\n" lines */
	int tries;	     /* attempts made */
	uint64_t sent_bytes; /* request bytes on the wire (headers + body), all tries */
	char client_request_id[40];
	char request_id[96]; /* x-ms-request-id, "" if absent */
	char error_code[96]; /* x-ms-error-code or JSON/XML error code, "" if none */
};

void http_resp_init(struct http_resp *r);
void http_resp_free(struct http_resp *r);
/* Value of a response header (case-insensitive name) or NULL. The pointer is
 * into a static buffer overwritten by the next call. */
const char *http_resp_header(const struct http_resp *r, const char *name);

/* Runs one request with the retry rules. Returns 0 when a response arrived
 * (ANY status: the caller judges it; after retries, a retryable status is
 * still returned as is with the error code set), NG_ENET when no response
 * could be had within the budget (err says why, naming the redacted URL and
 * client request id), NG_ELIMIT when the body exceeded the cap. */
int http_do(struct http_ctx *ctx, const struct http_req *req, struct http_resp *resp,
	    struct ng_err *err);

/* Formats a one-line error for an unexpected status:
 * "what: HTTP 409 BlobAlreadyExists: <server message, trimmed> (request id X,
 *  client request id Y)" and returns code. The server message is taken from
 * an Azure JSON ({"error":{"code","message"}} or Entra's error_description)
 * or XML (<Message>) body, cut at the first newline and to ~200 chars. */
int http_status_err(const struct http_resp *resp, struct ng_err *err, int code, const char *what);

/* Parallel requests on one curl multi handle. next() fills *req for the next
 * request (its body must stay valid until done() for it has run) and returns
 * 1, or returns 0 when there are no more, or a negative code to stop. done()
 * gets the response for request `slot` (0..parallel-1, as passed to next for
 * that request) and returns 0 or a negative code to stop the run. Each
 * request gets the same retry rules and budget as http_do. Returns 0 or the
 * first failure (in-flight transfers are abandoned). */
typedef int (*http_next_fn)(void *arg, int slot, struct http_req *req, struct ng_err *err);
typedef int (*http_done_fn)(void *arg, int slot, const struct http_resp *resp, struct ng_err *err);
int http_multi_run(struct http_ctx *ctx, int parallel, http_next_fn next, http_done_fn done,
		   void *arg, struct ng_err *err);

/* --- pure helpers, exposed for unit tests and other modules --- */

/* Retry-After: delta-seconds or an IMF-fixdate/RFC 850/asctime HTTP-date
 * (RFC 9110 §10.2.3), relative to now. Returns the wait in ms (>= 0, dates in
 * the past give 0), or -1 when unparseable. Capped at one day. */
long http_parse_retry_after(const char *value, time_t now);

/* Wait in ms before attempt number `attempt` (1 = first retry): uniform in
 * [0, min(max, base * 2^(attempt-1))] ("full jitter"), `rnd` in [0,1). */
long http_backoff_ms(int attempt, double base_s, double max_s, double rnd);

/* 1 when a status may be retried on an idempotent call (408, 429, 5xx but
 * 501 and 505). */
int http_status_retryable(long status);

/* Copies url into out (size n), replacing the value of every query
 * parameter that can carry a secret (sig, signature, token, secret,
 * password, code, assertion, key, access_token, any name containing one of
 * them) with "REDACTED". Always NUL-terminates. */
void http_redact_url(const char *url, char *out, size_t n);

/* Copies a "Name: value" header line into out, the value replaced with
 * "REDACTED" when the name carries credentials (Authorization,
 * Proxy-Authorization, X-IDENTITY-HEADER, Secret, Cookie, Set-Cookie,
 * x-ms-encryption-key, x-ms-copy-source-authorization) or the value starts
 * with "Bearer "/"SharedKey ". */
void http_redact_header(const char *line, char *out, size_t n);

/* Fills a fresh random UUIDv4 (36 chars + NUL). */
void http_uuid(char out[37]);

#endif
