/* ext4w_xattr.c: extended attributes as compactext4 stores them
 * (compact.go:188-359): name-prefix compression, first-fit placement of the
 * bytewise-sorted names, in-inode area and xattr block layouts, and the
 * block entry order that Go's sort.Slice produces with compactext4's
 * (not strictly weak) comparator. */
#include <stdlib.h>
#include <string.h>

#include "ext4w_int.h"
#include "gosort.h"

#define INODE_BUDGET (INLINE_XATTR - 8)
#define BLOCK_BUDGET (BLOCK - 36)

struct xa {
	uint8_t index;
	const char *name; /* stored name (after the prefix) */
	size_t name_len;
	const uint8_t *val;
	size_t len;
};

static const struct {
	uint8_t index;
	const char *prefix;
} prefixes[] = {{2, "system.posix_acl_access"},
		{3, "system.posix_acl_default"},
		{8, "system.richacl"},
		{7, "system."},
		{1, "user."},
		{4, "trusted."},
		{6, "security."}};

static void compress(const char *full, struct xa *x)
{
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i].prefix);
		if (!strncmp(full, prefixes[i].prefix, pl)) {
			x->index = prefixes[i].index;
			x->name = full + pl;
			x->name_len = strlen(full + pl);
			return;
		}
	}
	x->index = 0;
	x->name = full;
	x->name_len = strlen(full);
}

static const char *prefix_of(uint8_t index)
{
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (prefixes[i].index == index)
			return prefixes[i].prefix;
	return "";
}

static size_t entry_len(const struct xa *x)
{
	return ((x->name_len + 3) & ~(size_t)3) + 16;
}

static size_t value_len(const struct xa *x)
{
	return (x->len + 3) & ~(size_t)3;
}

static uint32_t xa_hash(const struct xa *x)
{
	uint32_t h = 0;

	for (size_t i = 0; i < x->name_len; i++)
		h = (h << 5) ^ (h >> 27) ^ (uint8_t)x->name[i];
	for (size_t i = 0; i + 3 < x->len; i += 4)
		h = (h << 16) ^ (h >> 16) ^ get32(x->val + i);
	if (x->len % 4) {
		uint8_t last[4] = {0};
		memcpy(last, x->val + (x->len & ~(size_t)3), x->len % 4);
		h = (h << 16) ^ (h >> 16) ^ get32(last);
	}
	return h;
}

/* compact.go putXattrs: entries from the start, values from the end. */
static void put_xattrs(const struct xa *xs, size_t n, uint8_t *b, size_t blen, uint16_t delta)
{
	uint16_t offset = (uint16_t)(blen + delta);
	size_t eo = 0, dend = blen;

	for (size_t i = 0; i < n; i++) {
		const struct xa *x = &xs[i];
		size_t vl = value_len(x);
		offset = (uint16_t)(offset - vl);
		b[eo] = (uint8_t)x->name_len;
		b[eo + 1] = x->index;
		put16(b + eo + 2, offset);
		put32(b + eo + 8, (uint32_t)x->len);
		put32(b + eo + 12, xa_hash(x));
		memcpy(b + eo + 16, x->name, x->name_len);
		eo += entry_len(x);
		memcpy(b + dend - vl, x->val, x->len);
		dend -= vl;
	}
}

/* Go's string comparison is bytewise with the shorter prefix first. */
static int name_cmp(const struct xa *a, const struct xa *b)
{
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = memcmp(a->name, b->name, n);
	if (c)
		return c;
	return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

static int block_less(const struct xa *a, const struct xa *b)
{
	return a->index < b->index || a->name_len < b->name_len || name_cmp(a, b) < 0;
}

static int block_less_v(const void *a, const void *b)
{
	return block_less(a, b);
}

struct named {
	const char *full;
	const uint8_t *val;
	size_t len;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->full, ((const struct named *)b)->full);
}

/* compact.go getXattrs over an in-inode area (stops at an empty stored name). */
static size_t parse_inline(const uint8_t *area, struct xa *out, size_t max)
{
	const uint8_t *b = area + 4;
	size_t eo = 0, n = 0, blen = INLINE_XATTR - 4;

	while (eo < blen && n < max) {
		struct xa x;
		if (b[eo] == 0)
			break;
		x.name_len = b[eo];
		x.index = b[eo + 1];
		x.name = (const char *)b + eo + 16;
		x.len = get32(b + eo + 8);
		x.val = b + get16(b + eo + 2);
		out[n++] = x;
		eo += entry_len(&x);
	}
	return n;
}

static char *full_name(const struct xa *x)
{
	const char *p = prefix_of(x->index);
	size_t pl = strlen(p);
	char *s = malloc(pl + x->name_len + 1);

	if (!s)
		return NULL;
	memcpy(s, p, pl);
	memcpy(s + pl, x->name, x->name_len);
	s[pl + x->name_len] = 0;
	return s;
}

int ext4w_xattrs_apply(struct ext4w *w, struct ino *node, const struct ext4w_xattr *fx,
		       size_t nfx, struct ng_err *err)
{
	struct xa old[INLINE_XATTR / 16], *in = NULL, *blk = NULL;
	char *oldnames[INLINE_XATTR / 16] = {0};
	struct named *all = NULL;
	size_t nold = 0, nall = 0, nin = 0, nblk = 0, in_left = INODE_BUDGET,
	       blk_left = BLOCK_BUDGET;
	uint8_t *xin = NULL, b[BLOCK];
	int rc = 0;

	if (node->xin)
		nold = parse_inline(node->xin, old, INLINE_XATTR / 16);
	all = malloc((nfx + nold + 1) * sizeof(*all));
	in = malloc((nfx + nold + 1) * sizeof(*in));
	blk = malloc((nfx + nold + 1) * sizeof(*blk));
	if (!all || !in || !blk) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nfx; i++)
		all[nall++] = (struct named){fx[i].name, fx[i].val, fx[i].len};
	/* Earlier in-inode attributes survive unless f names them again. */
	for (size_t i = 0; i < nold; i++) {
		size_t j;
		if (!(oldnames[i] = full_name(&old[i]))) {
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
			goto out;
		}
		for (j = 0; j < nfx && strcmp(fx[j].name, oldnames[i]); j++)
			;
		if (j == nfx)
			all[nall++] = (struct named){oldnames[i], old[i].val, old[i].len};
	}
	qsort(all, nall, sizeof(*all), cmp_named);
	for (size_t i = 0; i < nall; i++) {
		struct xa x;
		size_t l;
		compress(all[i].full, &x);
		x.val = all[i].val;
		x.len = all[i].len;
		l = entry_len(&x) + value_len(&x);
		if (x.name_len > 255) {
			rc = ng_errf(err, NG_EINVAL, "xattr name over 255 bytes: %.40s...",
				     all[i].full);
			goto out;
		}
		if (in_left >= l) {
			in[nin++] = x;
			in_left -= l;
		} else if (blk_left >= l) {
			blk[nblk++] = x;
			blk_left -= l;
		} else {
			rc = ng_errf(err, NG_EINVAL, "could not fit xattr %s", all[i].full);
			goto out;
		}
	}
	if (nin) {
		if (!(xin = calloc(1, INLINE_XATTR))) {
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
			goto out;
		}
		put32(xin, 0xEA020000);
		put_xattrs(in, nin, xin + 4, INLINE_XATTR - 4, 0);
	}
	if (nblk || node->xblock) {
		uint8_t *ser;
		size_t sl = 0;
		/* compactext4 sorts with sort.Slice and a comparator that is not a
		 * strict weak order: only Go's exact algorithm gives its order. */
		go_sort_slice(blk, nblk, sizeof(*blk), block_less_v);
		memset(b, 0, sizeof(b));
		put32(b, 0xEA020000);
		put32(b + 4, 1);
		put32(b + 8, 1);
		put_xattrs(blk, nblk, b + 32, BLOCK - 32, 32);
		/* Keep what Stat needs: the entries in block order. */
		for (size_t i = 0; i < nblk; i++)
			sl += 8 + blk[i].name_len + blk[i].len;
		if (!(ser = malloc(sl + 1))) {
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
			goto out;
		}
		sl = 0;
		for (size_t i = 0; i < nblk; i++) {
			ser[sl] = blk[i].index;
			ser[sl + 1] = (uint8_t)blk[i].name_len;
			put32(ser + sl + 4, (uint32_t)blk[i].len);
			memcpy(ser + sl + 8, blk[i].name, blk[i].name_len);
			memcpy(ser + sl + 8 + blk[i].name_len, blk[i].val, blk[i].len);
			sl += 8 + blk[i].name_len + blk[i].len;
		}
		if (node->xblock) {
			/* compactext4 rewrites the old block in place (§6.4). */
			rc = verity_put_block(w->v, node->xblock, b, err);
		} else {
			node->xblock = (uint32_t)(verity_pos(w->v) / BLOCK);
			node->nblocks++;
			rc = ext4w_raw_write(w, b, BLOCK, err);
		}
		if (rc < 0) {
			free(ser);
			goto out;
		}
		free(node->xblk);
		node->xblk = ser;
		node->xblk_len = (uint32_t)sl;
	}
	free(node->xin);
	node->xin = xin;
	xin = NULL;
out:
	for (size_t i = 0; i < nold; i++)
		free(oldnames[i]);
	free(xin);
	free(all);
	free(in);
	free(blk);
	return rc;
}

static int add_stat(struct ext4w_xattr **out, size_t *n, size_t *cap, const struct xa *x)
{
	char *full = full_name(x);
	uint8_t *v = malloc(x->len + 1);

	if (!full || !v) {
		free(full);
		free(v);
		return -1;
	}
	memcpy(v, x->val, x->len);
	/* map semantics: a later entry of the same name replaces the earlier */
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp((*out)[i].name, full)) {
			free(full);
			free((void *)(*out)[i].val);
			(*out)[i].val = v;
			(*out)[i].len = x->len;
			return 0;
		}
	}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct ext4w_xattr *p = realloc(*out, nc * sizeof(*p));
		if (!p) {
			free(full);
			free(v);
			return -1;
		}
		*out = p;
		*cap = nc;
	}
	(*out)[*n].name = full;
	(*out)[*n].val = v;
	(*out)[*n].len = x->len;
	(*n)++;
	return 0;
}

int ext4w_xattrs_stat(const struct ino *node, struct ext4w_xattr **out, size_t *n,
		      struct ng_err *err)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (node->xblk) {
		size_t o = 0;
		while (o < node->xblk_len) {
			struct xa x;
			x.index = node->xblk[o];
			x.name_len = node->xblk[o + 1];
			x.len = get32(node->xblk + o + 4);
			x.name = (const char *)node->xblk + o + 8;
			x.val = node->xblk + o + 8 + x.name_len;
			if (x.name_len == 0)
				break; /* getXattrs stops at an empty stored name */
			if (add_stat(out, n, &cap, &x) < 0)
				goto nomem;
			o += 8 + x.name_len + x.len;
		}
	}
	if (node->xin) {
		struct xa xs[INLINE_XATTR / 16];
		size_t k = parse_inline(node->xin, xs, INLINE_XATTR / 16);
		for (size_t i = 0; i < k; i++)
			if (add_stat(out, n, &cap, &xs[i]) < 0)
				goto nomem;
	}
	return 0;
nomem:
	for (size_t i = 0; i < *n; i++) {
		free((void *)(*out)[i].name);
		free((void *)(*out)[i].val);
	}
	free(*out);
	*out = NULL;
	*n = 0;
	return ng_errf(err, NG_ENOMEM, "out of memory");
}
