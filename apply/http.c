/* http.c: libcurl with nutapply's retry, budget, CA and redaction rules. */
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bundle-format/jsonpath.h"

enum { MAX_TRIES = 8, MAX_RESPONSE = 16 << 20, DAY_S = 86400, IDLE = 0, WAIT, RUN };
enum { BUDGET_S = 300, ATTEMPT_S = 120, CONNECT_S = 10, BACKOFF_MAX_S = 30 }; /* seconds */

struct http_ctx {
	char *ca_file;
	int debug;
	double backoff_s;
	CURL *easy; /* http_do's, reused so connections stay alive */
};

struct xfer { /* one request across its attempts */
	struct http_ctx *c;
	struct http_req q; /* defaults filled in */
	struct http_resp *r, own;
	CURL *h;
	struct curl_slist *hl;
	char errbuf[CURL_ERROR_SIZE];
	double t0, t_try, wake;
	int over_cap, state;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void http_uuid(char out[37])
{
	uint32_t w[4] = {0};
	RAND_bytes((unsigned char *)w, sizeof(w));
	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%04x%08x", w[0], w[1] >> 16, w[1] & 0xfff,
		 (w[2] >> 16 & 0x3fff) | 0x8000, w[2] & 0xffff, w[3]); /* RFC 9562 §5.4 */
}

int http_status_retryable(long s)
{
	return s == 408 || s == 429 || (s >= 500 && s <= 599 && s != 501 && s != 505);
}

long http_backoff_ms(int attempt, double base_s, double max_s, double rnd)
{
	return (long)(fmin(max_s, base_s * pow(2, attempt > 1 ? attempt - 1 : 0)) * rnd * 1000);
}

long http_parse_retry_after(const char *v, time_t now)
{
	char *end;
	long long s = -1;

	if (v && isdigit((unsigned char)v[strspn(v, " \t")])) {
		errno = 0;
		s = strtoll(v, &end, 10);
		s = errno || end[strspn(end, " \t")] ? -1 : s;
	} else if (v && (s = curl_getdate(v, NULL)) != -1) { /* IMF-fixdate, RFC 850, asctime */
		s = s > now ? s - now : 0;
	}
	return s < 0 ? -1 : s > DAY_S ? DAY_S * 1000L : (long)s * 1000;
}

/* Nothing after '?' is ever shown: a query may carry a SAS signature or a secret. */
void http_redact_url(const char *url, char *out, size_t n)
{
	int len = (int)strcspn(url, "?");
	snprintf(out, n, "%.*s%s", len, url, url[len] ? "?..." : "");
}

int http_ctx_new(const struct http_opts *opts, struct http_ctx **out, struct ng_err *err)
{
	const char *e = getenv("NUTAPPLY_HTTP_BACKOFF_BASE"), *ca = opts ? opts->ca_file : NULL;
	X509_STORE *st = ca ? X509_STORE_new() : NULL;
	int ok = !ca || (st && X509_STORE_load_file(st, ca) == 1);
	struct http_ctx *c;

	X509_STORE_free(st);
	ERR_clear_error();
	*out = NULL;
	if (!ok)
		return ng_errf(err, NG_EINVAL,
			       "--ca-file %s: no PEM certificate in it: give the CA in PEM form",
			       ca);
	if (!(c = calloc(1, sizeof(*c))) || !(c->easy = curl_easy_init()) ||
	    (ca && !(c->ca_file = strdup(ca)))) {
		http_ctx_free(c);
		return ng_errf(err, NG_ENOMEM, "http: out of memory");
	}
	c->backoff_s = e && atof(e) > 0 ? atof(e) : 0.5; /* tests shorten the backoff */
	c->debug = (e = getenv("NUTAPPLY_HTTP_DEBUG")) && *e && strcmp(e, "0");
	*out = c;
	return 0;
}

void http_ctx_free(struct http_ctx *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->easy);
	free(c->ca_file);
	free(c);
}

void http_resp_init(struct http_resp *r)
{
	memset(r, 0, sizeof(*r));
}

void http_resp_free(struct http_resp *r)
{
	if (!r)
		return;
	buf_free(&r->body);
	buf_free(&r->hdrs);
}

const char *http_resp_header(const struct http_resp *r, const char *name)
{
	static char val[1024];
	char key[128];
	const char *p;

	snprintf(key, sizeof(key), "\n%s: ", name);
	if (!r->hdrs.data || !(p = strcasestr((char *)r->hdrs.data, key)))
		return NULL;
	p += strlen(key);
	snprintf(val, sizeof(val), "%.*s", (int)strcspn(p, "\n"), p);
	return val;
}

/* Runs after curl filled the store with the system CAs: --ca-file adds to them. */
static CURLcode ssl_ctx_cb(CURL *h, void *ssl_ctx, void *ca_file)
{
	int ok = SSL_CTX_load_verify_locations(ssl_ctx, ca_file, NULL) == 1;
	(void)h;
	ERR_clear_error();
	return ok ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

static size_t write_cb(char *p, size_t sz, size_t nm, void *arg)
{
	struct xfer *x = arg;
	x->over_cap |= x->r->body.len + sz * nm > x->q.max_response;
	return x->over_cap || buf_append(&x->r->body, p, sz * nm) ? 0 : sz * nm;
}

static void one_line(char *s)
{
	s[strcspn(s, "\r\n")] = 0;
	for (; *s; s++)
		*s = isprint((unsigned char)*s) ? *s : '?';
}

/* Azure's error code (x-ms-error-code, JSON error.code or Entra's "error") into
 * code[96] and its message (JSON, Entra's or XML <Message>) into msg. */
static void error_text(const struct http_resp *r, char *code, char *msg, size_t n)
{
	const char *b = (char *)r->body.data, *v = http_resp_header(r, "x-ms-error-code"), *s, *t;
	cJSON *j = r->status >= 400 && b ? cJSON_ParseWithLength(b, r->body.len) : NULL;
	const char *jc = json_path_str(j, "error.code"), *jm = json_path_str(j, "error.message");

	jc = jc ? jc : json_path_str(j, "error");
	jm = jm ? jm : json_path_str(j, "error_description");
	snprintf(code, 96, "%s", v ? v : jc ? jc : "");
	snprintf(msg, n, "%s", jm ? jm : "");
	if (!*msg && r->status >= 400 && b && (s = strstr(b, "<Message>")) &&
	    (t = strstr(s, "</Message>")))
		snprintf(msg, n, "%.*s", (int)(t - s - 9), s + 9);
	cJSON_Delete(j);
	one_line(code);
	one_line(msg);
}

/* After an attempt: 0 final, 1 retry after *wait seconds, < 0 failed. */
static int judge(struct xfer *x, CURLcode rc, double *wait, struct ng_err *err)
{
	const struct http_req *q = &x->q;
	struct http_resp *r = x->r;
	const char *v, *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
	char url[1024], msg[8];
	long hsz = 0, ms = -1;
	curl_off_t up = 0;
	uint32_t rnd = 0;
	/* any transport error is transient but a refused certificate or a bad URL */
	int retry = rc && rc != CURLE_PEER_FAILED_VERIFICATION && rc != CURLE_URL_MALFORMAT &&
		    rc != CURLE_UNSUPPORTED_PROTOCOL && rc != CURLE_WRITE_ERROR;

	curl_easy_getinfo(x->h, CURLINFO_REQUEST_SIZE, &hsz);
	curl_easy_getinfo(x->h, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &r->status);
	r->sent_bytes += (uint64_t)hsz + (uint64_t)up;
	for (struct curl_header *hd = NULL;
	     (hd = curl_easy_nextheader(x->h, CURLH_HEADER, -1, hd));)
		buf_printf(&r->hdrs, "\n%s: %s", hd->name, hd->value);
	v = http_resp_header(r, "x-ms-request-id");
	snprintf(r->request_id, sizeof(r->request_id), "%s", v ? v : "");
	error_text(r, r->error_code, msg, sizeof(msg));
	http_redact_url(q->url, url, sizeof(url));
	if (x->c->debug)
		fprintf(stderr,
			"http: > %s %s (try %d)\nhttp: < %ld %s request-id=%s "
			"client-request-id=%s %zu bytes%s%s (%.3fs)\n",
			q->method, url, r->tries, r->status, r->error_code, r->request_id,
			r->client_request_id, r->body.len, rc ? ", transport error: " : "",
			rc ? why : "", now_s() - x->t_try);
	if (x->over_cap)
		return ng_errf(err, NG_ELIMIT,
			       "%s %s: response over %zu bytes (client request id %s)", q->method,
			       url, q->max_response, r->client_request_id);
	if (!rc && (http_status_retryable(r->status) ||
		    (q->retry_statuses_4xx && (r->status == 404 || r->status == 410)))) {
		retry = 1;
		if ((v = http_resp_header(r, "x-ms-retry-after-ms")) ||
		    (v = http_resp_header(r, "retry-after-ms")))
			ms = atol(v);
		if (ms < 0 && (v = http_resp_header(r, "retry-after")))
			ms = http_parse_retry_after(v, time(NULL));
	}
	RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
	long back = http_backoff_ms(r->tries, x->c->backoff_s, BACKOFF_MAX_S, rnd / 4294967296.0);
	*wait = (ms >= 0 ? ms : back) / 1000.0;
	if (retry && q->idempotent && r->tries < MAX_TRIES &&
	    now_s() - x->t0 + *wait + 1 < q->budget_s) {
		if (x->c->debug)
			fprintf(stderr, "http: retry in %.3fs%s\n", *wait,
				ms >= 0 ? " (Retry-After)" : "");
		return 1;
	}
	if (!rc)
		return 0;
	return ng_errf(err, NG_ENET, "%s %s: %s after %d tr%s in %.0fs (client request id %s)%s",
		       q->method, url, why, r->tries, r->tries == 1 ? "y" : "ies", now_s() - x->t0,
		       r->client_request_id,
		       rc == CURLE_PEER_FAILED_VERIFICATION
			   ? ": TLS certificate not trusted: pass --ca-file with the issuing CA"
			   : "");
}

/* Readies x to run q into r: defaults, request id, header list, curl options. */
static int xfer_start(struct xfer *x, struct http_ctx *c, const struct http_req *q,
		      struct http_resp *r, struct ng_err *err)
{
	char id[80], *auth = NULL;
	int own = 0;

	x->c = c;
	x->q = *q;
	x->q.budget_s = q->budget_s > 0 ? q->budget_s : BUDGET_S;
	x->q.connect_s = q->connect_s > 0 ? q->connect_s : CONNECT_S;
	x->q.max_response = q->max_response ? q->max_response : MAX_RESPONSE;
	x->r = r;
	x->h = x->h ? x->h : curl_easy_init();
	x->wake = x->t0 = now_s();
	x->state = WAIT;
	http_resp_free(r);
	http_resp_init(r);
	http_uuid(r->client_request_id);
	snprintf(id, sizeof(id), "x-ms-client-request-id: %s", r->client_request_id);
	curl_slist_free_all(x->hl);
	/* No default Content-Type nor Expect from curl: Shared Key signs what is sent. */
	x->hl = curl_slist_append(curl_slist_append(NULL, "Content-Type:"), "Expect:");
	for (const char *const *hp = q->headers; hp && *hp; hp++) {
		x->hl = curl_slist_append(x->hl, *hp);
		if (!strncasecmp(*hp, "x-ms-client-request-id:", 23)) { /* signed by the caller */
			snprintf(r->client_request_id, 40, "%s", *hp + 23 + strspn(*hp + 23, " "));
			own = 1;
		}
	}
	if (!own)
		x->hl = curl_slist_append(x->hl, id);
	if (q->authorization) {
		if (asprintf(&auth, "Authorization: %s", q->authorization) < 0)
			return ng_errf(err, NG_ENOMEM, "http: out of memory");
		x->hl = curl_slist_append(x->hl, auth);
		OPENSSL_cleanse(auth, strlen(auth));
		free(auth);
	}
	if (!x->hl || !x->h)
		return ng_errf(err, NG_ENOMEM, "http: out of memory");
	curl_easy_reset(x->h);
	curl_easy_setopt(x->h, CURLOPT_URL, q->url);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hl);
	curl_easy_setopt(x->h, CURLOPT_USERAGENT, "nutapply/" NUTGEN_VERSION);
	curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(x->h, CURLOPT_SSL_CTX_FUNCTION, c->ca_file ? ssl_ctx_cb : NULL);
	curl_easy_setopt(x->h, CURLOPT_SSL_CTX_DATA, c->ca_file);
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, (long)(x->q.connect_s * 1000));
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_NOPROXY, q->no_proxy ? "*" : NULL);
	if (!strcmp(q->method, "HEAD")) {
		curl_easy_setopt(x->h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(q->method, "GET") || q->body) {
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, q->body ? q->body : "");
		curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, q->method);
	}
	return 0;
}

/* Readies the next try (a fresh response, what is left of the budget); its handle. */
static CURL *attempt(struct xfer *x)
{
	http_resp_free(x->r);
	x->over_cap = 0;
	x->t_try = now_s();
	x->r->tries++;
	curl_easy_setopt(
	    x->h, CURLOPT_TIMEOUT_MS,
	    (long)(fmax(1, fmin(ATTEMPT_S, x->q.budget_s - (x->t_try - x->t0))) * 1000));
	return x->h;
}

int http_do(struct http_ctx *c, const struct http_req *q, struct http_resp *r, struct ng_err *err)
{
	struct xfer x = {.h = c->easy};
	double wait = 0;
	int rc = xfer_start(&x, c, q, r, err);

	if (!rc)
		while ((rc = judge(&x, curl_easy_perform(attempt(&x)), &wait, err)) == 1)
			poll(NULL, 0, (int)(wait * 1000));
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL); /* the list held Authorization */
	curl_slist_free_all(x.hl);
	return rc;
}

int http_status_err(const struct http_resp *r, struct ng_err *err, int code, const char *what)
{
	char c[96], m[201]; /* Azure's message, cut to 200 characters */
	error_text(r, c, m, sizeof(m));
	return ng_errf(err, code, "%s: HTTP %ld%s%s%s%s (request id %s, client request id %s)",
		       what, r->status, c[0] ? " " : "", c, m[0] ? ": " : "", m,
		       r->request_id[0] ? r->request_id : "none", r->client_request_id);
}

int http_multi_run(struct http_ctx *c, int parallel, http_next_fn next, http_done_fn done,
		   void *arg, struct ng_err *err)
{
	CURLM *m = curl_multi_init();
	struct xfer *s = calloc(parallel > 0 ? (size_t)parallel : 1, sizeof(*s));
	int rc = m && s && parallel > 0 ? 0 : ng_errf(err, NG_ENOMEM, "http: out of memory");
	int more = 1, busy = 1;

	while (!rc && (more || busy)) {
		double now = now_s(), wake = now + 0.2;
		int n, left;
		busy = 0;
		for (int i = 0; i < parallel && !rc; i++) {
			struct xfer *x = &s[i];
			struct http_req q = {0};
			if (x->state == IDLE && more) {
				n = next(arg, i, &q, err);
				more = n > 0;
				rc = n > 0 ? xfer_start(x, c, &q, &x->own, err) : n;
			}
			if (!rc && x->state == WAIT && x->wake <= now) {
				curl_multi_add_handle(m, attempt(x));
				x->state = RUN;
			}
			wake = x->state == WAIT ? fmin(wake, x->wake) : wake;
			busy |= x->state != IDLE;
		}
		curl_multi_perform(m, &n);
		for (CURLMsg *msg; !rc && (msg = curl_multi_info_read(m, &left));) {
			CURLcode cr = msg->data.result;
			struct xfer *x = s;
			double wait = 0;
			while (x->h != msg->easy_handle)
				x++;
			curl_multi_remove_handle(m, x->h);
			n = judge(x, cr, &wait, err);
			x->state = n == 1 ? WAIT : IDLE;
			x->wake = now_s() + wait;
			wake = n == 1 ? fmin(wake, x->wake) : 0; /* refill a free slot at once */
			rc = n < 0 ? n : n == 0 ? done(arg, (int)(x - s), x->r, err) : 0;
		}
		if (!rc)
			curl_multi_poll(m, NULL, 0,
					(int)fmax(0, fmin(200, (wake - now_s()) * 1000)), NULL);
	}
	for (int i = 0; s && i < parallel; i++) {
		if (s[i].state == RUN)
			curl_multi_remove_handle(m, s[i].h);
		curl_easy_cleanup(s[i].h);
		curl_slist_free_all(s[i].hl);
		http_resp_free(&s[i].own);
	}
	free(s);
	curl_multi_cleanup(m);
	return rc;
}
