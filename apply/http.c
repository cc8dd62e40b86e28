/* http.c: libcurl with nutapply's retry, budget, CA and redaction rules
 * (see http.h). */
#include "http.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bundle-format/fileio.h"

#define MAX_CAS 16

struct http_ctx {
	struct http_opts o;
	X509 *cas[MAX_CAS];
	int ncas;
	CURL *easy; /* reused by http_do so connections are kept alive */
	int debug;
};

/* One attempt's transfer state. */
struct xfer {
	struct http_ctx *ctx;
	struct http_req req;
	struct http_resp *resp;
	CURL *h;
	struct curl_slist *hl;
	char errbuf[CURL_ERROR_SIZE];
	size_t cap;
	int over_cap;
	double t0, t_attempt, wake;
	int own_id; /* the caller sent x-ms-client-request-id (it signs x-ms-*) */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double rnd01(void)
{
	uint32_t v = 0;
	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		v = (uint32_t)rand();
	return v / 4294967296.0;
}

/* --- context --- */

static int load_cas(struct http_ctx *c, const char *path, struct ng_err *err)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return ng_errf(err, NG_EIO, "--ca-file %s: %s: give a readable PEM file", path,
			       strerror(errno));
	while (c->ncas < MAX_CAS && (x = PEM_read_X509(f, NULL, NULL, NULL)))
		c->cas[c->ncas++] = x;
	fclose(f);
	ERR_clear_error();
	if (!c->ncas)
		return ng_errf(err, NG_EINVAL,
			       "--ca-file %s: no PEM certificate found: give the CA in PEM form",
			       path);
	return 0;
}

int http_ctx_new(const struct http_opts *opts, struct http_ctx **out, struct ng_err *err)
{
	static int inited;
	struct http_ctx *c;
	const char *e;
	int rc;

	*out = NULL;
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return ng_errf(err, NG_ENET, "libcurl: global initialisation failed");
		inited = 1;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return ng_errf(err, NG_ENOMEM, "http: out of memory");
	if (opts)
		c->o = *opts;
	if ((e = getenv("NUTAPPLY_HTTP_BACKOFF_BASE")) && !c->o.backoff_base_s)
		c->o.backoff_base_s = atof(e);
	if (c->o.budget_s <= 0)
		c->o.budget_s = 300;
	if (c->o.attempt_s <= 0)
		c->o.attempt_s = 120;
	if (c->o.connect_s <= 0)
		c->o.connect_s = 10;
	if (c->o.max_tries <= 0)
		c->o.max_tries = 8;
	if (c->o.backoff_base_s <= 0)
		c->o.backoff_base_s = 0.5;
	if (c->o.backoff_max_s <= 0)
		c->o.backoff_max_s = 30;
	if (!c->o.max_response)
		c->o.max_response = 16u << 20;
	c->debug = (e = getenv("NUTAPPLY_HTTP_DEBUG")) && *e && strcmp(e, "0");
	if (c->o.ca_file && (rc = load_cas(c, c->o.ca_file, err))) {
		http_ctx_free(c);
		return rc;
	}
	c->easy = curl_easy_init();
	if (!c->easy) {
		http_ctx_free(c);
		return ng_errf(err, NG_ENOMEM, "libcurl: cannot create a handle");
	}
	*out = c;
	return 0;
}

void http_ctx_free(struct http_ctx *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->ncas; i++)
		X509_free(c->cas[i]);
	if (c->easy)
		curl_easy_cleanup(c->easy);
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
	size_t nl = strlen(name);
	const char *p = r->hdrs.data ? (const char *)r->hdrs.data : "";

	while (*p) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
			const char *v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(val, sizeof(val), "%.*s", (int)(eol - v), v);
			return val;
		}
		p = *eol ? eol + 1 : eol;
	}
	return NULL;
}

/* --- callbacks --- */

static CURLcode ssl_ctx_cb(CURL *h, void *sslctx, void *arg)
{
	struct http_ctx *c = arg;
	X509_STORE *st = SSL_CTX_get_cert_store(sslctx);
	(void)h;
	for (int i = 0; i < c->ncas; i++)
		X509_STORE_add_cert(st, c->cas[i]); /* duplicates are harmless */
	ERR_clear_error();
	return CURLE_OK;
}

static size_t write_cb(char *p, size_t sz, size_t nm, void *arg)
{
	struct xfer *x = arg;
	size_t n = sz * nm;
	if (x->resp->body.len + n > x->cap) {
		x->over_cap = 1;
		return 0;
	}
	return buf_append(&x->resp->body, p, n) ? 0 : n;
}

static size_t header_cb(char *p, size_t sz, size_t nm, void *arg)
{
	struct xfer *x = arg;
	size_t n = sz * nm, l = n;
	while (l && (p[l - 1] == '\r' || p[l - 1] == '\n'))
		l--;
	if (l >= 5 && !strncmp(p, "HTTP/", 5)) {
		x->resp->hdrs.len = 0; /* a new response (after 100 Continue) */
		return n;
	}
	if (l && x->resp->hdrs.len + l < 256 * 1024) {
		buf_append(&x->resp->hdrs, p, l);
		buf_append(&x->resp->hdrs, "\n", 1);
	}
	return n;
}

/* --- one attempt --- */

static int setup(struct xfer *x, struct ng_err *err)
{
	struct http_ctx *c = x->ctx;
	const struct http_req *q = &x->req;
	struct http_resp *r = x->resp;
	char line[1200];
	int has_ct = 0;
	double left = c->o.budget_s - (now_s() - x->t0), per = c->o.attempt_s;
	CURL *h = x->h;

	if (q->budget_s > 0)
		left = q->budget_s - (now_s() - x->t0);
	if (per > left)
		per = left;
	if (per < 1)
		per = 1;
	buf_free(&r->body);
	buf_free(&r->hdrs);
	buf_init(&r->body, 0);
	buf_init(&r->hdrs, 0);
	r->status = 0;
	x->over_cap = 0;
	x->errbuf[0] = 0;
	curl_slist_free_all(x->hl);
	x->hl = NULL;
	curl_easy_reset(h);

	for (const char *const *hp = q->headers; hp && *hp; hp++) {
		if (!strncasecmp(*hp, "Content-Type:", 13))
			has_ct = 1;
		x->hl = curl_slist_append(x->hl, *hp);
	}
	if (!has_ct)
		x->hl = curl_slist_append(x->hl, "Content-Type:");
	x->hl = curl_slist_append(x->hl, "Expect:");
	if (!x->own_id) {
		snprintf(line, sizeof(line), "x-ms-client-request-id: %s", r->client_request_id);
		x->hl = curl_slist_append(x->hl, line);
	}
	if (q->authorization) {
		char *ah = NULL;
		if (asprintf(&ah, "Authorization: %s", q->authorization) < 0)
			return ng_errf(err, NG_ENOMEM, "http: out of memory");
		x->hl = curl_slist_append(x->hl, ah);
		OPENSSL_cleanse(ah, strlen(ah));
		free(ah);
	}
	if (!x->hl)
		return ng_errf(err, NG_ENOMEM, "http: out of memory");

	curl_easy_setopt(h, CURLOPT_URL, q->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hl);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "nutapply/" NUTGEN_VERSION);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ncas) {
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, c);
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)((q->connect_s > 0 ? q->connect_s : c->o.connect_s) * 1000));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(per * 1000));
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	if (q->no_proxy)
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (!strcmp(q->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(q->method, "GET") && !q->body) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body ? q->body : "");
		if (strcmp(q->method, "POST"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	}
	x->t_attempt = now_s();
	r->tries++;
	return 0;
}

/* Azure's error code (x-ms-error-code, JSON error.code or Entra's "error",
 * XML <Code>) into r->error_code, and its message (one printable line, at
 * most ~200 chars) into msg. */
static void parse_error(struct http_resp *r, char *msg, size_t n)
{
	const char *v = http_resp_header(r, "x-ms-error-code"), *b = "", *s, *t;
	cJSON *j = NULL, *e, *code = NULL, *m = NULL;

	msg[0] = 0;
	snprintf(r->error_code, sizeof(r->error_code), "%s", v ? v : "");
	if (r->status < 400 || !r->body.len)
		return;
	b = (const char *)r->body.data;
	if ((j = cJSON_ParseWithLength(b, r->body.len))) {
		e = cJSON_GetObjectItemCaseSensitive(j, "error");
		code = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "code") : e;
		m = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message")
				      : cJSON_GetObjectItemCaseSensitive(j, "error_description");
		if (!v && cJSON_IsString(code))
			snprintf(r->error_code, sizeof(r->error_code), "%s", code->valuestring);
		if (cJSON_IsString(m))
			snprintf(msg, n, "%s", m->valuestring);
		cJSON_Delete(j);
	} else {
		if (!v && (s = strstr(b, "<Code>")) && (t = strstr(s, "</Code>")))
			snprintf(r->error_code, sizeof(r->error_code), "%.*s", (int)(t - s - 6),
				 s + 6);
		if ((s = strstr(b, "<Message>")) && (t = strstr(s, "</Message>")))
			snprintf(msg, n, "%.*s", (int)(t - s - 9), s + 9);
	}
	msg[strcspn(msg, "\r\n")] = 0;
	for (char *p = msg; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
	if (strlen(msg) > 200)
		strcpy(msg + 197, "...");
	for (char *p = r->error_code; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
}

static void debug_log(struct xfer *x, CURLcode rc)
{
	char url[1024], h[512];
	const struct http_resp *r = x->resp;
	fprintf(stderr, "http: > %s %s (try %d)\n", x->req.method,
		(http_redact_url(x->req.url, url, sizeof(url)), url), r->tries);
	for (const char *const *hp = x->req.headers; hp && *hp; hp++) {
		http_redact_header(*hp, h, sizeof(h));
		fprintf(stderr, "http: >   %s\n", h);
	}
	if (x->req.authorization)
		fprintf(stderr, "http: >   Authorization: REDACTED\n");
	if (rc)
		fprintf(stderr, "http: < transport error: %s (%.3fs)\n",
			x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc), now_s() - x->t_attempt);
	else
		fprintf(stderr,
			"http: < %ld %s request-id=%s client-request-id=%s %zu bytes (%.3fs)\n",
			r->status, r->error_code, r->request_id, r->client_request_id, r->body.len,
			now_s() - x->t_attempt);
}

/* Judges a finished attempt: 0 final (response in x->resp), 1 retry after
 * *wait seconds, or a negative code with err set. */
static int judge(struct xfer *x, CURLcode rc, double *wait, struct ng_err *err)
{
	struct http_ctx *c = x->ctx;
	struct http_resp *r = x->resp;
	const struct http_req *q = &x->req;
	char url[512];
	const char *v;
	int retry = 0;
	long ms = -1;
	double budget = q->budget_s > 0 ? q->budget_s : c->o.budget_s;

	long hsz = 0;
	curl_off_t up = 0;
	curl_easy_getinfo(x->h, CURLINFO_REQUEST_SIZE, &hsz);
	curl_easy_getinfo(x->h, CURLINFO_SIZE_UPLOAD_T, &up);
	r->sent_bytes += (uint64_t)hsz + (uint64_t)up;
	if (!rc) {
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &r->status);
		v = http_resp_header(r, "x-ms-request-id");
		snprintf(r->request_id, sizeof(r->request_id), "%s", v ? v : "");
		char m[8];
		parse_error(r, m, sizeof(m));
	}
	if (c->debug)
		debug_log(x, rc);
	http_redact_url(q->url, url, sizeof(url));
	if (x->over_cap)
		return ng_errf(err, NG_ELIMIT,
			       "%s %s: response larger than %zu bytes: refusing it (client request "
			       "id %s)",
			       q->method, url, x->cap, r->client_request_id);
	if (rc) {
		switch (rc) {
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			retry = 1;
			break;
		default:
			break;
		}
	} else {
		retry = http_status_retryable(r->status) ||
			(q->retry_statuses_4xx && (r->status == 404 || r->status == 410));
		if (retry) {
			if ((v = http_resp_header(r, "x-ms-retry-after-ms")) ||
			    (v = http_resp_header(r, "retry-after-ms")))
				ms = atol(v) >= 0 ? atol(v) : -1;
			if (ms < 0 && (v = http_resp_header(r, "retry-after")))
				ms = http_parse_retry_after(v, time(NULL));
		}
	}
	if (retry && q->idempotent && r->tries < c->o.max_tries) {
		if (ms < 0)
			ms = http_backoff_ms(r->tries, c->o.backoff_base_s, c->o.backoff_max_s,
					     rnd01());
		*wait = ms / 1000.0;
		if (now_s() - x->t0 + *wait + 1 < budget) {
			if (c->debug)
				fprintf(stderr, "http: retry in %.3fs%s\n", *wait,
					ms >= 0 && http_resp_header(r, "retry-after")
					    ? " (Retry-After)"
					    : "");
			return 1;
		}
	}
	if (!rc)
		return 0;
	if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
		return ng_errf(err, NG_ENET,
			       "%s %s: TLS certificate not trusted (%s): pass --ca-file with the "
			       "issuing CA",
			       q->method, url, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
	return ng_errf(err, NG_ENET, "%s %s: %s after %d tr%s in %.0fs (client request id %s)",
		       q->method, url, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc), r->tries,
		       r->tries == 1 ? "y" : "ies", now_s() - x->t0, r->client_request_id);
}

static void xfer_start(struct xfer *x, struct http_ctx *c, const struct http_req *q,
		       struct http_resp *r)
{
	x->ctx = c;
	x->own_id = 0;
	x->req = *q;
	x->resp = r;
	x->cap = q->max_response ? q->max_response : c->o.max_response;
	x->t0 = now_s();
	http_resp_free(r);
	http_resp_init(r);
	http_uuid(r->client_request_id);
	for (const char *const *hp = q->headers; hp && *hp; hp++)
		if (!strncasecmp(*hp, "x-ms-client-request-id:", 23)) {
			const char *v = *hp + 23;
			while (*v == ' ')
				v++;
			snprintf(r->client_request_id, sizeof(r->client_request_id), "%s", v);
			x->own_id = 1;
		}
}

static void sleep_s(double s)
{
	struct timespec ts;
	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int http_do(struct http_ctx *c, const struct http_req *q, struct http_resp *r, struct ng_err *err)
{
	struct xfer x = {0};
	double wait = 0;
	int rc;

	xfer_start(&x, c, q, r);
	x.h = c->easy;
	for (;;) {
		if ((rc = setup(&x, err)))
			break;
		CURLcode cr = curl_easy_perform(x.h);
		rc = judge(&x, cr, &wait, err);
		if (rc != 1)
			break;
		sleep_s(wait);
	}
	curl_slist_free_all(x.hl);
	/* drop the Authorization header list from the reused handle */
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
	return rc;
}

int http_status_err(const struct http_resp *r, struct ng_err *err, int code, const char *what)
{
	char m[512];
	parse_error((struct http_resp *)r, m, sizeof(m));
	return ng_errf(err, code, "%s: HTTP %ld%s%s%s%s (request id %s, client request id %s)",
		       what, r->status, r->error_code[0] ? " " : "", r->error_code,
		       m[0] ? ": " : "", m, r->request_id[0] ? r->request_id : "none",
		       r->client_request_id);
}

/* --- parallel --- */

enum { S_IDLE, S_RUN, S_WAIT };

struct slot {
	struct xfer x;
	struct http_resp resp;
	int state;
};

static int busy(const struct slot *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i].state != S_IDLE)
			return 1;
	return 0;
}

int http_multi_run(struct http_ctx *c, int parallel, http_next_fn next, http_done_fn done,
		   void *arg, struct ng_err *err)
{
	CURLM *m = curl_multi_init();
	struct slot *s = calloc((size_t)parallel, sizeof(*s));
	int rc = 0, more = 1, active = 0;

	if (!m || !s || parallel < 1) {
		free(s);
		if (m)
			curl_multi_cleanup(m);
		return ng_errf(err, NG_ENOMEM, "http: cannot set up parallel transfers");
	}
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)parallel);
	for (int i = 0; i < parallel; i++)
		http_resp_init(&s[i].resp);
	while (!rc) {
		double now = now_s(), wake = now + 0.2;
		for (int i = 0; i < parallel && !rc; i++) {
			struct slot *sl = &s[i];
			if (sl->state == S_IDLE && more) {
				struct http_req q = {0};
				int n = next(arg, i, &q, err);
				if (n < 0) {
					rc = n;
					break;
				}
				if (n == 0) {
					more = 0;
					continue;
				}
				xfer_start(&sl->x, c, &q, &sl->resp);
				if (!sl->x.h && !(sl->x.h = curl_easy_init())) {
					rc = ng_errf(err, NG_ENOMEM, "http: out of memory");
					break;
				}
				sl->state = S_WAIT;
				sl->x.wake = now;
			}
			if (sl->state == S_WAIT && sl->x.wake <= now) {
				if ((rc = setup(&sl->x, err)))
					break;
				curl_multi_add_handle(m, sl->x.h);
				sl->state = S_RUN;
				active++;
			}
			if (sl->state == S_WAIT && sl->x.wake < wake)
				wake = sl->x.wake;
		}
		if (rc || (!more && !busy(s, parallel)))
			break;
		int running;
		curl_multi_perform(m, &running);
		CURLMsg *msg;
		int left;
		while (!rc && (msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct slot *sl = NULL;
			for (int i = 0; i < parallel; i++)
				if (s[i].state == S_RUN && s[i].x.h == msg->easy_handle)
					sl = &s[i];
			if (!sl)
				continue;
			CURLcode cr = msg->data.result;
			curl_multi_remove_handle(m, sl->x.h);
			active--;
			double wait = 0;
			int j = judge(&sl->x, cr, &wait, err);
			if (j == 1) {
				sl->state = S_WAIT;
				sl->x.wake = now_s() + wait;
				continue;
			}
			sl->state = S_IDLE;
			if (j < 0)
				rc = j;
			else
				rc = done(arg, (int)(sl - s), &sl->resp, err);
		}
		if (rc)
			break;
		int ms = (int)((wake - now_s()) * 1000);
		if (ms < 0)
			ms = 0;
		if (ms > 200)
			ms = 200;
		if (active)
			curl_multi_poll(m, NULL, 0, ms, NULL);
		else
			sleep_s(ms / 1000.0);
	}
	for (int i = 0; i < parallel; i++) {
		if (s[i].state == S_RUN)
			curl_multi_remove_handle(m, s[i].x.h);
		if (s[i].x.h)
			curl_easy_cleanup(s[i].x.h);
		curl_slist_free_all(s[i].x.hl);
		http_resp_free(&s[i].resp);
	}
	free(s);
	curl_multi_cleanup(m);
	return rc;
}
