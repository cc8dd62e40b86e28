/* tarstream.c: see tarstream.h. Field offsets and parsing rules follow Go's
 * archive/tar (format.go, reader.go, strconv.go), which is what the
 * reference feeds into compactext4; every divergence would change a root. */
#include "tarstream.h"

#include <stdlib.h>
#include <string.h>

#define BLK		 512
#define MAX_SPECIAL_FILE (1u << 20) /* Go's maxSpecialFileSize */

struct tar_reader {
	struct layersrc *src;
	const char *name;
	uint64_t off;
	uint64_t data_left, pad;
	uint8_t blk[BLK];
	char *hname, *hlink;	   /* name/link of the returned header */
	char *longname, *longlink; /* pending GNU L/K */
	struct tar_pax *pax;	   /* pending or returned PAX records */
	size_t npax;
	int have_pax;
	uint8_t *special; /* contents of the last meta entry */
};

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

static void pax_clear(struct tar_reader *tr)
{
	for (size_t i = 0; i < tr->npax; i++) {
		free(tr->pax[i].key);
		free(tr->pax[i].val);
	}
	free(tr->pax);
	tr->pax = NULL;
	tr->npax = 0;
	tr->have_pax = 0;
}

void tar_reader_free(struct tar_reader *tr)
{
	if (!tr)
		return;
	pax_clear(tr);
	free(tr->hname);
	free(tr->hlink);
	free(tr->longname);
	free(tr->longlink);
	free(tr->special);
	free(tr);
}

uint64_t tar_offset(const struct tar_reader *tr)
{
	return tr->off;
}

uint64_t tar_data_left(const struct tar_reader *tr)
{
	return tr->data_left;
}

/* Reads up to n bytes; fewer only at the end of the stream. */
static int read_full(struct tar_reader *tr, uint8_t *buf, size_t n, size_t *got,
		     struct ng_err *err)
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

static int unexpected_eof(struct tar_reader *tr, struct ng_err *err)
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
			return eof_ok ? 1 : unexpected_eof(tr, err);
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
	if (tr->data_left == 0)
		return 0;
	if (max > tr->data_left)
		max = (size_t)tr->data_left;
	if ((rc = layersrc_peek(tr->src, p, n, max, err)) < 0)
		return rc;
	if (*n == 0)
		return unexpected_eof(tr, err);
	return 0;
}

void tar_data_consume(struct tar_reader *tr, size_t n)
{
	layersrc_consume(tr->src, n);
	tr->data_left -= n;
	tr->off += n;
}

/* go:strconv.go parseString: cut at the first NUL. */
static size_t field_len(const uint8_t *b, size_t n)
{
	const uint8_t *z = memchr(b, 0, n);
	return z ? (size_t)(z - b) : n;
}

/* go:strconv.go parseOctal. */
static int64_t parse_octal(const uint8_t *b, size_t n, int *bad)
{
	size_t s = 0, e = n;
	uint64_t x = 0;

	while (s < e && (b[s] == ' ' || b[s] == 0))
		s++;
	while (e > s && (b[e - 1] == ' ' || b[e - 1] == 0))
		e--;
	if (s == e)
		return 0;
	e = s + field_len(b + s, e - s);
	if (s == e) {
		*bad = 1;
		return 0;
	}
	for (size_t i = s; i < e; i++) {
		if (b[i] < '0' || b[i] > '7' || (x >> 61) != 0) {
			*bad = 1;
			return 0;
		}
		x = x << 3 | (uint64_t)(b[i] - '0');
	}
	return (int64_t)x;
}

/* go:strconv.go parseNumeric: base-256 when bit 7 of the first byte is set. */
static int64_t parse_numeric(const uint8_t *b, size_t n, int *bad)
{
	if (n > 0 && (b[0] & 0x80)) {
		uint8_t inv = (b[0] & 0x40) ? 0xff : 0;
		uint64_t x = 0;
		for (size_t i = 0; i < n; i++) {
			uint8_t c = b[i] ^ inv;
			if (i == 0)
				c &= 0x7f;
			if ((x >> 56) > 0) {
				*bad = 1;
				return 0;
			}
			x = x << 8 | c;
		}
		if ((x >> 63) > 0) {
			*bad = 1;
			return 0;
		}
		return inv ? (int64_t)~x : (int64_t)x;
	}
	return parse_octal(b, n, bad);
}

/* strconv.ParseInt(s, 10, 64). */
static int parse_dec(const uint8_t *s, size_t n, int64_t *out)
{
	int neg = 0;
	uint64_t x = 0, lim;
	size_t i = 0;

	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return -1;
	lim = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? (int64_t)(0 - x) : (int64_t)x;
	return 0;
}

static void time_unix(struct tar_time *t, int64_t sec, int64_t nsec)
{
	if (nsec < 0 || nsec >= 1000000000) {
		int64_t q = nsec / 1000000000;
		sec += q;
		nsec -= q * 1000000000;
		if (nsec < 0) {
			nsec += 1000000000;
			sec--;
		}
	}
	t->set = 1;
	t->sec = sec;
	t->nsec = nsec;
}

/* go:strconv.go parsePAXTime: "[-]sec[.frac]", frac padded/cut to 9 digits. */
static int parse_pax_time(const uint8_t *s, size_t n, struct tar_time *t)
{
	const uint8_t *dot = memchr(s, '.', n);
	size_t sl = dot ? (size_t)(dot - s) : n;
	int64_t secs, ns = 0;

	if (parse_dec(s, sl, &secs) < 0)
		return -1;
	if (!dot || sl + 1 == n) {
		time_unix(t, secs, 0);
		return 0;
	}
	for (size_t i = sl + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
	}
	for (size_t i = 0; i < 9; i++) {
		size_t j = sl + 1 + i;
		ns = ns * 10 + (j < n ? s[j] - '0' : 0);
	}
	time_unix(t, secs, sl > 0 && s[0] == '-' ? -ns : ns);
	return 0;
}

struct pax_tmp {
	struct tar_pax p;
	size_t seq;
};

static int cmp_pax(const void *a, const void *b)
{
	const struct pax_tmp *x = a, *y = b;
	int c = strcmp(x->p.key, y->p.key);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int bad_record(struct tar_reader *tr, struct ng_err *err)
{
	return ng_errf(err, NG_EINVAL, "%s: invalid PAX record before byte %llu (corrupt tar)",
		       tr->name, (unsigned long long)tr->off);
}

/* go:strconv.go parsePAXRecord and reader.go parsePAX; keys end up unique
 * (last record wins, like Go's map). */
static int parse_pax(struct tar_reader *tr, const uint8_t *b, size_t n, struct ng_err *err)
{
	size_t cap = 0, cnt = 0;
	struct pax_tmp *recs = NULL;
	int rc = 0;

	pax_clear(tr);
	while (n > 0) {
		const uint8_t *sp = memchr(b, ' ', n), *eq;
		int64_t len;
		size_t klen, vlen;
		int pathkey;
		if (!sp || parse_dec(b, (size_t)(sp - b), &len) < 0 || len < 5 || (uint64_t)len > n ||
		    len - (int64_t)(sp - b + 1) <= 0 || b[len - 1] != '\n') {
			rc = bad_record(tr, err);
			goto out;
		}
		eq = memchr(sp + 1, '=', (size_t)(b + len - 1 - (sp + 1)));
		if (!eq || eq == sp + 1) {
			rc = bad_record(tr, err);
			goto out;
		}
		klen = (size_t)(eq - (sp + 1));
		vlen = (size_t)(b + len - 1 - (eq + 1));
		pathkey = (klen == 4 && !memcmp(sp + 1, "path", 4)) ||
			  (klen == 8 && !memcmp(sp + 1, "linkpath", 8)) ||
			  (klen == 5 && !memcmp(sp + 1, "uname", 5)) ||
			  (klen == 5 && !memcmp(sp + 1, "gname", 5));
		if (memchr(sp + 1, 0, klen) || (pathkey && memchr(eq + 1, 0, vlen))) {
			rc = bad_record(tr, err);
			goto out;
		}
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct pax_tmp *nr = realloc(recs, nc * sizeof(*nr));
			if (!nr) {
				rc = ng_errf(err, NG_ENOMEM, "%s: out of memory", tr->name);
				goto out;
			}
			recs = nr;
			cap = nc;
		}
		recs[cnt].p.key = strndup((const char *)sp + 1, klen);
		recs[cnt].p.val = malloc(vlen + 1);
		if (!recs[cnt].p.key || !recs[cnt].p.val) {
			free(recs[cnt].p.key);
			free(recs[cnt].p.val);
			rc = ng_errf(err, NG_ENOMEM, "%s: out of memory", tr->name);
			goto out;
		}
		memcpy(recs[cnt].p.val, eq + 1, vlen);
		recs[cnt].p.val[vlen] = 0;
		recs[cnt].p.val_len = vlen;
		recs[cnt].seq = cnt;
		cnt++;
		b += len;
		n -= (size_t)len;
	}
	if (cnt)
		qsort(recs, cnt, sizeof(*recs), cmp_pax);
	tr->pax = malloc((cnt ? cnt : 1) * sizeof(*tr->pax));
	if (!tr->pax) {
		rc = ng_errf(err, NG_ENOMEM, "%s: out of memory", tr->name);
		goto out;
	}
	for (size_t i = 0; i < cnt; i++) {
		if (i + 1 < cnt && !strcmp(recs[i].p.key, recs[i + 1].p.key)) {
			free(recs[i].p.key);
			free(recs[i].p.val);
			continue;
		}
		tr->pax[tr->npax++] = recs[i].p;
	}
	free(recs);
	tr->have_pax = 1;
	return 0;
out:
	for (size_t i = 0; i < cnt; i++) {
		free(recs[i].p.key);
		free(recs[i].p.val);
	}
	free(recs);
	return rc;
}

static int is_zero_block(const uint8_t *b)
{
	for (size_t i = 0; i < BLK; i++)
		if (b[i])
			return 0;
	return 1;
}

enum { FMT_V7, FMT_USTAR, FMT_GNU, FMT_STAR };

/* go:format.go getFormat: checksum (unsigned or signed sum), then magic. */
static int block_format(const uint8_t *b)
{
	int bad = 0;
	int64_t want = parse_octal(b + 148, 8, &bad), u = 0, s = 0;

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

static int set_str(char **dst, const uint8_t *s, size_t n, struct tar_reader *tr,
		   struct ng_err *err)
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

/* go:reader.go readHeader. Returns 1 with a header, 0 at end of archive. */
static int read_header(struct tar_reader *tr, struct tar_hdr *h, struct ng_err *err)
{
	uint8_t *b = tr->blk;
	size_t got, nl, pl = 0;
	const uint8_t *prefix = NULL;
	int bad = 0, fmt, rc;

	if ((rc = read_full(tr, b, BLK, &got, err)) < 0)
		return rc;
	if (got == 0)
		return 0;
	if (got < BLK)
		return unexpected_eof(tr, err);
	if (is_zero_block(b)) {
		if ((rc = read_full(tr, b, BLK, &got, err)) < 0)
			return rc;
		if (got == 0)
			return 0;
		if (got < BLK)
			return unexpected_eof(tr, err);
		if (is_zero_block(b))
			return 0;
		return ng_errf(err, NG_EINVAL,
			       "%s: invalid tar header at byte %llu (data after an end-of-archive "
			       "block)",
			       tr->name, (unsigned long long)(tr->off - BLK));
	}
	if ((fmt = block_format(b)) < 0)
		return ng_errf(err, NG_EINVAL, "%s: invalid tar header at byte %llu (bad checksum)",
			       tr->name, (unsigned long long)(tr->off - BLK));
	memset(h, 0, sizeof(*h));
	h->typeflag = (char)b[156];
	h->size = parse_numeric(b + 124, 12, &bad);
	h->mode = parse_numeric(b + 100, 8, &bad);
	h->uid = parse_numeric(b + 108, 8, &bad);
	h->gid = parse_numeric(b + 116, 8, &bad);
	time_unix(&h->mtime, parse_numeric(b + 136, 12, &bad), 0);
	if (fmt != FMT_V7) {
		h->devmajor = parse_numeric(b + 329, 8, &bad);
		h->devminor = parse_numeric(b + 337, 8, &bad);
		if (fmt == FMT_USTAR) {
			prefix = b + 345;
			pl = field_len(prefix, 155);
		} else if (fmt == FMT_STAR) {
			prefix = b + 345;
			pl = field_len(prefix, 131);
			time_unix(&h->atime, parse_numeric(b + 476, 12, &bad), 0);
			time_unix(&h->ctime, parse_numeric(b + 488, 12, &bad), 0);
		} else {
			int bad2 = 0;
			if (b[345])
				time_unix(&h->atime, parse_numeric(b + 345, 12, &bad2), 0);
			if (b[357])
				time_unix(&h->ctime, parse_numeric(b + 357, 12, &bad2), 0);
			/* Pre-Go1.8 writers put a ustar prefix in GNU headers. */
			if (bad2) {
				memset(&h->atime, 0, sizeof(h->atime));
				memset(&h->ctime, 0, sizeof(h->ctime));
				if (is_ascii(b + 345, field_len(b + 345, 155))) {
					prefix = b + 345;
					pl = field_len(prefix, 155);
				}
			}
		}
	}
	if (bad)
		return ng_errf(err, NG_EINVAL,
			       "%s: invalid tar header at byte %llu (bad numeric field)", tr->name,
			       (unsigned long long)(tr->off - BLK));
	nl = field_len(b, 100);
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
	} else if ((rc = set_str(&tr->hname, b, nl, tr, err)) < 0) {
		return rc;
	}
	if ((rc = set_str(&tr->hlink, b + 157, field_len(b + 157, 100), tr, err)) < 0)
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
		return ng_errf(err, NG_EINVAL, "%s: invalid tar header before byte %llu (negative size)",
			       tr->name, (unsigned long long)tr->off);
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
	if ((rc = read_full(tr, tr->special, (size_t)tr->data_left, &got, err)) < 0)
		return rc;
	if (got < tr->data_left)
		return unexpected_eof(tr, err);
	tr->data_left = 0;
	tr->special[got] = 0;
	*len = got;
	return 0;
}

static const struct tar_pax *pax_get(const struct tar_reader *tr, const char *key)
{
	for (size_t i = 0; i < tr->npax; i++)
		if (!strcmp(tr->pax[i].key, key))
			return &tr->pax[i];
	return NULL;
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
			bad = set_str(&tr->hname, r->val, r->val_len, tr, err);
		else if (!strcmp(r->key, "linkpath"))
			bad = set_str(&tr->hlink, r->val, r->val_len, tr, err);
		else if (!strcmp(r->key, "uid"))
			bad = parse_dec(r->val, r->val_len, &h->uid);
		else if (!strcmp(r->key, "gid"))
			bad = parse_dec(r->val, r->val_len, &h->gid);
		else if (!strcmp(r->key, "size"))
			bad = parse_dec(r->val, r->val_len, &h->size);
		else if (!strcmp(r->key, "mtime"))
			bad = parse_pax_time(r->val, r->val_len, &h->mtime);
		else if (!strcmp(r->key, "atime"))
			bad = parse_pax_time(r->val, r->val_len, &h->atime);
		else if (!strcmp(r->key, "ctime"))
			bad = parse_pax_time(r->val, r->val_len, &h->ctime);
		if (bad)
			return bad == NG_ENOMEM ? bad
						: ng_errf(err, NG_EINVAL,
							  "%s: invalid PAX %s record before byte %llu",
							  tr->name, r->key,
							  (unsigned long long)tr->off);
	}
	return 0;
}

static int is_sparse(const struct tar_reader *tr, const struct tar_hdr *h)
{
	return h->typeflag == 'S' || pax_get(tr, "GNU.sparse.major") ||
	       pax_get(tr, "GNU.sparse.minor") || pax_get(tr, "GNU.sparse.map") ||
	       pax_get(tr, "GNU.sparse.offset") || pax_get(tr, "GNU.sparse.numbytes");
}

/* go:reader.go next. */
int tar_next(struct tar_reader *tr, struct tar_hdr *h, struct ng_err *err)
{
	size_t len;
	int rc;

	free(tr->longname);
	free(tr->longlink);
	tr->longname = tr->longlink = NULL;
	pax_clear(tr);
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
			    (rc = parse_pax(tr, tr->special, len, err)) < 0)
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
			len = field_len(tr->special, len);
			if ((rc = set_str(h->typeflag == 'L' ? &tr->longname : &tr->longlink,
					  tr->special, len, tr, err)) < 0)
				return rc;
			continue;
		default:
			break;
		}
		if ((rc = merge_pax(tr, h, err)) < 0)
			return rc;
		if (tr->longname && *tr->longname &&
		    (rc = set_str(&tr->hname, (const uint8_t *)tr->longname, strlen(tr->longname),
				  tr, err)) < 0)
			return rc;
		if (tr->longlink && *tr->longlink &&
		    (rc = set_str(&tr->hlink, (const uint8_t *)tr->longlink, strlen(tr->longlink),
				  tr, err)) < 0)
			return rc;
		if (h->typeflag == 0) {
			size_t n = strlen(tr->hname);
			h->typeflag = n > 0 && tr->hname[n - 1] == '/' ? '5' : '0';
		}
		if ((rc = setup_data(tr, h, err)) < 0)
			return rc;
		if (is_sparse(tr, h))
			return ng_errf(err, NG_EINVAL,
				       "%s: %s: GNU/PAX sparse files are not supported; rebuild the "
				       "layer without sparse files (tar --no-sparse)",
				       tr->name, tr->hname);
		h->name = tr->hname;
		h->link = tr->hlink;
		h->pax = tr->pax;
		h->npax = tr->npax;
		return 1;
	}
}
