/* tarsparse.c: GNU sparse entries as Go's archive/tar expands them (old GNU
 * 'S' headers, PAX 0.0/0.1/1.0; go1.23 reader.go handleSparseFile,
 * sparseFileReader): holes read as zeros, the dense stream is what
 * tar2ext4 writes into the file. */
#include <stdlib.h>
#include <string.h>

#include "tarstream_int.h"

static int pax_is(const struct tar_reader *tr, const char *key, const char *val)
{
	const struct tar_pax *r = tar_pax_get(tr, key);
	const char *v = r ? (const char *)r->val : "";

	return !strcmp(v, val);
}

/* go:reader.go handleSparseFile / readGNUSparsePAXHeaders: which entries Go
 * would expand as sparse files. */
int tar_is_sparse(const struct tar_reader *tr, const struct tar_hdr *h)
{
	if (h->typeflag == 'S')
		return 1;
	if (pax_is(tr, "GNU.sparse.major", "0") &&
	    (pax_is(tr, "GNU.sparse.minor", "0") || pax_is(tr, "GNU.sparse.minor", "1")))
		return 1;
	if (pax_is(tr, "GNU.sparse.major", "1") && pax_is(tr, "GNU.sparse.minor", "0"))
		return 1;
	if (!pax_is(tr, "GNU.sparse.major", "") || !pax_is(tr, "GNU.sparse.minor", ""))
		return 0; /* unknown version: a plain file to Go */
	return !pax_is(tr, "GNU.sparse.map", "") || tar_pax_get(tr, "GNU.sparse.offset") ||
	       tar_pax_get(tr, "GNU.sparse.numbytes");
}

static const struct tar_pax *rec(const struct tar_reader *tr, const char *key)
{
	const struct tar_pax *r = tar_pax_get(tr, key);
	return r && r->val_len ? r : NULL;
}

static int bad(struct tar_reader *tr, const char *why, struct ng_err *err)
{
	return ng_errf(err, NG_EINVAL, "%s: %s: invalid sparse file header (%s)", tr->name,
		       tr->hname, why);
}

static int add_frag(struct tar_reader *tr, int64_t off, int64_t len, size_t *cap,
		    struct ng_err *err)
{
	if (tr->nfrags == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct tar_frag *p = realloc(tr->frags, nc * sizeof(*p));
		if (!p)
			return ng_errf(err, NG_ENOMEM, "out of memory");
		tr->frags = p;
		*cap = nc;
	}
	tr->frags[tr->nfrags++] = (struct tar_frag){off, len};
	return 0;
}

/* go:reader.go readOldGNUSparseMap: 4 entries in the header, 21 in each
 * extension block, which come before the data. */
static int old_gnu_map(struct tar_reader *tr, struct tar_hdr *h, struct ng_err *err)
{
	uint8_t *b = tr->blk;
	const uint8_t *ents = b + 386;
	int nent = 4, ext = b[482], pbad = 0, rc;
	size_t cap = 0, got;

	if (tr->fmt != FMT_GNU)
		return bad(tr, "type S outside a GNU header", err);
	h->size = tar_parse_numeric(b + 483, 12, &pbad);
	if (pbad)
		return bad(tr, "real size", err);
	for (;;) {
		for (int i = 0; i < nent; i++) {
			const uint8_t *e = ents + 24 * i;
			int64_t off, len;
			if (e[0] == 0)
				break;
			off = tar_parse_numeric(e, 12, &pbad);
			len = tar_parse_numeric(e + 12, 12, &pbad);
			if (pbad)
				return bad(tr, "map entry", err);
			if ((rc = add_frag(tr, off, len, &cap, err)) < 0)
				return rc;
		}
		if (!ext)
			return 0;
		if ((rc = tar_read_full(tr, b, BLK, &got, err)) < 0)
			return rc;
		if (got < BLK)
			return tar_unexpected_eof(tr, err);
		ents = b;
		nent = 21;
		ext = b[504];
	}
}

static int parse_pair_list(struct tar_reader *tr, const char *s, int64_t want, size_t *cap,
			   struct ng_err *err)
{
	int64_t vals[2];
	int k = 0, rc;

	if (*s == 0)
		return want == 0 ? 0 : bad(tr, "map length", err);
	for (;;) {
		const char *c = strchr(s, ',');
		size_t n = c ? (size_t)(c - s) : strlen(s);
		if (tar_parse_dec((const uint8_t *)s, n, &vals[k]) < 0)
			return bad(tr, "map entry", err);
		if (++k == 2) {
			if ((int64_t)tr->nfrags >= want)
				return bad(tr, "map length", err);
			if ((rc = add_frag(tr, vals[0], vals[1], cap, err)) < 0)
				return rc;
			k = 0;
		}
		if (!c)
			break;
		s = c + 1;
	}
	return k == 0 && (int64_t)tr->nfrags == want ? 0 : bad(tr, "map length", err);
}

/* go:reader.go readGNUSparseMap1x0: decimal lines at the start of the data,
 * read in whole blocks. */
static int map_1x0(struct tar_reader *tr, size_t *cap, struct ng_err *err)
{
	char *buf = NULL, *p;
	size_t len = 0, alloc = 0, lines = 0, got;
	int64_t n = -1, vals[2];
	int k = 0, rc = 0;

	for (;;) {
		/* need 1 line for the count, then 2 per entry */
		size_t need = n < 0 ? 1 : 1 + 2 * (size_t)n;
		if (lines >= need)
			break;
		if (tr->data_left < BLK) {
			rc = tar_unexpected_eof(tr, err);
			goto out;
		}
		if (len + BLK + 1 > alloc) {
			char *q = realloc(buf, alloc = alloc ? alloc * 2 : 4096);
			if (!q) {
				rc = ng_errf(err, NG_ENOMEM, "out of memory");
				goto out;
			}
			buf = q;
		}
		if ((rc = tar_read_full(tr, (uint8_t *)buf + len, BLK, &got, err)) < 0)
			goto out;
		if (got < BLK) {
			rc = tar_unexpected_eof(tr, err);
			goto out;
		}
		tr->data_left -= BLK;
		for (size_t i = len; i < len + BLK; i++)
			lines += buf[i] == '\n';
		len += BLK;
		buf[len] = 0;
		if (n < 0) {
			char *nl = memchr(buf, '\n', len);
			if (nl && (tar_parse_dec((uint8_t *)buf, (size_t)(nl - buf), &n) < 0 ||
				   n < 0 || n > (int64_t)1 << 40)) {
				rc = bad(tr, "map count", err);
				goto out;
			}
		}
	}
	p = (char *)memchr(buf, '\n', len) + 1;
	for (int64_t i = 0; i < 2 * n; i++) {
		char *nl = memchr(p, '\n', (size_t)(buf + len - p));
		if (tar_parse_dec((uint8_t *)p, (size_t)(nl - p), &vals[k]) < 0) {
			rc = bad(tr, "map entry", err);
			goto out;
		}
		p = nl + 1;
		if (++k == 2) {
			if ((rc = add_frag(tr, vals[0], vals[1], cap, err)) < 0)
				goto out;
			k = 0;
		}
	}
out:
	free(buf);
	return rc;
}

/* go:reader.go validateSparseEntries */
static int valid(const struct tar_reader *tr, int64_t size)
{
	int64_t pre_end = 0;

	if (size < 0)
		return 0;
	for (size_t i = 0; i < tr->nfrags; i++) {
		const struct tar_frag *f = &tr->frags[i];
		if (f->off < 0 || f->len < 0 || f->off > INT64_MAX - f->len ||
		    f->off + f->len > size || pre_end > f->off)
			return 0;
		pre_end = f->off + f->len;
	}
	return 1;
}

int tar_sparse_setup(struct tar_reader *tr, struct tar_hdr *h, struct ng_err *err)
{
	size_t cap = 0;
	int rc;

	tar_sparse_clear(tr);
	if (h->typeflag == 'S') {
		rc = old_gnu_map(tr, h, err);
	} else {
		const struct tar_pax *r;
		int x10 = pax_is(tr, "GNU.sparse.major", "1");
		if ((r = rec(tr, "GNU.sparse.name")) &&
		    (rc = tar_set_str(&tr->hname, r->val, r->val_len, tr, err)) < 0)
			return rc;
		if (!(r = rec(tr, "GNU.sparse.size")))
			r = rec(tr, "GNU.sparse.realsize");
		if (r && tar_parse_dec(r->val, r->val_len, &h->size) < 0)
			return bad(tr, "size", err);
		if (x10) {
			rc = map_1x0(tr, &cap, err);
		} else {
			int64_t want;
			r = tar_pax_get(tr, "GNU.sparse.numblocks");
			if (!r || tar_parse_dec(r->val, r->val_len, &want) < 0 || want < 0)
				return bad(tr, "block count", err);
			r = tar_pax_get(tr, "GNU.sparse.map");
			rc = parse_pair_list(tr, r ? (const char *)r->val : "", want, &cap, err);
		}
	}
	if (rc < 0)
		return rc;
	if ((h->typeflag >= '1' && h->typeflag <= '6') || !valid(tr, h->size))
		return bad(tr, "map does not fit the file", err);
	tr->sparse = 1;
	tr->lsize = (uint64_t)h->size;
	tr->lpos = 0;
	tr->fi = 0;
	return 0;
}

void tar_sparse_clear(struct tar_reader *tr)
{
	free(tr->frags);
	tr->frags = NULL;
	tr->nfrags = tr->fi = 0;
	tr->sparse = 0;
	tr->lpos = tr->lsize = 0;
}

static const uint8_t zeros[65536];

int tar_sparse_peek(struct tar_reader *tr, const uint8_t **p, size_t *n, size_t max,
		    struct ng_err *err)
{
	uint64_t end;
	int rc;

	*n = 0;
	if (tr->lpos >= tr->lsize)
		return 0;
	while (tr->fi < tr->nfrags &&
	       (uint64_t)(tr->frags[tr->fi].off + tr->frags[tr->fi].len) <= tr->lpos)
		tr->fi++;
	if (tr->fi < tr->nfrags && tr->lpos >= (uint64_t)tr->frags[tr->fi].off) {
		end = (uint64_t)(tr->frags[tr->fi].off + tr->frags[tr->fi].len);
		if (max > end - tr->lpos)
			max = (size_t)(end - tr->lpos);
		if (tr->data_left == 0)
			return ng_errf(
			    err, NG_EINVAL,
			    "%s: sparse file references non-existent data before byte %llu",
			    tr->name, (unsigned long long)tr->off);
		if (max > tr->data_left)
			max = (size_t)tr->data_left;
		if ((rc = layersrc_peek(tr->src, p, n, max, err)) < 0)
			return rc;
		return *n ? 0 : tar_unexpected_eof(tr, err);
	}
	end = tr->fi < tr->nfrags ? (uint64_t)tr->frags[tr->fi].off : tr->lsize;
	if (max > end - tr->lpos)
		max = (size_t)(end - tr->lpos);
	if (max > sizeof(zeros))
		max = sizeof(zeros);
	*p = zeros;
	*n = max;
	return 0;
}

void tar_sparse_consume(struct tar_reader *tr, size_t n)
{
	if (tr->fi < tr->nfrags && tr->lpos >= (uint64_t)tr->frags[tr->fi].off) {
		layersrc_consume(tr->src, n);
		tr->data_left -= n;
		tr->off += n;
	}
	tr->lpos += n;
}
