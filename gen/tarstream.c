/* tarstream.c: see tarstream.h. Field offsets and parsing rules follow Go's
 * archive/tar (format.go, reader.go, strconv.go), which is what the
 * reference feeds into compactext4; every divergence would change a root. */
#include "tarstream.h"
#include "tarstream_int.h"

#include <stdlib.h>
#include <string.h>

int tar_reader_new(struct layersrc *src, const char *name, struct tar_reader **out,
		   struct ng_err *err)
{
	struct tar_reader *tr = calloc(1, sizeof(*tr));

	*out = NULL;
	if (!tr)
		return ng_errf(err, NG_ENOMEM, "%s: out of memory", name);
	tr->src = src;
	tr->name = name;
	*out = tr;
	return 0;
}

void tar_reader_free(struct tar_reader *tr)
{
	if (!tr)
		return;
	tar_pax_clear(tr);
	tar_sparse_clear(tr);
	free(tr->hname);
	free(tr->hlink);
	free(tr->longname);
	free(tr->longlink);
	free(tr->special);
	free(tr);
}

int tar_data_finish(struct tar_reader *tr, struct ng_err *err)
{
	/* go:reader.go sparseFileReader errUnrefData */
	if (tr->sparse && tr->lpos == tr->lsize && tr->data_left > 0)
		return ng_errf(err, NG_EINVAL,
			       "%s: sparse file contains unreferenced data before byte %llu",
			       tr->name, (unsigned long long)tr->off);
	return 0;
}

uint64_t tar_offset(const struct tar_reader *tr)
{
	return tr->off;
}

uint64_t tar_data_left(const struct tar_reader *tr)
{
	if (tr->sparse)
		return tr->lsize - tr->lpos;
	return tr->data_left;
}

/* Reads up to n bytes; fewer only at the end of the stream. */
int tar_read_full(struct tar_reader *tr, uint8_t *buf, size_t n, size_t *got, struct ng_err *err)
{
	const uint8_t *p;
	size_t k;
	int rc;

	*got = 0;
	while (*got < n) {
		if ((rc = layersrc_peek(tr->src, &p, &k, n - *got, err)) < 0)
			return rc;
		if (k == 0)
			break;
		memcpy(buf + *got, p, k);
		layersrc_consume(tr->src, k);
		*got += k;
		tr->off += k;
	}
	return 0;
}

int tar_unexpected_eof(struct tar_reader *tr, struct ng_err *err)
{
	return ng_errf(err, NG_EINVAL, "%s: unexpected EOF at byte %llu (truncated tar)", tr->name,
		       (unsigned long long)tr->off);
}

static int skip(struct tar_reader *tr, uint64_t n, int eof_ok, struct ng_err *err)
{
	const uint8_t *p;
	size_t k;
	int rc;

	while (n > 0) {
		if ((rc = layersrc_peek(tr->src, &p, &k, n > SIZE_MAX ? SIZE_MAX : (size_t)n,
					err)) < 0)
			return rc;
		if (k == 0)
			return eof_ok ? 1 : tar_unexpected_eof(tr, err);
		layersrc_consume(tr->src, k);
		tr->off += k;
		n -= k;
	}
	return 0;
}

int tar_data_peek(struct tar_reader *tr, const uint8_t **p, size_t *n, size_t max,
		  struct ng_err *err)
{
	int rc;

	*n = 0;
	if (tr->sparse)
		return tar_sparse_peek(tr, p, n, max, err);
	if (tr->data_left == 0)
		return 0;
	if (max > tr->data_left)
		max = (size_t)tr->data_left;
	if ((rc = layersrc_peek(tr->src, p, n, max, err)) < 0)
		return rc;
	if (*n == 0)
		return tar_unexpected_eof(tr, err);
	return 0;
}

void tar_data_consume(struct tar_reader *tr, size_t n)
{
	if (tr->sparse) {
		tar_sparse_consume(tr, n);
		return;
	}
	layersrc_consume(tr->src, n);
	tr->data_left -= n;
	tr->off += n;
}

static int is_zero_block(const uint8_t *b)
{
	for (size_t i = 0; i < BLK; i++)
		if (b[i])
			return 0;
	return 1;
}

/* go:format.go getFormat: checksum (unsigned or signed sum), then magic. */
static int block_format(const uint8_t *b)
{
	int bad = 0;
	int64_t want = tar_parse_octal(b + 148, 8, &bad), u = 0, s = 0;

	for (size_t i = 0; i < BLK; i++) {
		uint8_t c = (i >= 148 && i < 156) ? ' ' : b[i];
		u += c;
		s += (int8_t)c;
	}
	if (bad || (want != u && want != s))
		return -1;
	if (!memcmp(b + 257, "ustar\0", 6) && !memcmp(b + 508, "tar\0", 4))
		return FMT_STAR;
	if (!memcmp(b + 257, "ustar\0", 6))
		return FMT_USTAR;
	if (!memcmp(b + 257, "ustar ", 6) && !memcmp(b + 263, " \0", 2))
		return FMT_GNU;
	return FMT_V7;
}

int tar_set_str(char **dst, const uint8_t *s, size_t n, struct tar_reader *tr, struct ng_err *err)
{
	char *p = malloc(n + 1);

	if (!p)
		return ng_errf(err, NG_ENOMEM, "%s: out of memory", tr->name);
	memcpy(p, s, n);
	p[n] = 0;
	free(*dst);
	*dst = p;
	return 0;
}

static int is_ascii(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 0x80)
			return 0;
	return 1;
}

/* Reads the next 512-byte block into tr->blk: 1 with a whole block, 0 when
 * the stream ends cleanly before it, an error when it ends inside it. */
static int read_block(struct tar_reader *tr, struct ng_err *err)
{
	size_t got;
	int rc;

	if ((rc = tar_read_full(tr, tr->blk, BLK, &got, err)) < 0)
		return rc;
	if (got == 0)
		return 0;
	if (got < BLK)
		return tar_unexpected_eof(tr, err);
	return 1;
}

/* go:reader.go readHeader. Returns 1 with a header, 0 at end of archive. */
static int read_header(struct tar_reader *tr, struct tar_hdr *h, struct ng_err *err)
{
	uint8_t *b = tr->blk;
	size_t nl, pl = 0;
	const uint8_t *prefix = NULL;
	int bad = 0, fmt, rc;

	if ((rc = read_block(tr, err)) <= 0)
		return rc;
	if (is_zero_block(b)) {
		if ((rc = read_block(tr, err)) <= 0)
			return rc;
		if (is_zero_block(b))
			return 0;
		return ng_errf(err, NG_EINVAL,
			       "%s: invalid tar header at byte %llu (data after an end-of-archive "
			       "block)",
			       tr->name, (unsigned long long)(tr->off - BLK));
	}
	if ((fmt = tr->fmt = block_format(b)) < 0)
		return ng_errf(err, NG_EINVAL, "%s: invalid tar header at byte %llu (bad checksum)",
			       tr->name, (unsigned long long)(tr->off - BLK));
	memset(h, 0, sizeof(*h));
	h->typeflag = (char)b[156];
	h->size = tar_parse_numeric(b + 124, 12, &bad);
	h->mode = tar_parse_numeric(b + 100, 8, &bad);
	h->uid = tar_parse_numeric(b + 108, 8, &bad);
	h->gid = tar_parse_numeric(b + 116, 8, &bad);
	tar_time_unix(&h->mtime, tar_parse_numeric(b + 136, 12, &bad), 0);
	if (fmt != FMT_V7) {
		h->devmajor = tar_parse_numeric(b + 329, 8, &bad);
		h->devminor = tar_parse_numeric(b + 337, 8, &bad);
		if (fmt == FMT_USTAR) {
			prefix = b + 345;
			pl = tar_field_len(prefix, 155);
		} else if (fmt == FMT_STAR) {
			prefix = b + 345;
			pl = tar_field_len(prefix, 131);
			tar_time_unix(&h->atime, tar_parse_numeric(b + 476, 12, &bad), 0);
			tar_time_unix(&h->ctime, tar_parse_numeric(b + 488, 12, &bad), 0);
		} else {
			int bad2 = 0;
			if (b[345])
				tar_time_unix(&h->atime, tar_parse_numeric(b + 345, 12, &bad2), 0);
			if (b[357])
				tar_time_unix(&h->ctime, tar_parse_numeric(b + 357, 12, &bad2), 0);
			/* Pre-Go1.8 writers put a ustar prefix in GNU headers. */
			if (bad2) {
				memset(&h->atime, 0, sizeof(h->atime));
				memset(&h->ctime, 0, sizeof(h->ctime));
				if (is_ascii(b + 345, tar_field_len(b + 345, 155))) {
					prefix = b + 345;
					pl = tar_field_len(prefix, 155);
				}
			}
		}
	}
	if (bad)
		return ng_errf(err, NG_EINVAL,
			       "%s: invalid tar header at byte %llu (bad numeric field)", tr->name,
			       (unsigned long long)(tr->off - BLK));
	nl = tar_field_len(b, 100);
	if (pl > 0) {
		char *p = malloc(pl + 1 + nl + 1);
		if (!p)
			return ng_errf(err, NG_ENOMEM, "%s: out of memory", tr->name);
		memcpy(p, prefix, pl);
		p[pl] = '/';
		memcpy(p + pl + 1, b, nl);
		p[pl + 1 + nl] = 0;
		free(tr->hname);
		tr->hname = p;
	} else if ((rc = tar_set_str(&tr->hname, b, nl, tr, err)) < 0) {
		return rc;
	}
	if ((rc = tar_set_str(&tr->hlink, b + 157, tar_field_len(b + 157, 100), tr, err)) < 0)
		return rc;
	return 1;
}

static int header_only(char t)
{
	return t >= '1' && t <= '6';
}

/* go:reader.go handleRegularFile. */
static int setup_data(struct tar_reader *tr, const struct tar_hdr *h, struct ng_err *err)
{
	int64_t nb = header_only(h->typeflag) ? 0 : h->size;

	if (nb < 0)
		return ng_errf(err, NG_EINVAL,
			       "%s: invalid tar header before byte %llu (negative size)", tr->name,
			       (unsigned long long)tr->off);
	tr->data_left = (uint64_t)nb;
	tr->pad = (BLK - (uint64_t)nb % BLK) % BLK;
	return 0;
}

/* go:reader.go readSpecialFile: at most 1 MiB. */
static int read_special(struct tar_reader *tr, size_t *len, struct ng_err *err)
{
	size_t got;
	int rc;

	if (tr->data_left > MAX_SPECIAL_FILE)
		return ng_errf(err, NG_ELIMIT,
			       "%s: tar meta entry before byte %llu is over 1 MiB (field too long)",
			       tr->name, (unsigned long long)tr->off);
	free(tr->special);
	tr->special = malloc((size_t)tr->data_left + 1);
	if (!tr->special)
		return ng_errf(err, NG_ENOMEM, "%s: out of memory", tr->name);
	if ((rc = tar_read_full(tr, tr->special, (size_t)tr->data_left, &got, err)) < 0)
		return rc;
	if (got < tr->data_left)
		return tar_unexpected_eof(tr, err);
	tr->data_left = 0;
	tr->special[got] = 0;
	*len = got;
	return 0;
}

/* go:reader.go mergePAX; empty values keep the header's field. */
static int merge_pax(struct tar_reader *tr, struct tar_hdr *h, struct ng_err *err)
{
	for (size_t i = 0; i < tr->npax; i++) {
		const struct tar_pax *r = &tr->pax[i];
		int bad = 0;
		if (r->val_len == 0)
			continue;
		if (!strcmp(r->key, "path"))
			bad = tar_set_str(&tr->hname, r->val, r->val_len, tr, err);
		else if (!strcmp(r->key, "linkpath"))
			bad = tar_set_str(&tr->hlink, r->val, r->val_len, tr, err);
		else if (!strcmp(r->key, "uid"))
			bad = tar_parse_dec(r->val, r->val_len, &h->uid);
		else if (!strcmp(r->key, "gid"))
			bad = tar_parse_dec(r->val, r->val_len, &h->gid);
		else if (!strcmp(r->key, "size"))
			bad = tar_parse_dec(r->val, r->val_len, &h->size);
		else if (!strcmp(r->key, "mtime"))
			bad = tar_parse_pax_time(r->val, r->val_len, &h->mtime);
		else if (!strcmp(r->key, "atime"))
			bad = tar_parse_pax_time(r->val, r->val_len, &h->atime);
		else if (!strcmp(r->key, "ctime"))
			bad = tar_parse_pax_time(r->val, r->val_len, &h->ctime);
		if (bad)
			return bad == NG_ENOMEM
				   ? bad
				   : ng_errf(err, NG_EINVAL,
					     "%s: invalid PAX %s record before byte %llu", tr->name,
					     r->key, (unsigned long long)tr->off);
	}
	return 0;
}

/* go:reader.go next. */
int tar_next(struct tar_reader *tr, struct tar_hdr *h, struct ng_err *err)
{
	size_t len;
	int rc;

	free(tr->longname);
	free(tr->longlink);
	tr->longname = tr->longlink = NULL;
	tar_pax_clear(tr);
	tar_sparse_clear(tr);
	for (;;) {
		if ((rc = skip(tr, tr->data_left, 0, err)) < 0)
			return rc;
		tr->data_left = 0;
		/* EOF inside padding ends the archive (Go's tryReadFull). */
		rc = skip(tr, tr->pad, 1, err);
		tr->pad = 0;
		if (rc < 0)
			return rc;
		if (rc == 1)
			return 0;
		if ((rc = read_header(tr, h, err)) <= 0)
			return rc;
		if ((rc = setup_data(tr, h, err)) < 0)
			return rc;
		switch (h->typeflag) {
		case 'x':
		case 'g':
			if ((rc = read_special(tr, &len, err)) < 0 ||
			    (rc = tar_parse_pax(tr, tr->special, len, err)) < 0)
				return rc;
			if (h->typeflag == 'g') {
				struct tar_hdr g = {0};
				struct ng_err ignored;
				/* Go merges the global records into its own header,
				 * ignores any error, and keeps only the name. */
				(void)merge_pax(tr, h, &ignored);
				g.typeflag = 'g';
				g.name = tr->hname;
				g.link = "";
				g.pax = tr->pax;
				g.npax = tr->npax;
				*h = g;
				return 1;
			}
			continue;
		case 'L':
		case 'K':
			if ((rc = read_special(tr, &len, err)) < 0)
				return rc;
			len = tar_field_len(tr->special, len);
			if ((rc = tar_set_str(h->typeflag == 'L' ? &tr->longname : &tr->longlink,
					      tr->special, len, tr, err)) < 0)
				return rc;
			continue;
		default:
			break;
		}
		if ((rc = merge_pax(tr, h, err)) < 0)
			return rc;
		if (tr->longname && *tr->longname &&
		    (rc = tar_set_str(&tr->hname, (const uint8_t *)tr->longname,
				      strlen(tr->longname), tr, err)) < 0)
			return rc;
		if (tr->longlink && *tr->longlink &&
		    (rc = tar_set_str(&tr->hlink, (const uint8_t *)tr->longlink,
				      strlen(tr->longlink), tr, err)) < 0)
			return rc;
		if (h->typeflag == 0) {
			size_t n = strlen(tr->hname);
			h->typeflag = n > 0 && tr->hname[n - 1] == '/' ? '5' : '0';
		}
		if ((rc = setup_data(tr, h, err)) < 0)
			return rc;
		if (tar_is_sparse(tr, h) && (rc = tar_sparse_setup(tr, h, err)) < 0)
			return rc;
		h->name = tr->hname;
		h->link = tr->hlink;
		h->pax = tr->pax;
		h->npax = tr->npax;
		return 1;
	}
}
