/* blob.c: the volume page blob: Blob requests (Shared Key or bearer), Get
 * Page Ranges, status and the upload (azure-rest.md §1, §8). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../bundle-format/progress.h"
#include "blob_req.h"

static const char *value(const char *line)
{
	const char *c = strchr(line, ':');
	return c ? c + 1 + strspn(c + 1, " ") : "";
}

static const char *hval(const char *const *h, const char *name)
{
	for (size_t n = strlen(name); *h; h++)
		if (!strncasecmp(*h, name, n) && (*h)[n] == ':')
			return value(*h);
	return "";
}

/* The Shared Key string-to-sign (§1.10) of a request with sorted headers. */
static char *string_to_sign(const char *account, const char *method, const char *url,
			    const char *const *headers, size_t body_len)
{
	const char *p = strstr(url, "://") ? strstr(url, "://") + 3 : url;
	const char *path = p + strcspn(p, "/");
	struct buf b;

	buf_init(&b, 0);
	/* VERB, Content-Encoding, -Language, -Length (empty for 0), -MD5, -Type,
	 * Date, If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since,
	 * Range: we send only Content-MD5 and If-(None-)Match of these */
	buf_printf(&b, "%s\n\n\n", method);
	if (body_len)
		buf_printf(&b, "%zu", body_len);
	buf_printf(&b, "\n%s\n\n\n\n%s\n%s\n\n\n", hval(headers, "Content-MD5"),
		   hval(headers, "If-Match"), hval(headers, "If-None-Match"));
	for (const char *const *h = headers; *h; h++) /* lower-case names */
		if (!strncmp(*h, "x-ms-", 5))
			buf_printf(&b, "%.*s:%s\n", (int)strcspn(*h, ":"), *h, value(*h));
	buf_printf(&b, "/%s", account);
	buf_append(&b, path, strcspn(path, "?"));
	/* query parameters as "\nname:value": ours come sorted and unencoded */
	for (const char *q = path + strcspn(path, "?"); *q; q++)
		buf_printf(&b, "%c", *q == '?' || *q == '&' ? '\n' : *q == '=' ? ':' : *q);
	return b.oom ? (buf_free(&b), NULL) : buf_steal(&b);
}

void breq_free(struct breq *r)
{
	OPENSSL_cleanse(r->auth, sizeof(r->auth));
}

/* Canonicalized headers sort by name (§1.10): "x-ms-range" before
 * "x-ms-range-get-content-md5", whatever the values. */
static int name_cmp(const char *a, const char *b)
{
	size_t la = strcspn(a, ":"), lb = strcspn(b, ":");
	int c = strncmp(a, b, la < lb ? la : lb);
	return c ? c : (la > lb) - (la < lb);
}

int breq_add(struct breq *r, const char *fmt, ...)
{
	va_list ap;
	int i = r->n, k = -1;

	if (i < (int)(sizeof(r->hb) / sizeof(r->hb[0]))) {
		va_start(ap, fmt);
		k = vsnprintf(r->hb[i], sizeof(r->hb[i]), fmt, ap);
		va_end(ap);
	}
	if (k < 0 || k >= (int)sizeof(r->hb[0])) /* sticky: blob_call fails */
		return r->bad = NG_ELIMIT;
	for (; i > 0 && name_cmp(r->h[i - 1], r->hb[r->n]) > 0; i--)
		r->h[i] = r->h[i - 1];
	r->h[i] = r->hb[r->n++];
	return 0;
}

int breq_init(struct breq *r, const char *method, const char *url, const char *query)
{
	char date[64], id[37];
	time_t t = time(NULL);
	struct tm tm;

	memset(r, 0, sizeof(*r));
	r->q = (struct http_req){.method = method, .url = r->url, .headers = r->h, .idempotent = 1};
	if (snprintf(r->url, sizeof(r->url), "%s%s%s", url, query ? "?" : "", query ? query : "") >=
	    (int)sizeof(r->url))
		r->bad = NG_ELIMIT;
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
	http_uuid(id);
	breq_add(r, "x-ms-date: %s", date);
	breq_add(r, "x-ms-version: 2025-07-05");
	breq_add(r, "x-ms-client-request-id: %s", id);
	return r->bad;
}

/* Sets r->q's body and Authorization. */
static int breq_sign(struct breq *r, const struct blob_auth *a, const void *body, size_t len,
		     struct ng_err *err)
{
	unsigned char mac[32], b64[48];
	const char *tok;
	char *sts = NULL;
	int rc = 0;

	r->q.body = body;
	r->q.body_len = len;
	r->q.authorization = r->auth;
	if (r->bad)
		rc = ng_errf(err, NG_ELIMIT, "blob: a URL or header is too long");
	else if (a->key && (sts = string_to_sign(a->account, r->q.method, r->url, r->h, len)) &&
		 HMAC(EVP_sha256(), a->key, (int)a->key_len, (unsigned char *)sts, strlen(sts), mac,
		      NULL) &&
		 EVP_EncodeBlock(b64, mac, sizeof(mac)))
		snprintf(r->auth, sizeof(r->auth), "SharedKey %s:%s", a->account, b64);
	else if (a->key)
		rc = ng_errf(err, NG_ECRYPTO, "blob: cannot sign the request");
	else if (!a->cred)
		rc = ng_errf(err, NG_EINVAL, "blob: no credential: give an account key or a token");
	else if (!(rc = az_cred_authorization(a->cred, a->resource, &tok, err)) &&
		 snprintf(r->auth, sizeof(r->auth), "%s", tok) >= (int)sizeof(r->auth))
		rc = ng_errf(err, NG_ELIMIT, "blob: the storage token is too long");
	free(sts);
	return rc;
}

int blob_call(struct http_ctx *http, const struct blob_auth *a, struct breq *r, const void *body,
	      size_t len, struct http_resp *resp, struct ng_err *err)
{
	int rc = breq_sign(r, a, body, len, err);
	if (!rc)
		rc = http_do(http, &r->q, resp, err);
	if (!rc && resp->status == 401 && a->cred) { /* an expired token: one more try */
		az_cred_invalidate(a->cred, a->resource);
		if (!(rc = breq_sign(r, a, body, len, err)))
			rc = http_do(http, &r->q, resp, err);
	}
	return rc;
}

/* Runs r; a status other than want (0: any) fails naming what. */
static int run(struct http_ctx *http, const struct blob_auth *a, struct breq *r, long want,
	       const char *what, struct http_resp *resp, struct ng_err *err)
{
	http_resp_init(resp);
	int rc = blob_call(http, a, r, strcmp(r->q.method, "PUT") ? NULL : "", 0, resp, err);
	if (!rc && want && resp->status != want)
		rc = http_status_err(resp, err, NG_ENET, what);
	breq_free(r);
	return rc;
}

static int push(struct blob_range **r, size_t *n, uint64_t off, uint64_t len, struct ng_err *err)
{
	void *t = realloc(*r, (*n + 1) * sizeof(**r));
	if (!t)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	*r = t;
	(*r)[(*n)++] = (struct blob_range){off, len};
	return 0;
}

/* Appends the <PageRange>s of a Get Page Ranges reply to *r; strict. marker
 * (256 bytes) gets NextMarker, "" if none. */
static int parse_page_list(const char *xml, struct blob_range **r, size_t *n, char *marker,
			   struct ng_err *err)
{
	const char *p = xml;
	char s[20], e[20];
	int k = 0, rc = 0;
	uint64_t o, end;

	for (*marker = 0; !rc && (p = strstr(p, "<PageRange>")); p += k, k = 0) {
		struct blob_range *l = *n ? &(*r)[*n - 1] : NULL;
		if (sscanf(p,
			   "<PageRange> <Start>%19[0-9]</Start> <End>%19[0-9]</End> </PageRange>%n",
			   s, e, &k) != 2 ||
		    !k || (o = strtoull(s, NULL, 10)) % BLOB_PAGE ||
		    (end = strtoull(e, NULL, 10)) < o || (end + 1) % BLOB_PAGE ||
		    (l && o < l->off + l->len))
			return ng_errf(err, NG_EINVAL,
				       "Get Page Ranges: a malformed, unaligned or "
				       "unordered <PageRange> in the reply");
		if (l && o == l->off + l->len)
			l->len += end + 1 - o; /* Azurite lists each write apart */
		else
			rc = push(r, n, o, end + 1 - o, err);
	}
	if ((p = strstr(xml, "<NextMarker>")))
		sscanf(p, "<NextMarker>%255[^<]", marker);
	return rc;
}

int blob_page_ranges(struct http_ctx *http, const struct blob_auth *a, const char *url,
		     struct blob_range **out, size_t *n, struct ng_err *err)
{
	char marker[256] = "", q[300];
	struct breq r;
	struct http_resp resp;
	int rc = 0;

	*out = NULL; /* the caller frees *out, also on failure */
	*n = 0;
	for (int page = 0; !rc && (!page || *marker); page++) {
		/* Azure's markers look like "2!80!MDAw...--": sent and signed as they are */
		if (page > 10000 || strpbrk(marker, "&=#%+ /?"))
			return ng_errf(err, NG_EINVAL,
				       "Get Page Ranges: endless paging or odd marker");
		snprintf(q, sizeof(q), "comp=pagelist%s%s", *marker ? "&marker=" : "", marker);
		breq_init(&r, "GET", url, q);
		if (!(rc = run(http, a, &r, 200, "Get Page Ranges", &resp, err)))
			rc = parse_page_list((char *)resp.body.data, out, n, marker, err);
		http_resp_free(&resp);
	}
	return rc;
}

static void hcopy(const struct http_resp *r, const char *name, char *out, size_t n)
{
	const char *v = http_resp_header(r, name);
	snprintf(out, n, "%s", v ? v : "");
	for (; *out; out++) /* printed in messages */
		*out = isprint((unsigned char)*out) ? *out : '?';
}

int blob_status(struct http_ctx *http, const struct blob_auth *a, const char *url,
		struct blob_state *st, struct ng_err *err)
{
	struct breq r;
	struct http_resp resp;
	char size[24];
	int rc;

	memset(st, 0, sizeof(*st));
	breq_init(&r, "HEAD", url, NULL);
	if (!(rc = run(http, a, &r, 0, "", &resp, err)) && resp.status != 404) {
		if (resp.status != 200)
			rc = http_status_err(&resp, err, NG_ENET, "Get Blob Properties");
		st->exists = 1;
		hcopy(&resp, "Content-Length", size, sizeof(size));
		st->size = strtoull(size, NULL, 10);
		hcopy(&resp, "ETag", st->etag, sizeof(st->etag));
		hcopy(&resp, "Last-Modified", st->last_modified, sizeof(st->last_modified));
		hcopy(&resp, "x-ms-meta-nutapply_state", st->state, sizeof(st->state));
		hcopy(&resp, "x-ms-meta-nutapply_volume", st->volume, sizeof(st->volume));
	}
	http_resp_free(&resp);
	return rc;
}

int blob_account_from_url(const char *url, char *out, size_t n, struct ng_err *err)
{
	const char *h = strstr(url, "://"), *e;

	if (!h || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) ||
	    !(e = strchr(h += 3, '/')))
		return ng_errf(err, NG_EINVAL, "%s: not an http(s) URL of a blob", url);
	if (isdigit((unsigned char)*h) || !strncmp(h, "localhost", 9) || *h == '[') {
		h = e + 1; /* path style (Azurite, IP endpoints): /account/container/blob */
		e = strchr(h, '/');
	} else {
		e = strchr(h, '.');
	}
	if (!e || e == h || (size_t)(e - h) >= n)
		return ng_errf(err, NG_EINVAL, "%s: cannot tell the storage account", url);
	snprintf(out, n, "%.*s", (int)(e - h), h);
	return 0;
}

/* The non-zero pages of the image (its data extents only) as runs, zero
 * gaps under 4 KiB bridged (a request costs more), cut at 4 MiB. */
static int plan(int fd, uint64_t size, struct blob_range **out, size_t *n, struct ng_err *err)
{
	static const uint8_t zero[BLOB_PAGE];
	uint8_t *b = malloc(BLOB_MAX_PUT);
	int rc = b ? 0 : ng_errf(err, NG_ENOMEM, "out of memory");
	ssize_t got = 0;

	*out = NULL;
	*n = 0;
	for (uint64_t pos = 0; !rc && pos < size; pos += (uint64_t)got / BLOB_PAGE * BLOB_PAGE) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
		if ((d < 0 && errno == ENXIO) || d >= (off_t)size)
			break;
		pos = d < 0 ? pos : (uint64_t)d / BLOB_PAGE * BLOB_PAGE;
		got =
		    pread(fd, b, size - pos < BLOB_MAX_PUT ? size - pos : BLOB_MAX_PUT, (off_t)pos);
		if (got < (ssize_t)BLOB_PAGE)
			rc = ng_errf(err, NG_EIO, "volume image: read at %llu failed",
				     (unsigned long long)pos);
		for (size_t i = 0; !rc && i + BLOB_PAGE <= (size_t)got; i += BLOB_PAGE) {
			struct blob_range *l = *n ? &(*out)[*n - 1] : NULL;
			uint64_t o = pos + i;
			if (!memcmp(b + i, zero, BLOB_PAGE))
				continue;
			if (l && o - (l->off + l->len) < 4096 &&
			    o + BLOB_PAGE - l->off <= BLOB_MAX_PUT)
				l->len = o + BLOB_PAGE - l->off;
			else
				rc = push(out, n, o, BLOB_PAGE, err);
		}
	}
	free(b);
	return rc;
}

/* The parts of the ranges w outside the ranges p (both sorted and disjoint),
 * cut at 4 MiB; with np 0, a copy of w. */
static int outside(const struct blob_range *w, size_t nw, const struct blob_range *p, size_t np,
		   struct blob_range **out, size_t *n, struct ng_err *err)
{
	size_t j = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; !rc && i < nw; i++)
		for (uint64_t o = w[i].off, end = o + w[i].len, e; !rc && o < end; o = e) {
			while (j < np && p[j].off + p[j].len <= o)
				j++;
			if (j < np && p[j].off <= o) {
				e = p[j].off + p[j].len;
				continue;
			}
			e = j < np && p[j].off < end ? p[j].off : end;
			e = e - o > BLOB_MAX_PUT ? o + BLOB_MAX_PUT : e;
			rc = push(out, n, o, e - o, err);
		}
	return rc;
}

enum mode { PUT, GET, CLEAR };
static const char *const mode_name[] = {"Put Page", "read back", "clear pages"};

struct up {
	struct http_ctx *http;
	const struct blob_auth *a;
	const char *url, *bundle, *volume;
	char lease[40], len[64]; /* len: Put Blob's x-ms-blob-content-length */
	time_t lease_t;		 /* when the lease was last taken or renewed */
	int fd, par;
	enum mode mode;
	uint64_t size, done;
	struct blob_range *todo;
	size_t n, next, nbad;
	struct slot {
		struct breq r;
		struct blob_range g;
		uint8_t buf[BLOB_MAX_PUT];
	} * slots;
	struct blob_result *res;
};

/* PUT url?query with the header lines after err (NULL-ended), the lease, and
 * for meta 1 or 2 the nutapply_* metadata: state "uploading" on Put Blob,
 * "complete" once every page is there (§8.3). resp may be NULL. */
static int call(struct up *u, const char *query, int meta, long want, const char *what,
		struct http_resp *resp, struct ng_err *err, ...)
{
	struct http_resp local;
	struct breq r;
	const char *h;
	va_list ap;
	int rc;

	breq_init(&r, "PUT", u->url, query);
	va_start(ap, err);
	while ((h = va_arg(ap, const char *)))
		breq_add(&r, "%s", h);
	va_end(ap);
	if (meta) {
		breq_add(&r, "x-ms-meta-nutapply_state: %s", meta == 1 ? "uploading" : "complete");
		breq_add(&r, "x-ms-meta-nutapply_bundle: %s", u->bundle);
		breq_add(&r, "x-ms-meta-nutapply_volume: %s", u->volume);
	}
	if (*u->lease)
		breq_add(&r, "x-ms-lease-id: %s", u->lease);
	rc = run(u->http, u->a, &r, want, what, resp ? resp : &local, err);
	if (!resp)
		http_resp_free(&local);
	return rc;
}

/* §1.8: our 60 s lease, renewed after 40 s (also between parallel calls). */
static int renew(struct up *u, struct ng_err *err)
{
	if (!*u->lease || time(NULL) - u->lease_t < 40)
		return 0;
	u->lease_t = time(NULL);
	return call(u, "comp=lease", 0, 200, "renew the lease", NULL, err,
		    "x-ms-lease-action: renew", NULL);
}

/* Makes the blob ours to write (§8): creates it when absent, takes our own
 * unfinished upload, refuses anything else unless replace. */
static int claim(struct up *u, int replace, struct ng_err *err)
{
	const char *pb = "x-ms-blob-type: PageBlob", *s;
	struct blob_state st;
	struct http_resp resp;
	char h[192], id[37];
	long status;
	int rc, round = 0;

	while (!(rc = blob_status(u->http, u->a, u->url, &st, err)) && !st.exists) {
		rc = call(u, NULL, 1, 0, "", &resp, err, pb, u->len, "If-None-Match: *", NULL);
		status = resp.status;
		/* 409: a retried create that landed, or a racer: look again */
		if (!rc && status != 201 && (status != 409 || ++round == 3))
			rc = http_status_err(&resp, err, NG_ENET, "create page blob");
		http_resp_free(&resp);
		u->res->action = BLOB_CREATED;
		if (rc || status == 201)
			return rc;
	}
	if (rc || (!strcmp(st.volume, u->volume) && st.size == u->size)) {
		u->res->action = strcmp(st.state, "complete") ? BLOB_RESUMED : BLOB_UNCHANGED;
		return rc;
	}
	if (!replace)
		return ng_errf(err, NG_EEXIST,
			       "%s: holds %s%s (state %s, %llu bytes, modified %s): not touching "
			       "it; pass --replace-volume to snapshot and replace it",
			       u->url, *st.volume ? "volume " : "data not made by nutapply",
			       st.volume, *st.state ? st.state : "none",
			       (unsigned long long)st.size, st.last_modified);
	/* §8.2: lease, snapshot, replace under If-Match and the lease, which
	 * every later write carries until the caller releases it */
	http_uuid(id);
	snprintf(h, sizeof(h), "x-ms-proposed-lease-id: %s", id);
	if ((rc = call(u, "comp=lease", 0, 201, "lease the blob (another writer?)", NULL, err,
		       "x-ms-lease-action: acquire", "x-ms-lease-duration: 60", h, NULL)))
		return rc;
	memcpy(u->lease, id, sizeof(id));
	u->lease_t = time(NULL);
	if (!(rc = call(u, "comp=snapshot", 0, 201, "snapshot", &resp, err, NULL))) {
		s = http_resp_header(&resp, "x-ms-snapshot");
		snprintf(u->res->snapshot, sizeof(u->res->snapshot), "%s", s ? s : "");
		if (!*u->res->snapshot)
			rc = ng_errf(err, NG_ENET, "%s: no x-ms-snapshot in the reply", u->url);
	}
	http_resp_free(&resp);
	snprintf(h, sizeof(h), "If-Match: %s", st.etag);
	if (!rc &&
	    !(rc = call(u, NULL, 1, 201, "replace page blob", NULL, err, pb, u->len, h, NULL)))
		u->res->action = BLOB_REPLACED;
	return rc;
}

/* One Put Page (Content-MD5 of the image there), clear, or ranged Get. */
static int req_next(void *arg, int slot, struct http_req *q, struct ng_err *err)
{
	struct up *u = arg;
	struct slot *sl = &u->slots[slot];
	const struct blob_range *g = &sl->g;
	unsigned char md5[16], b64[28];
	int rc;

	if (u->next >= u->n)
		return 0;
	if ((rc = renew(u, err)))
		return rc;
	sl->g = u->todo[u->next++];
	if (u->mode != CLEAR && pread(u->fd, sl->buf, g->len, (off_t)g->off) != (ssize_t)g->len)
		return ng_errf(err, NG_EIO, "volume image: read at %llu failed",
			       (unsigned long long)g->off);
	breq_init(&sl->r, u->mode == GET ? "GET" : "PUT", u->url,
		  u->mode == GET ? NULL : "comp=page");
	breq_add(&sl->r, "x-ms-range: bytes=%llu-%llu", (unsigned long long)g->off,
		 (unsigned long long)(g->off + g->len - 1));
	if (*u->lease)
		breq_add(&sl->r, "x-ms-lease-id: %s", u->lease);
	if (u->mode == PUT) {
		EVP_Digest(sl->buf, g->len, md5, NULL, EVP_md5(), NULL);
		EVP_EncodeBlock(b64, md5, sizeof(md5));
		breq_add(&sl->r, "Content-MD5: %s", b64);
	}
	if (u->mode != GET)
		breq_add(&sl->r, "x-ms-page-write: %s", u->mode == PUT ? "update" : "clear");
	if ((rc = breq_sign(&sl->r, u->a, u->mode == PUT ? sl->buf : NULL,
			    u->mode == PUT ? g->len : 0, err)))
		return rc;
	*q = sl->r.q;
	q->max_response = g->len;
	return 1;
}

/* A range read back unlike the image goes to todo[nbad++]: nbad <= the
 * calls done < next, so no call still to start reads it. */
static int req_done(void *arg, int slot, const struct http_resp *resp, struct ng_err *err)
{
	struct up *u = arg;
	struct slot *sl = &u->slots[slot];
	char what[80];
	int rc = renew(u, err);

	breq_free(&sl->r);
	snprintf(what, sizeof(what), "%s bytes %llu-%llu", mode_name[u->mode],
		 (unsigned long long)sl->g.off, (unsigned long long)(sl->g.off + sl->g.len - 1));
	if (!rc && resp->status != (u->mode == GET ? 206 : 201))
		rc = http_status_err(resp, err, NG_ENET, what);
	if (rc)
		return rc;
	if (u->mode == PUT)
		u->res->put_bytes += sl->g.len;
	if (u->mode == GET &&
	    (resp->body.len != sl->g.len || memcmp(resp->body.data, sl->buf, sl->g.len)))
		u->todo[u->nbad++] = sl->g;
	progress_update(u->done += sl->g.len);
	return 0;
}

static int phase(struct up *u, enum mode mode, struct blob_range *list, size_t n,
		 struct ng_err *err)
{
	uint64_t total = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		total += list[i].len;
	u->mode = mode;
	u->todo = list;
	u->n = n;
	u->next = u->nbad = 0;
	u->done = 0;
	progress_begin(mode_name[mode], total);
	rc = n ? http_multi_run(u->http, u->par, req_next, req_done, u, err) : 0;
	progress_end();
	return rc;
}

/* §8.3-8.4: every planned range read back equal to the image (a differing
 * one sent again, once), and no page written outside the plan. */
static int verify(struct up *u, const struct blob_range *pl, size_t np, struct ng_err *err)
{
	struct blob_range *todo, *srv = NULL, *out = NULL;
	size_t n, ns, no = 0;
	int rc = outside(pl, np, NULL, 0, &todo, &n, err);

	for (int round = 0; !rc && n; round++) {
		if ((rc = phase(u, GET, todo, n, err)) || !(n = u->nbad))
			break;
		if (round)
			rc = ng_errf(err, NG_EVERIFY,
				     "%s: bytes %llu-%llu read back differ from the image after "
				     "sending them again: not marking the volume complete",
				     u->url, (unsigned long long)todo[0].off,
				     (unsigned long long)(todo[0].off + todo[0].len - 1));
		else
			rc = phase(u, PUT, todo, n, err);
	}
	if (!rc && !(rc = blob_page_ranges(u->http, u->a, u->url, &srv, &ns, err)) &&
	    !(rc = outside(srv, ns, pl, np, &out, &no, err)) && no)
		rc = ng_errf(err, NG_EVERIFY,
			     "%s: pages at %llu are written but not in the image's plan: not "
			     "marking the volume complete",
			     u->url, (unsigned long long)out[0].off);
	free(todo);
	free(srv);
	free(out);
	return rc;
}

int blob_upload_volume(struct http_ctx *http, const struct blob_auth *auth, const char *url,
		       const char *image_path, const char *bundle_id, const char *volume_id,
		       const struct blob_opts *opts, struct blob_result *res, struct ng_err *err)
{
	struct up u = {http, auth, url, bundle_id, volume_id, .res = res};
	struct blob_range *pl = NULL, *srv = NULL, *todo = NULL, *stale = NULL;
	size_t np = 0, ns = 0, nt = 0, nst = 0;
	struct stat sb = {0};
	int rc = 0;

	memset(res, 0, sizeof(*res));
	u.par = opts && opts->parallel > 0 ? (opts->parallel < 64 ? opts->parallel : 64) : 8;
	if ((u.fd = open(image_path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(u.fd, &sb) ||
	    !sb.st_size || sb.st_size % BLOB_PAGE)
		rc = ng_errf(err, NG_EIO, "%s: not a volume image (a multiple of 512 bytes)",
			     image_path);
	u.size = (uint64_t)sb.st_size;
	snprintf(u.len, sizeof(u.len), "x-ms-blob-content-length: %llu",
		 (unsigned long long)u.size);
	if (!rc && !(u.slots = calloc((size_t)u.par, sizeof(*u.slots))))
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	if (!rc)
		rc = plan(u.fd, u.size, &pl, &np, err);
	/* resumed: send only what Get Page Ranges lacks, clear what the plan
	 * does not hold; the read-back checks it all */
	if (rc || (rc = claim(&u, opts && opts->replace, err)) || res->action == BLOB_UNCHANGED ||
	    (res->action == BLOB_RESUMED &&
	     (rc = blob_page_ranges(http, auth, url, &srv, &ns, err))) ||
	    (rc = outside(pl, np, srv, ns, &todo, &nt, err)) ||
	    (rc = outside(srv, ns, pl, np, &stale, &nst, err)))
		goto out;
	if (!(rc = phase(&u, PUT, todo, nt, err)) && !(rc = phase(&u, CLEAR, stale, nst, err)) &&
	    !(rc = verify(&u, pl, np, err)))
		rc = call(&u, "comp=metadata", 2, 200, "set metadata", NULL, err, NULL);
out:
	if (*u.lease) /* else it expires within 60 s */
		call(&u, "comp=lease", 0, 200, "release", NULL, &(struct ng_err){0},
		     "x-ms-lease-action: release", NULL);
	if (u.fd >= 0)
		close(u.fd);
	free(u.slots);
	free(pl);
	free(srv);
	free(todo);
	free(stale);
	return rc;
}
