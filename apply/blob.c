/* blob.c: page blob requests (Shared Key or bearer), status, page lists.
 * The upload itself is in blob_upload.c. azure-rest.md §1. */
#include "blob.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../bundle-format/codec.h"
#include "blob_req.h"

/* --- Shared Key (azure-rest.md §1.10) --- */

static const char *hdr_val(const char *const *h, const char *name)
{
	size_t n = strlen(name);
	for (; h && *h; h++)
		if (!strncasecmp(*h, name, n) && (*h)[n] == ':') {
			const char *v = *h + n + 1;
			while (*v == ' ')
				v++;
			return v;
		}
	return "";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void pct_decode(const char *s, size_t n, struct buf *o)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char h[3] = {s[i + 1], s[i + 2], 0};
			char c = (char)strtol(h, NULL, 16);
			buf_append(o, &c, 1);
			i += 2;
		} else {
			buf_append(o, &s[i], 1);
		}
	}
}

char *blob_string_to_sign(const char *account, const char *method, const char *url,
			  const char *const *headers, size_t body_len)
{
	static const char *const std[] = {"Content-Encoding",
					  "Content-Language",
					  NULL,
					  "Content-MD5",
					  "Content-Type",
					  "Date",
					  "If-Modified-Since",
					  "If-Match",
					  "If-None-Match",
					  "If-Unmodified-Since",
					  "Range"};
	struct buf b;
	char *xms[64], *qs[32];
	int nx = 0, nq = 0;
	const char *p = strstr(url, "://"), *path, *q;

	buf_init(&b, 0);
	buf_printf(&b, "%s\n", method);
	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		if (!std[i]) {
			if (body_len)
				buf_printf(&b, "%zu", body_len);
			buf_puts(&b, "\n");
		} else {
			buf_printf(&b, "%s\n", hdr_val(headers, std[i]));
		}
	}
	for (const char *const *h = headers; h && *h && nx < 64; h++) {
		if (strncasecmp(*h, "x-ms-", 5))
			continue;
		const char *c = strchr(*h, ':');
		if (!c)
			continue;
		struct buf l;
		buf_init(&l, 0);
		for (const char *s = *h; s < c; s++)
			buf_printf(&l, "%c", tolower((unsigned char)*s));
		buf_puts(&l, ":");
		/* value: trimmed, inner whitespace runs collapsed to one space */
		const char *v = c + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		int sp = 0;
		for (; *v; v++) {
			if (*v == ' ' || *v == '\t') {
				sp = 1;
				continue;
			}
			if (sp)
				buf_puts(&l, " ");
			sp = 0;
			buf_append(&l, v, 1);
		}
		xms[nx++] = buf_steal(&l);
	}
	qsort(xms, (size_t)nx, sizeof(char *), cmp_str);
	for (int i = 0; i < nx; i++) {
		buf_printf(&b, "%s\n", xms[i]);
		free(xms[i]);
	}
	p = p ? p + 3 : url;
	path = strchr(p, '/');
	if (!path)
		path = "/";
	q = strchr(path, '?');
	buf_printf(&b, "/%s%.*s", account, (int)(q ? (size_t)(q - path) : strlen(path)), path);
	for (const char *s = q ? q + 1 : NULL; s && *s && nq < 32;) {
		const char *amp = strchr(s, '&'), *end = amp ? amp : s + strlen(s);
		const char *eq = memchr(s, '=', (size_t)(end - s));
		struct buf l;
		buf_init(&l, 0);
		for (const char *c = s; c < (eq ? eq : end); c++)
			buf_printf(&l, "%c", tolower((unsigned char)*c));
		buf_puts(&l, ":");
		if (eq)
			pct_decode(eq + 1, (size_t)(end - eq - 1), &l);
		qs[nq++] = buf_steal(&l);
		s = amp ? amp + 1 : end;
	}
	qsort(qs, (size_t)nq, sizeof(char *), cmp_str);
	for (int i = 0; i < nq; i++) {
		buf_printf(&b, "\n%s", qs[i]);
		free(qs[i]);
	}
	return b.oom ? (buf_free(&b), NULL) : buf_steal(&b);
}

/* --- request builder --- */

void breq_free(struct breq *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->h[i]);
	if (r->auth) {
		OPENSSL_cleanse(r->auth, strlen(r->auth));
		free(r->auth);
	}
	free(r->url);
	memset(r, 0, sizeof(*r));
}

int breq_add(struct breq *r, const char *fmt, ...)
{
	va_list ap;
	char *s;
	if (r->n >= BREQ_MAX_HDRS)
		return NG_EINTERNAL;
	va_start(ap, fmt);
	int k = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (k < 0)
		return NG_ENOMEM;
	r->h[r->n++] = s;
	r->h[r->n] = NULL;
	return 0;
}

int breq_init(struct breq *r, const char *method, const char *url, const char *query)
{
	char date[64];
	time_t t = time(NULL);
	struct tm tm;

	memset(r, 0, sizeof(*r));
	r->method = method;
	if (asprintf(&r->url, "%s%s%s", url, query ? (strchr(url, '?') ? "&" : "?") : "",
		     query ? query : "") < 0) {
		r->url = NULL;
		return NG_ENOMEM;
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	char id[37];
	http_uuid(id);
	if (breq_add(r, "x-ms-date: %s", date) || breq_add(r, "x-ms-version: %s", BLOB_X_MS_VER) ||
	    breq_add(r, "x-ms-client-request-id: %s", id))
		return NG_ENOMEM;
	return 0;
}

int breq_sign(struct breq *r, const struct blob_auth *a, size_t body_len, struct ng_err *err)
{
	const char *tok;
	int rc;

	if (a->key) {
		unsigned char mac[32];
		unsigned int ml = 0;
		char *sts = blob_string_to_sign(a->account, r->method, r->url,
						(const char *const *)r->h, body_len);
		if (!sts)
			return ng_errf(err, NG_ENOMEM, "blob: out of memory");
		if (!HMAC(EVP_sha256(), a->key, (int)a->key_len, (unsigned char *)sts, strlen(sts),
			  mac, &ml)) {
			free(sts);
			return ng_err_openssl(err, NG_ECRYPTO, "blob: HMAC-SHA256");
		}
		free(sts);
		char *b64 = base64_encode(mac, ml);
		if (!b64 || asprintf(&r->auth, "SharedKey %s:%s", a->account, b64) < 0) {
			free(b64);
			r->auth = NULL;
			return ng_errf(err, NG_ENOMEM, "blob: out of memory");
		}
		free(b64);
		return 0;
	}
	if (!a->cred)
		return ng_errf(err, NG_EINVAL,
			       "blob: no credential: give an account key or a token");
	if ((rc = az_cred_authorization(a->cred, a->resource, &tok, err)))
		return rc;
	if (!(r->auth = strdup(tok)))
		return ng_errf(err, NG_ENOMEM, "blob: out of memory");
	return 0;
}

void breq_fill(const struct breq *r, struct http_req *q, const void *body, size_t len,
	       int idempotent)
{
	memset(q, 0, sizeof(*q));
	q->method = r->method;
	q->url = r->url;
	q->headers = (const char *const *)r->h;
	q->authorization = r->auth;
	q->body = body;
	q->body_len = len;
	q->idempotent = idempotent;
}

int blob_call(struct http_ctx *http, const struct blob_auth *a, struct breq *r, const void *body,
	      size_t len, struct http_resp *resp, struct ng_err *err)
{
	struct http_req q;
	int rc;

	if ((rc = breq_sign(r, a, len, err)))
		return rc;
	breq_fill(r, &q, body, len, 1);
	rc = http_do(http, &q, resp, err);
	if (!rc && resp->status == 401 && a->cred) {
		/* an expired or revoked token: one fresh token, one more try */
		az_cred_invalidate(a->cred, a->resource);
		OPENSSL_cleanse(r->auth, strlen(r->auth));
		free(r->auth);
		r->auth = NULL;
		if ((rc = breq_sign(r, a, len, err)))
			return rc;
		breq_fill(r, &q, body, len, 1);
		rc = http_do(http, &q, resp, err);
	}
	return rc;
}

/* --- page lists --- */

static int parse_u64(const char *s, const char *end, uint64_t *v)
{
	uint64_t x = 0;
	if (s == end || end - s > 19)
		return -1;
	for (; s < end; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return 0;
}

static const char *tag(const char *p, const char *name, const char **vs, const char **ve)
{
	char open[32], close[32];
	const char *a, *b;
	snprintf(open, sizeof(open), "<%s>", name);
	snprintf(close, sizeof(close), "</%s>", name);
	if (!(a = strstr(p, open)) || !(b = strstr(a, close)))
		return NULL;
	*vs = a + strlen(open);
	*ve = b;
	return b + strlen(close);
}

int blob_parse_page_list(const char *xml, struct blob_range **out, size_t *n, char *marker,
			 struct ng_err *err)
{
	struct blob_range *r = NULL;
	size_t cnt = 0, cap = 0;
	const char *p = xml, *vs, *ve, *pr;

	*out = NULL;
	*n = 0;
	marker[0] = 0;
	while ((pr = strstr(p, "<PageRange>"))) {
		const char *q = pr + 11, *prend = strstr(q, "</PageRange>");
		uint64_t s, e;
		if (!prend || !(q = tag(q, "Start", &vs, &ve)) || q > prend ||
		    parse_u64(vs, ve, &s) || !(q = tag(q, "End", &vs, &ve)) || q > prend ||
		    parse_u64(vs, ve, &e) || e < s || s % BLOB_PAGE || (e + 1) % BLOB_PAGE) {
			free(r);
			return ng_errf(err, NG_EINVAL,
				       "Get Page Ranges: malformed <PageRange> in the reply");
		}
		if (cnt && s < r[cnt - 1].off + r[cnt - 1].len) {
			free(r);
			return ng_errf(err, NG_EINVAL,
				       "Get Page Ranges: ranges overlap or are out of order");
		}
		if (cnt && s == r[cnt - 1].off + r[cnt - 1].len) {
			r[cnt - 1].len += e + 1 - s; /* Azurite lists each write apart */
		} else {
			if (cnt == cap) {
				cap = cap ? cap * 2 : 64;
				void *t = realloc(r, cap * sizeof(*r));
				if (!t) {
					free(r);
					return ng_errf(err, NG_ENOMEM, "out of memory");
				}
				r = t;
			}
			r[cnt].off = s;
			r[cnt].len = e + 1 - s;
			cnt++;
		}
		p = prend;
	}
	if (tag(xml, "NextMarker", &vs, &ve) && ve - vs < 255)
		snprintf(marker, 256, "%.*s", (int)(ve - vs), vs);
	*out = r;
	*n = cnt;
	return 0;
}

int blob_page_ranges(struct http_ctx *http, const struct blob_auth *a, const char *url,
		     struct blob_range **out, size_t *n, struct ng_err *err)
{
	char marker[256] = "", q[400];
	struct blob_range *all = NULL;
	size_t cnt = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (int page = 0; page < 10000; page++) {
		struct breq r;
		struct http_resp resp;
		struct blob_range *part;
		size_t pn;
		snprintf(q, sizeof(q), "comp=pagelist%s%s", marker[0] ? "&marker=" : "", marker);
		http_resp_init(&resp);
		if (breq_init(&r, "GET", url, q)) {
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
		} else if (!(rc = blob_call(http, a, &r, NULL, 0, &resp, err))) {
			if (resp.status != 200)
				rc = http_status_err(&resp, err, NG_ENET, "Get Page Ranges");
			else if (!(rc = blob_parse_page_list((const char *)resp.body.data, &part,
							     &pn, marker, err))) {
				void *t = realloc(all, (cnt + pn + 1) * sizeof(*all));
				if (!t) {
					rc = ng_errf(err, NG_ENOMEM, "out of memory");
				} else {
					all = t;
					for (size_t i = 0; i < pn; i++) {
						if (cnt && part[i].off ==
							       all[cnt - 1].off + all[cnt - 1].len)
							all[cnt - 1].len += part[i].len;
						else
							all[cnt++] = part[i];
					}
				}
				free(part);
			}
		}
		breq_free(&r);
		http_resp_free(&resp);
		if (rc || !marker[0])
			break;
		/* markers are opaque: keep them to URL-safe characters */
		for (char *c = marker; *c; c++)
			if (!isalnum((unsigned char)*c) && !strchr("-_.~%", *c)) {
				rc = ng_errf(err, NG_EINVAL, "Get Page Ranges: unexpected marker");
				break;
			}
		if (rc)
			break;
	}
	if (rc) {
		free(all);
		return rc;
	}
	*out = all;
	*n = cnt;
	return 0;
}

/* --- status --- */

static void hcopy(const struct http_resp *r, const char *name, char *out, size_t n)
{
	const char *v = http_resp_header(r, name);
	snprintf(out, n, "%s", v ? v : "");
	for (char *p = out; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
}

int blob_head(struct http_ctx *http, const struct blob_auth *a, const char *url,
	      struct blob_state *st, struct ng_err *err)
{
	struct breq r;
	struct http_resp resp;
	int rc;

	memset(st, 0, sizeof(*st));
	http_resp_init(&resp);
	if (breq_init(&r, "HEAD", url, NULL))
		return ng_errf(err, NG_ENOMEM, "out of memory");
	rc = blob_call(http, a, &r, NULL, 0, &resp, err);
	breq_free(&r);
	if (rc)
		goto out;
	if (resp.status == 404) {
		goto out;
	} else if (resp.status != 200) {
		rc = http_status_err(&resp, err, NG_ENET, "Get Blob Properties");
		goto out;
	}
	st->exists = 1;
	const char *v = http_resp_header(&resp, "Content-Length");
	st->size = v ? strtoull(v, NULL, 10) : 0;
	v = http_resp_header(&resp, "x-ms-blob-type");
	if (!v || strcmp(v, "PageBlob")) {
		rc = ng_errf(err, NG_EEXIST,
			     "%s: exists and is not a page blob (%s): not touching it; use "
			     "another blob name",
			     url, v ? v : "unknown type");
		goto out;
	}
	hcopy(&resp, "ETag", st->etag, sizeof(st->etag));
	hcopy(&resp, "Last-Modified", st->last_modified, sizeof(st->last_modified));
	hcopy(&resp, "x-ms-lease-state", st->lease_state, sizeof(st->lease_state));
	hcopy(&resp, "x-ms-meta-nutapply_state", st->state, sizeof(st->state));
	hcopy(&resp, "x-ms-meta-nutapply_bundle", st->bundle, sizeof(st->bundle));
	hcopy(&resp, "x-ms-meta-nutapply_volume", st->volume, sizeof(st->volume));
out:
	http_resp_free(&resp);
	return rc;
}

int blob_status(struct http_ctx *http, const struct blob_auth *a, const char *url,
		struct blob_state *st, struct ng_err *err)
{
	struct blob_range *r;
	size_t n;
	int rc = blob_head(http, a, url, st, err);
	if (rc || !st->exists)
		return rc;
	if ((rc = blob_page_ranges(http, a, url, &r, &n, err)))
		return rc;
	for (size_t i = 0; i < n; i++)
		st->written_bytes += r[i].len;
	free(r);
	return 0;
}

int blob_account_from_url(const char *url, char *out, size_t n, struct ng_err *err)
{
	const char *h = strstr(url, "://"), *e;
	size_t l;

	if (!h || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)))
		return ng_errf(err, NG_EINVAL, "%s: not an http(s) blob URL", url);
	h += 3;
	e = strchr(h, '/');
	if (!e)
		return ng_errf(err, NG_EINVAL, "%s: no container/blob path in the URL", url);
	if (isdigit((unsigned char)*h) || !strncmp(h, "localhost", 9) || *h == '[') {
		/* path style (Azurite, IP endpoints): /account/container/blob */
		h = e + 1;
		e = strchr(h, '/');
	} else {
		e = strchr(h, '.');
	}
	l = e ? (size_t)(e - h) : 0;
	if (!l || l >= n)
		return ng_errf(err, NG_EINVAL, "%s: cannot tell the storage account from the URL",
			       url);
	memcpy(out, h, l);
	out[l] = 0;
	return 0;
}
