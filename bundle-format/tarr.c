#include "tarr.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gzstored.h"

const struct tarr_limits TARR_DEFAULT_LIMITS = {
    .max_tar_bytes = 4ULL << 30,
    .max_member_size = 64ULL << 30,
    .max_members = 64,
};

struct tarr {
	struct gzs_reader *gz; /* the tar out of its gzip framing (SPEC §2.1) */
	int ended;
	const char *label;
	struct tarr_limits lim;
	size_t members;
	uint64_t left; /* stored data bytes left in the current member */
	uint64_t pad;  /* padding after it */
	struct tarr_entry cur;
};

int tarr_new(int fd, const char *label, const struct tarr_limits *lim, struct tarr **out,
	     struct ng_err *err)
{
	struct tarr *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	if ((rc = gzs_reader_new(fd, label, &r->gz, err))) {
		free(r);
		return rc;
	}
	r->label = label;
	r->lim = lim ? *lim : TARR_DEFAULT_LIMITS;
	*out = r;
	return 0;
}

void tarr_free(struct tarr *r)
{
	if (!r)
		return;
	gzs_reader_free(r->gz);
	free(r->cur.map);
	free(r);
}

uint64_t tarr_tar_bytes(const struct tarr *r)
{
	return gzs_reader_bytes(r->gz);
}

/* Exactly n tar bytes, counted against the decompression cap. */
static int rawread(struct tarr *r, void *p, size_t n, struct ng_err *err)
{
	size_t got;
	int rc;

	if (n > r->lim.max_tar_bytes - gzs_reader_bytes(r->gz))
		return ng_errf(err, NG_ELIMIT,
			       "%s: decompresses to more than %" PRIu64
			       " bytes (the reader's cap; a bomb?)",
			       r->label, r->lim.max_tar_bytes);
	if ((rc = gzs_read(r->gz, p, n, &got, err)))
		return rc;
	if (got < n)
		return ng_errf(err, NG_EINVAL, "%s: truncated tar archive", r->label);
	return 0;
}

static int skip(struct tarr *r, uint64_t n, struct ng_err *err)
{
	uint8_t b[16384];

	while (n) {
		size_t k = n > sizeof(b) ? sizeof(b) : (size_t)n;
		int rc = rawread(r, b, k, err);
		if (rc)
			return rc;
		n -= k;
	}
	return 0;
}

static int is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* A ustar octal field: width-1 octal digits then NUL (what tarw writes). */
static int octal(const uint8_t *f, size_t width, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < width - 1; i++) {
		if (f[i] < '0' || f[i] > '7')
			return -1;
		*v = (*v << 3) | (uint64_t)(f[i] - '0');
	}
	return f[width - 1] == 0 ? 0 : -1;
}

static int checksum_ok(const uint8_t *b)
{
	uint64_t want;
	unsigned sum = 0;

	for (int i = 0; i < TAR_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : b[i];
	/* Stored as 6 digits, NUL, space; accept only that. */
	if (octal(b + 148, 7, &want) || b[155] != ' ')
		return 0;
	return want == sum;
}

static void ustar_name(const uint8_t *b, char *out, size_t outlen)
{
	size_t n = strnlen((const char *)b, 100), p = strnlen((const char *)b + 345, 155);

	if (p && p + 1 + n < outlen)
		snprintf(out, outlen, "%.*s/%.*s", (int)p, (const char *)b + 345, (int)n,
			 (const char *)b);
	else
		snprintf(out, outlen, "%.*s", (int)n, (const char *)b);
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?'; /* keep hostile names printable in one line */
}

/* Refuses the entry types a bundle never holds, naming what they are. */
static int bad_type(struct tarr *r, char type, const char *name, struct ng_err *err)
{
	const char *what;

	switch (type) {
	case '1':
		what = "a hard link";
		break;
	case '2':
		what = "a symbolic link";
		break;
	case '3':
	case '4':
		what = "a device node";
		break;
	case '5':
		what = "a directory";
		break;
	case '6':
		what = "a FIFO";
		break;
	case 'g':
		what = "a pax global header";
		break;
	case 'L':
	case 'K':
		what = "a GNU long name";
		break;
	case 'S':
		what = "an old GNU sparse file";
		break;
	case 'x':
		what = "a second pax header";
		break;
	case '0':
	case '\0':
		what = "a file without its pax header";
		break;
	default:
		what = "an unknown entry type";
		break;
	}
	return ng_errf(err, NG_EINVAL,
		       "%s: member '%.100s' is %s; bundles hold only regular files "
		       "(SPEC §3.3)",
		       r->label, name, what);
}

static int unsafe_name(struct tarr *r, const char *name, struct ng_err *err)
{
	if (name[0] == '/')
		return ng_errf(err, NG_EINVAL, "%s: member '%.100s' has an absolute path", r->label,
			       name);
	for (const char *c = name;;) {
		size_t k = strcspn(c, "/");
		if ((k == 1 && c[0] == '.') || (k == 2 && c[0] == '.' && c[1] == '.'))
			return ng_errf(err, NG_EINVAL,
				       "%s: member '%.100s' has a '..' or '.' path component",
				       r->label, name);
		if (!c[k])
			break;
		c += k + 1;
	}
	if (!tar_name_valid(name))
		return ng_errf(err, NG_EINVAL,
			       "%s: member name '%.100s' is not allowed (SPEC §3.2)", r->label,
			       name);
	return 0;
}

struct pax {
	char name[TAR_NAME_MAX + 1];
	int sparse, have_path, have_major, have_minor, have_name, have_size;
	uint64_t realsize;
};

static int decimal(const char *s, size_t n, uint64_t *v)
{
	*v = 0;
	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (*v > (UINT64_MAX - 9) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return 0;
}

static int pax_parse(struct tarr *r, const char *p, size_t n, struct pax *x, struct ng_err *err)
{
	memset(x, 0, sizeof(*x));
	while (n) {
		const char *sp = memchr(p, ' ', n < 21 ? n : 21), *eq, *key, *val;
		uint64_t len;
		size_t klen, vlen;
		if (!sp || decimal(p, (size_t)(sp - p), &len) || len > n || len < 5 ||
		    p[len - 1] != '\n')
			return ng_errf(err, NG_EINVAL, "%s: malformed pax header record", r->label);
		key = sp + 1;
		eq = memchr(key, '=', (size_t)(p + len - 1 - key));
		if (!eq)
			return ng_errf(err, NG_EINVAL, "%s: malformed pax header record", r->label);
		klen = (size_t)(eq - key);
		val = eq + 1;
		vlen = (size_t)(p + len - 1 - val);
		if (memchr(val, 0, vlen))
			return ng_errf(err, NG_EINVAL, "%s: NUL in a pax header value", r->label);
#define KEY(s) (klen == strlen(s) && !memcmp(key, s, klen))
		if (KEY("path") || KEY("GNU.sparse.name")) {
			int *have = KEY("path") ? &x->have_path : &x->have_name;
			if (*have || vlen > TAR_NAME_MAX || vlen == 0) {
				char shown[TAR_NAME_MAX + 1];
				snprintf(shown, sizeof(shown), "%.*s", (int)(vlen < 80 ? vlen : 80),
					 val);
				return ng_errf(
				    err, *have ? NG_EINVAL : NG_ELIMIT,
				    "%s: member name '%s...' is repeated, empty or longer "
				    "than %d bytes",
				    r->label, shown, TAR_NAME_MAX);
			}
			*have = 1;
			memcpy(x->name, val, vlen);
			x->name[vlen] = 0;
		} else if (KEY("GNU.sparse.major") && !x->have_major && vlen == 1 &&
			   val[0] == '1') {
			x->have_major = 1;
		} else if (KEY("GNU.sparse.minor") && !x->have_minor && vlen == 1 &&
			   val[0] == '0') {
			x->have_minor = 1;
		} else if (KEY("GNU.sparse.realsize") && !x->have_size &&
			   !decimal(val, vlen, &x->realsize)) {
			x->have_size = 1;
		} else {
			return ng_errf(
			    err, NG_EINVAL,
			    "%s: pax record '%.*s' is not allowed in a bundle (SPEC §3.3)",
			    r->label, (int)(klen > 40 ? 40 : klen), key);
		}
#undef KEY
		p += len;
		n -= len;
	}
	x->sparse = x->have_major || x->have_minor || x->have_name || x->have_size;
	if (x->sparse &&
	    !(x->have_major && x->have_minor && x->have_name && x->have_size && !x->have_path))
		return ng_errf(err, NG_EINVAL, "%s: incomplete pax sparse 1.0 header (SPEC §3.4)",
			       r->label);
	if (!x->sparse && !x->have_path)
		return ng_errf(err, NG_EINVAL, "%s: pax header without a path", r->label);
	return 0;
}

/* Map block(s) of a sparse 1.0 member: read block by block until 2N+1 lines. */
static int read_map(struct tarr *r, uint64_t stored, struct ng_err *err)
{
	struct buf raw, again;
	uint64_t nums = 0, want = 1, v = 0, data;
	size_t cap = 0, start = 0;
	int rc = 0;

	buf_init(&raw, (TAR_SPARSE_MAX * 2 + 1) * 22 + TAR_BLOCK);
	buf_init(&again, 0);
	r->cur.nmap = 0;
	while (nums < want) {
		uint8_t blk[TAR_BLOCK];
		if (raw.len + TAR_BLOCK > stored) {
			rc = ng_errf(err, NG_EINVAL, "%s: %s: sparse map runs past the member",
				     r->label, r->cur.name);
			goto done;
		}
		if ((rc = rawread(r, blk, TAR_BLOCK, err)))
			goto done;
		if (buf_append(&raw, blk, TAR_BLOCK)) {
			rc = ng_errf(err, NG_ELIMIT, "%s: %s: sparse map too large", r->label,
				     r->cur.name);
			goto done;
		}
		for (size_t i = raw.len - TAR_BLOCK; i < raw.len && nums < want; i++) {
			if (raw.data[i] != '\n')
				continue;
			if (decimal((char *)raw.data + start, i - start, &v)) {
				rc = ng_errf(err, NG_EINVAL, "%s: %s: malformed sparse map",
					     r->label, r->cur.name);
				goto done;
			}
			start = i + 1;
			if (nums == 0) {
				if (v == 0 || v > TAR_SPARSE_MAX) {
					rc = ng_errf(err, NG_ELIMIT,
						     "%s: %s: sparse map of %" PRIu64 " entries "
						     "(1..%d allowed)",
						     r->label, r->cur.name, v, TAR_SPARSE_MAX);
					goto done;
				}
				want = 1 + 2 * v;
				cap = (size_t)v;
				r->cur.map = realloc(r->cur.map, cap * sizeof(*r->cur.map));
				if (!r->cur.map) {
					rc = ng_errf(err, NG_ENOMEM, "out of memory");
					goto done;
				}
			} else if (nums % 2 == 1) {
				r->cur.map[r->cur.nmap].off = v;
			} else {
				r->cur.map[r->cur.nmap++].len = v;
			}
			nums++;
		}
	}
	rc = tar_sparse_map_check(r->cur.map, r->cur.nmap, r->cur.size, &data, err);
	if (rc) {
		ng_err_prefix(err, rc, "%s: %s", r->label, r->cur.name);
		goto done;
	}
	/* One encoding per map: what tarw would write, byte for byte. */
	if ((rc = tar_sparse_map_encode(&again, r->cur.map, r->cur.nmap, err)))
		goto done;
	if (again.len != raw.len || memcmp(again.data, raw.data, raw.len)) {
		rc = ng_errf(err, NG_EINVAL, "%s: %s: sparse map is not in canonical form",
			     r->label, r->cur.name);
		goto done;
	}
	if (stored - raw.len != data) {
		rc = ng_errf(err, NG_EINVAL, "%s: %s: stored size does not match its sparse map",
			     r->label, r->cur.name);
		goto done;
	}
	r->cur.data = data;
	r->left = data;
done:
	buf_free(&raw);
	buf_free(&again);
	return rc;
}

static int end_of_archive(struct tarr *r, struct ng_err *err)
{
	uint8_t blk[TAR_BLOCK], extra;
	size_t got;
	int rc = rawread(r, blk, TAR_BLOCK, err);

	if (rc)
		return rc;
	if (!is_zero(blk, TAR_BLOCK))
		return ng_errf(err, NG_EINVAL, "%s: corrupt end-of-archive marker", r->label);
	if ((rc = gzs_read(r->gz, &extra, 1, &got, err)))
		return rc;
	if (got)
		return ng_errf(err, NG_EINVAL, "%s: trailing data after the end of the tar archive",
			       r->label);
	if ((rc = gzs_reader_end(r->gz, err)))
		return rc;
	r->ended = 1;
	return 0;
}

int tarr_next(struct tarr *r, const struct tarr_entry **e, struct ng_err *err)
{
	uint8_t b1[TAR_BLOCK], b2[TAR_BLOCK];
	char shown[400];
	struct pax x;
	struct buf raw, want;
	uint64_t paxlen, stored;
	int rc;

	if (r->ended)
		return 0;
	if ((rc = skip(r, r->left + r->pad, err)))
		return rc;
	r->left = r->pad = 0;
	if ((rc = rawread(r, b1, TAR_BLOCK, err)))
		return rc;
	if (is_zero(b1, TAR_BLOCK))
		return (rc = end_of_archive(r, err)) ? rc : 0;
	if (!checksum_ok(b1))
		return ng_errf(err, NG_EINVAL,
			       "%s: corrupt tar header (bad checksum) after %zu members", r->label,
			       r->members);
	ustar_name(b1, shown, sizeof(shown));
	if (b1[156] != 'x')
		return (rc = unsafe_name(r, shown, err)) ? rc
							 : bad_type(r, (char)b1[156], shown, err);
	if (octal(b1 + 124, 12, &paxlen))
		return ng_errf(err, NG_EINVAL, "%s: corrupt size in a pax header", r->label);
	if (paxlen > TAR_PAX_MAX)
		return ng_errf(err, NG_ELIMIT, "%s: pax header of %" PRIu64 " bytes (limit %d)",
			       r->label, paxlen, TAR_PAX_MAX);
	if (++r->members > r->lim.max_members)
		return ng_errf(err, NG_ELIMIT, "%s: more than %zu members", r->label,
			       r->lim.max_members);
	buf_init(&raw, 0);
	buf_init(&want, 0);
	if (buf_append(&raw, b1, TAR_BLOCK)) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}
	{
		uint8_t pb[TAR_PAX_MAX + TAR_BLOCK];
		size_t plen = (size_t)(paxlen + tar_pad(paxlen));
		if ((rc = rawread(r, pb, plen, err)))
			goto done;
		buf_append(&raw, pb, plen);
		if ((rc = pax_parse(r, (const char *)pb, (size_t)paxlen, &x, err)))
			goto done;
	}
	if ((rc = rawread(r, b2, TAR_BLOCK, err)))
		goto done;
	if (!checksum_ok(b2)) {
		rc = ng_errf(err, NG_EINVAL, "%s: member '%s': corrupt tar header (bad checksum)",
			     r->label, x.name);
		goto done;
	}
	if ((rc = unsafe_name(r, x.name, err)))
		goto done;
	if (b2[156] != '0') {
		rc = bad_type(r, (char)b2[156], x.name, err);
		goto done;
	}
	buf_append(&raw, b2, TAR_BLOCK);
	if (octal(b2 + 124, 12, &stored)) {
		rc = ng_errf(err, NG_EINVAL, "%s: member '%s': corrupt size field", r->label,
			     x.name);
		goto done;
	}
	if ((rc = tar_header_encode(&want, x.name, stored, x.sparse, x.realsize, err)))
		goto done;
	if (raw.oom || want.len != raw.len || memcmp(want.data, raw.data, raw.len)) {
		rc = ng_errf(err, NG_EINVAL,
			     "%s: member '%s': header is not in the canonical form (SPEC §3.3)",
			     r->label, x.name);
		goto done;
	}
	memcpy(r->cur.name, x.name, sizeof(r->cur.name));
	r->cur.sparse = x.sparse;
	r->cur.size = x.sparse ? x.realsize : stored;
	r->cur.nmap = 0;
	if (r->cur.size > r->lim.max_member_size) {
		rc = ng_errf(err, NG_ELIMIT,
			     "%s: member '%s' of %" PRIu64 " bytes is over the limit of %" PRIu64,
			     r->label, x.name, r->cur.size, r->lim.max_member_size);
		goto done;
	}
	if (stored > r->lim.max_tar_bytes - gzs_reader_bytes(r->gz)) {
		rc = ng_errf(err, NG_ELIMIT,
			     "%s: member '%s' stores %" PRIu64
			     " bytes, over the decompression cap of %" PRIu64 " (a bomb?)",
			     r->label, x.name, stored, r->lim.max_tar_bytes);
		goto done;
	}
	r->pad = tar_pad(stored);
	if (x.sparse) {
		if ((rc = read_map(r, stored, err)))
			goto done;
	} else {
		r->cur.data = stored;
		r->left = stored;
	}
	*e = &r->cur;
	rc = 1;
done:
	buf_free(&raw);
	buf_free(&want);
	return rc;
}

int tarr_read(struct tarr *r, void *buf, size_t n, size_t *got, struct ng_err *err)
{
	int rc;

	if (n > r->left)
		n = (size_t)r->left;
	*got = 0;
	if (!n)
		return 0;
	if ((rc = rawread(r, buf, n, err)))
		return rc;
	r->left -= n;
	*got = n;
	return 0;
}
