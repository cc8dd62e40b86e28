/* blob_upload.c: the volume upload and its safety rules (blob.h;
 * azure-rest.md §1.2-1.8, §7, §8). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/progress.h"
#include "blob.h"
#include "blob_req.h"

#define LEASE_S	    60
#define LEASE_RENEW 40
#define PLAN_GAP    4096 /* zero gaps shorter than this are sent, not split */

/* --- the plan --- */

static int push(struct blob_range **r, size_t *n, size_t *cap, uint64_t off, uint64_t len)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *t = realloc(*r, nc * sizeof(**r));
		if (!t)
			return NG_ENOMEM;
		*r = t;
		*cap = nc;
	}
	(*r)[*n].off = off;
	(*r)[(*n)++].len = len;
	return 0;
}

static int page_zero(const uint8_t *p)
{
	static const uint8_t z[BLOB_PAGE];
	return !memcmp(p, z, BLOB_PAGE);
}

int blob_plan(int fd, uint64_t size, uint64_t chunk, uint64_t gap, struct blob_range **out,
	      size_t *n, uint64_t *nonzero, struct ng_err *err)
{
	const size_t bsz = 1u << 20;
	uint8_t *b = malloc(bsz);
	struct blob_range *runs = NULL;
	size_t nr = 0, cap = 0, no = 0, capo = 0;
	uint64_t nz = 0, pos = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	*nonzero = 0;
	if (!b || size % BLOB_PAGE || !chunk || chunk % BLOB_PAGE) {
		free(b);
		return ng_errf(err, b ? NG_EINVAL : NG_ENOMEM, "blob plan: bad arguments");
	}
	/* 1. runs of non-zero pages inside the file's data extents */
	while (pos < size && !rc) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA), h;
		if (d < 0 && errno == ENXIO)
			break;
		if (d < 0) /* no SEEK_DATA on this file system: read it all */
			d = (off_t)pos;
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > size)
			h = (off_t)size;
		uint64_t s = (uint64_t)d / BLOB_PAGE * BLOB_PAGE;
		uint64_t e = ((uint64_t)h + BLOB_PAGE - 1) / BLOB_PAGE * BLOB_PAGE;
		if (e > size)
			e = size;
		for (uint64_t o = s; o < e && !rc;) {
			size_t want = e - o < bsz ? (size_t)(e - o) : bsz;
			ssize_t got = pread(fd, b, want, (off_t)o);
			if (got <= 0) {
				rc = ng_errf(err, NG_EIO, "volume image: read at %llu: %s",
					     (unsigned long long)o,
					     got < 0 ? strerror(errno) : "file shrank");
				break;
			}
			got = got / BLOB_PAGE * BLOB_PAGE;
			if (!got) {
				rc = ng_errf(err, NG_EIO, "volume image: short read");
				break;
			}
			for (ssize_t i = 0; i < got; i += BLOB_PAGE) {
				if (page_zero(b + i))
					continue;
				uint64_t po = o + (uint64_t)i;
				nz += BLOB_PAGE;
				if (nr && po - (runs[nr - 1].off + runs[nr - 1].len) <= gap)
					runs[nr - 1].len = po + BLOB_PAGE - runs[nr - 1].off;
				else if (push(&runs, &nr, &cap, po, BLOB_PAGE))
					rc = ng_errf(err, NG_ENOMEM, "out of memory");
			}
			o += (uint64_t)got;
		}
		pos = e > (uint64_t)d ? e : (uint64_t)d + BLOB_PAGE;
	}
	free(b);
	/* 2. cut runs into Put Page sized pieces */
	for (size_t i = 0; i < nr && !rc; i++)
		for (uint64_t o = 0; o < runs[i].len && !rc; o += chunk) {
			uint64_t l = runs[i].len - o < chunk ? runs[i].len - o : chunk;
			if (push(out, &no, &capo, runs[i].off + o, l))
				rc = ng_errf(err, NG_ENOMEM, "out of memory");
		}
	free(runs);
	if (rc) {
		free(*out);
		*out = NULL;
		return rc;
	}
	*n = no;
	*nonzero = nz;
	return 0;
}

/* --- the parallel phases --- */

enum phase { PH_PUT, PH_VERIFY, PH_CLEAR };

struct up {
	struct http_ctx *http;
	const struct blob_auth *a;
	const char *url;
	int fd;
	enum phase ph;
	const struct blob_range *todo;
	size_t ntodo, next;
	int parallel;
	uint8_t **bufs;
	struct breq *reqs;
	size_t *slot_idx;
	struct blob_range *bad;
	size_t nbad, capbad;
	char lease[40];
	double lease_t;
	struct blob_result *res;
	uint64_t progress;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int lease_op(struct up *u, const char *action, struct ng_err *err);

static int up_next(void *arg, int slot, struct http_req *q, struct ng_err *err)
{
	struct up *u = arg;
	struct breq *r = &u->reqs[slot];
	const struct blob_range *g;
	int rc;

	if (u->next >= u->ntodo)
		return 0;
	if (u->lease[0] && mono() - u->lease_t > LEASE_RENEW && (rc = lease_op(u, "renew", err)))
		return rc;
	g = &u->todo[u->next];
	u->slot_idx[slot] = u->next++;
	breq_free(r);
	if (breq_init(r, u->ph == PH_VERIFY ? "GET" : "PUT", u->url,
		      u->ph == PH_VERIFY ? NULL : "comp=page"))
		return ng_errf(err, NG_ENOMEM, "out of memory");
	breq_add(r, "x-ms-range: bytes=%llu-%llu", (unsigned long long)g->off,
		 (unsigned long long)(g->off + g->len - 1));
	if (u->lease[0])
		breq_add(r, "x-ms-lease-id: %s", u->lease);
	if (u->ph != PH_CLEAR) {
		ssize_t got = pread(u->fd, u->bufs[slot], g->len, (off_t)g->off);
		if (got != (ssize_t)g->len)
			return ng_errf(err, NG_EIO, "volume image: read at %llu failed",
				       (unsigned long long)g->off);
	}
	if (u->ph == PH_PUT) {
		unsigned char md5[16];
		unsigned int ml = 0;
		EVP_Digest(u->bufs[slot], g->len, md5, &ml, EVP_md5(), NULL);
		char *b64 = base64_encode(md5, ml);
		if (!b64)
			return ng_errf(err, NG_ENOMEM, "out of memory");
		breq_add(r, "x-ms-page-write: update");
		breq_add(r, "Content-MD5: %s", b64);
		free(b64);
	} else if (u->ph == PH_CLEAR) {
		breq_add(r, "x-ms-page-write: clear");
	}
	size_t body = u->ph == PH_PUT ? g->len : 0;
	if ((rc = breq_sign(r, u->a, body, err)))
		return rc;
	breq_fill(r, q, u->ph == PH_PUT ? u->bufs[slot] : NULL, body, 1);
	if (u->ph == PH_VERIFY)
		q->max_response = g->len;
	return 1;
}

static int up_done(void *arg, int slot, const struct http_resp *resp, struct ng_err *err)
{
	struct up *u = arg;
	const struct blob_range *g = &u->todo[u->slot_idx[slot]];
	char what[96];
	int rc;

	/* renew here too: the last calls of a phase make no next() call */
	if (u->lease[0] && mono() - u->lease_t > LEASE_RENEW && (rc = lease_op(u, "renew", err)))
		return rc;

	snprintf(what, sizeof(what), "%s bytes %llu-%llu",
		 u->ph == PH_VERIFY ? "read back"
		 : u->ph == PH_PUT  ? "Put Page"
				    : "clear pages",
		 (unsigned long long)g->off, (unsigned long long)(g->off + g->len - 1));
	if (u->ph == PH_VERIFY) {
		if (resp->status != 206 && resp->status != 200)
			return http_status_err(resp, err, NG_ENET, what);
		uint8_t h1[SHA256_LEN], h2[SHA256_LEN];
		sha256(u->bufs[slot], g->len, h1);
		sha256(resp->body.data, resp->body.len, h2);
		if (resp->body.len != g->len || memcmp(h1, h2, SHA256_LEN)) {
			if (push(&u->bad, &u->nbad, &u->capbad, g->off, g->len))
				return ng_errf(err, NG_ENOMEM, "out of memory");
		}
		u->res->verified_ranges++;
	} else {
		if (resp->status != 201)
			return http_status_err(resp, err, NG_ENET, what);
		if (u->ph == PH_PUT) {
			u->res->put_calls++;
			u->res->put_bytes += g->len;
			u->res->sent_bytes += resp->sent_bytes;
		} else {
			u->res->cleared_ranges++;
		}
	}
	u->progress += g->len;
	progress_update(u->progress);
	return 0;
}

static int run_phase(struct up *u, enum phase ph, const struct blob_range *todo, size_t n,
		     const char *label, struct ng_err *err)
{
	u->ph = ph;
	u->todo = todo;
	u->ntodo = n;
	u->next = 0;
	if (!n)
		return 0;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += todo[i].len;
	u->progress = 0;
	progress_begin(label, total);
	int rc = http_multi_run(u->http, u->parallel, up_next, up_done, u, err);
	progress_end();
	return rc;
}

/* --- single calls --- */

static int simple(struct up *u, const char *method, const char *query, const char *const *extra,
		  long want, const char *what, struct http_resp *resp, struct ng_err *err)
{
	struct breq r;
	int rc;

	http_resp_init(resp);
	if (breq_init(&r, method, u->url, query))
		return ng_errf(err, NG_ENOMEM, "out of memory");
	for (; extra && *extra; extra++)
		breq_add(&r, "%s", *extra);
	rc = blob_call(u->http, u->a, &r, "", 0, resp, err);
	breq_free(&r);
	if (!rc && want && resp->status != want)
		rc = http_status_err(resp, err, resp->status == 409 ? NG_EEXIST : NG_ENET, what);
	return rc;
}

static int lease_op(struct up *u, const char *action, struct ng_err *err)
{
	char h1[64], h2[80], h3[64];
	const char *ex[4] = {h1, h2, NULL, NULL};
	struct http_resp resp;
	int acquire = !strcmp(action, "acquire"), rc;

	snprintf(h1, sizeof(h1), "x-ms-lease-action: %s", action);
	if (acquire) {
		http_uuid(u->lease);
		snprintf(h2, sizeof(h2), "x-ms-proposed-lease-id: %s", u->lease);
		snprintf(h3, sizeof(h3), "x-ms-lease-duration: %d", LEASE_S);
		ex[2] = h3;
	} else {
		snprintf(h2, sizeof(h2), "x-ms-lease-id: %s", u->lease);
	}
	rc = simple(u, "PUT", "comp=lease", ex, acquire ? 201 : 200, "lease", &resp, err);
	http_resp_free(&resp);
	if (rc && acquire) {
		u->lease[0] = 0;
		return ng_err_prefix(err, rc, "%s: cannot lease the blob (another writer?)",
				     u->url);
	}
	u->lease_t = mono();
	return rc;
}

static int put_blob(struct up *u, uint64_t size, const char *cond, const char *bundle,
		    const char *volume, struct http_resp *resp, struct ng_err *err)
{
	char h[6][200];
	const char *ex[8] = {0};
	int k = 0;

	snprintf(h[k], 200, "x-ms-blob-type: PageBlob"), ex[k] = h[k], k++;
	snprintf(h[k], 200, "x-ms-blob-content-length: %llu", (unsigned long long)size),
	    ex[k] = h[k], k++;
	snprintf(h[k], 200, "%s", cond), ex[k] = h[k], k++;
	snprintf(h[k], 200, "x-ms-meta-nutapply_state: uploading"), ex[k] = h[k], k++;
	snprintf(h[k], 200, "x-ms-meta-nutapply_bundle: %s", bundle), ex[k] = h[k], k++;
	snprintf(h[k], 200, "x-ms-meta-nutapply_volume: %s", volume), ex[k] = h[k], k++;
	if (u->lease[0]) {
		static char lh[64];
		snprintf(lh, sizeof(lh), "x-ms-lease-id: %s", u->lease);
		ex[k++] = lh;
	}
	return simple(u, "PUT", NULL, ex, 0, "create page blob", resp, err);
}

static int covered(const struct blob_range *s, size_t n, uint64_t off, uint64_t len)
{
	size_t lo = 0, hi = n;
	while (lo < hi) { /* last range starting at or before off */
		size_t mid = (lo + hi) / 2;
		if (s[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && s[lo - 1].off + s[lo - 1].len >= off + len;
}

static int valid_id(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 128)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._:-", *s))
			return 0;
	return 1;
}

/* Pages on the server outside the plan (stale data from an earlier image)
 * must be cleared, not left (azure-rest.md §7.3). */
static int stale_pages(const struct blob_range *srv, size_t ns, const struct blob_range *plan,
		       size_t np, struct blob_range **out, size_t *n)
{
	size_t cap = 0, j = 0;
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < ns; i++) {
		uint64_t o = srv[i].off, e = srv[i].off + srv[i].len;
		while (o < e) {
			while (j < np && plan[j].off + plan[j].len <= o)
				j++;
			uint64_t ps = j < np ? plan[j].off : e;
			if (ps > o) {
				uint64_t ce = ps < e ? ps : e;
				if (push(out, n, &cap, o, ce - o))
					return NG_ENOMEM;
				o = ce;
			} else {
				o = plan[j].off + plan[j].len;
			}
		}
	}
	return 0;
}

/* Looks at the blob and makes it ours to write (§8): creates it when
 * absent, accepts our own unfinished upload, refuses anything else unless
 * replace (then lease, snapshot, recreate under If-Match + lease). Sets
 * res->action; BLOB_UNCHANGED means there is nothing to do. */
static int claim(struct up *u, const char *bundle_id, const char *volume_id,
		 const struct blob_opts *opts, struct ng_err *err)
{
	struct blob_result *res = u->res;
	struct blob_state st;
	int rc;

	for (int round = 0;; round++) {
		struct http_resp resp;
		if ((rc = blob_head(u->http, u->a, u->url, &st, err)))
			return rc;
		if (!st.exists) {
			rc = put_blob(u, res->image_size, "If-None-Match: *", bundle_id, volume_id,
				      &resp, err);
			long s = resp.status;
			if (!rc && s != 201 && !(s == 409 && round < 2))
				rc = http_status_err(&resp, err, NG_ENET, "create page blob");
			http_resp_free(&resp);
			if (rc)
				return rc;
			if (s == 409) /* a retried create that landed, or a racing writer */
				continue;
			res->action = BLOB_CREATED;
			return 0;
		}
		if (!strcmp(st.volume, volume_id) && st.size == res->image_size) {
			if (!strcmp(st.state, "complete")) {
				res->action = BLOB_UNCHANGED;
				return 0;
			}
			res->action = BLOB_RESUMED;
			return 0;
		}
		if (!opts || !opts->replace) {
			rc =
			    ng_errf(err, NG_EEXIST,
				    "%s: holds %s%s (state %s, %llu bytes, modified %s): not "
				    "touching it; pass --replace-volume to snapshot and replace it",
				    u->url, st.volume[0] ? "volume " : "data not made by nutapply",
				    st.volume, st.state[0] ? st.state : "none",
				    (unsigned long long)st.size, st.last_modified);
			return rc;
		}
		/* §8: lease, snapshot, replace under If-Match + lease */
		if ((rc = lease_op(u, "acquire", err)))
			return rc;
		char lh[64], ifm[160];
		const char *ex[] = {lh, NULL};
		snprintf(lh, sizeof(lh), "x-ms-lease-id: %s", u->lease);
		if ((rc = simple(u, "PUT", "comp=snapshot", ex, 201, "snapshot", &resp, err))) {
			http_resp_free(&resp);
			return rc;
		}
		const char *snap = http_resp_header(&resp, "x-ms-snapshot");
		snprintf(res->snapshot, sizeof(res->snapshot), "%s", snap ? snap : "");
		http_resp_free(&resp);
		if (!res->snapshot[0]) {
			rc = ng_errf(err, NG_ENET,
				     "%s: snapshot reply has no x-ms-snapshot: not "
				     "replacing the blob",
				     u->url);
			return rc;
		}
		snprintf(ifm, sizeof(ifm), "If-Match: %s", st.etag);
		rc = put_blob(u, res->image_size, ifm, bundle_id, volume_id, &resp, err);
		if (!rc && resp.status != 201)
			rc = http_status_err(&resp, err, NG_ENET, "replace page blob");
		http_resp_free(&resp);
		if (rc)
			return rc;
		res->action = BLOB_REPLACED;
		return 0;
	}
}

int blob_upload_volume(struct http_ctx *http, const struct blob_auth *auth, const char *url,
		       const char *image_path, const char *bundle_id, const char *volume_id,
		       const struct blob_opts *opts, struct blob_result *res, struct ng_err *err)
{
	struct up u = {0};
	struct blob_range *plan = NULL, *srv = NULL, *todo = NULL, *stale = NULL;
	size_t np = 0, ns = 0, nt = 0, nst = 0;
	struct stat sb;
	int rc = 0, created = 0;
	size_t chunk = opts && opts->chunk ? opts->chunk : BLOB_MAX_PUT;

	memset(res, 0, sizeof(*res));
	u.http = http;
	u.a = auth;
	u.url = url;
	u.res = res;
	u.parallel = opts && opts->parallel > 0 ? opts->parallel : 8;
	u.fd = -1;
	if (u.parallel > 64)
		u.parallel = 64;
	if (chunk % BLOB_PAGE || chunk > BLOB_MAX_PUT)
		return ng_errf(err, NG_EINVAL, "chunk %zu: must be a multiple of 512 up to 4 MiB",
			       chunk);
	if (!valid_id(bundle_id) || !valid_id(volume_id))
		return ng_errf(err, NG_EINVAL,
			       "bundle/volume id: 1-128 characters of letters, digits, '.', '_', "
			       "':' or '-'");
	u.fd = open(image_path, O_RDONLY | O_CLOEXEC);
	if (u.fd < 0 || fstat(u.fd, &sb) || !S_ISREG(sb.st_mode)) {
		rc = ng_errf(err, NG_EIO, "%s: %s: give the volume image file", image_path,
			     u.fd < 0 ? strerror(errno) : "not a regular file");
		goto out;
	}
	res->image_size = (uint64_t)sb.st_size;
	if (!sb.st_size || sb.st_size % BLOB_PAGE || (uint64_t)sb.st_size > BLOB_MAX_IMAGE) {
		rc = ng_errf(err, NG_EINVAL,
			     "%s: size %lld is not a non-zero multiple of 512 up to 1 TiB: not a "
			     "volume image",
			     image_path, (long long)sb.st_size);
		goto out;
	}
	if ((rc = blob_plan(u.fd, res->image_size, chunk, PLAN_GAP, &plan, &np, &res->nonzero_bytes,
			    err)))
		goto out;
	res->ranges = np;

	if ((rc = claim(&u, bundle_id, volume_id, opts, err)) || res->action == BLOB_UNCHANGED)
		goto out;
	created = res->action != BLOB_RESUMED;

	/* what to send: all of the plan for a new blob; for a resumed one, the
	 * ranges not yet on the server (those that are get read back below) */
	if (!created) {
		if ((rc = blob_page_ranges(http, auth, url, &srv, &ns, err)))
			goto out;
		todo = malloc((np + 1) * sizeof(*todo));
		if (!todo) {
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < np; i++)
			if (!covered(srv, ns, plan[i].off, plan[i].len))
				todo[nt++] = plan[i];
		if (stale_pages(srv, ns, plan, np, &stale, &nst)) {
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
			goto out;
		}
	}
	u.bufs = calloc((size_t)u.parallel, sizeof(*u.bufs));
	u.reqs = calloc((size_t)u.parallel, sizeof(*u.reqs));
	u.slot_idx = calloc((size_t)u.parallel, sizeof(*u.slot_idx));
	if (!u.bufs || !u.reqs || !u.slot_idx) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < u.parallel; i++)
		if (!(u.bufs[i] = malloc(chunk))) {
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
			goto out;
		}
	if ((rc = run_phase(&u, PH_PUT, created ? plan : todo, created ? np : nt, "upload", err)) ||
	    (rc = run_phase(&u, PH_CLEAR, stale, nst, "clear", err)) ||
	    (rc = run_phase(&u, PH_VERIFY, plan, np, "verify", err)))
		goto out;
	if (u.nbad) { /* a page differs: send it again, once */
		struct blob_range *bad = u.bad;
		size_t nb = u.nbad;
		u.bad = NULL;
		u.nbad = u.capbad = 0;
		rc = run_phase(&u, PH_PUT, bad, nb, "upload", err);
		if (!rc)
			rc = run_phase(&u, PH_VERIFY, bad, nb, "verify", err);
		free(bad);
		if (!rc && u.nbad)
			rc = ng_errf(err, NG_EVERIFY,
				     "%s: %zu range(s) read back differ from the image after a "
				     "rewrite: not marking the volume complete",
				     url, u.nbad);
		if (rc)
			goto out;
	}
	/* the server must hold no page outside the plan */
	free(srv);
	srv = NULL;
	if ((rc = blob_page_ranges(http, auth, url, &srv, &ns, err)))
		goto out;
	free(stale);
	stale = NULL;
	if (stale_pages(srv, ns, plan, np, &stale, &nst)) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto out;
	}
	if (nst) {
		rc = ng_errf(err, NG_EVERIFY,
			     "%s: pages outside the image are written at offset %llu: not "
			     "marking the volume complete",
			     url, (unsigned long long)stale[0].off);
		goto out;
	}
	{
		char h[4][200];
		const char *ex[5] = {h[0], h[1], h[2], NULL, NULL};
		struct http_resp resp;
		snprintf(h[0], 200, "x-ms-meta-nutapply_state: complete");
		snprintf(h[1], 200, "x-ms-meta-nutapply_bundle: %s", bundle_id);
		snprintf(h[2], 200, "x-ms-meta-nutapply_volume: %s", volume_id);
		if (u.lease[0]) {
			snprintf(h[3], 200, "x-ms-lease-id: %s", u.lease);
			ex[3] = h[3];
		}
		rc = simple(&u, "PUT", "comp=metadata", ex, 200, "set metadata", &resp, err);
		http_resp_free(&resp);
	}
out:
	if (u.lease[0]) {
		struct ng_err e2;
		lease_op(&u, "release", &e2); /* else it expires within 60 s */
	}
	if (u.fd >= 0)
		close(u.fd);
	for (int i = 0; u.bufs && i < u.parallel; i++)
		free(u.bufs[i]);
	for (int i = 0; u.reqs && i < u.parallel; i++)
		breq_free(&u.reqs[i]);
	free(u.bufs);
	free(u.reqs);
	free(u.slot_idx);
	free(u.bad);
	free(plan);
	free(srv);
	free(todo);
	free(stale);
	return rc;
}
