#include "tarfmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int tar_name_valid(const char *name)
{
	size_t n = strlen(name), comps = 1;
	int start = 1;

	if (n == 0 || n > TAR_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (c == '/') {
			if (start || ++comps > 2)
				return 0;
			start = 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
		/* A leading '.' would allow "." and ".." and hidden files. */
		if (start && c == '.')
			return 0;
		start = 0;
	}
	return !start;
}

/* ustar numeric field: width-1 zero-padded octal digits and a NUL (POSIX
 * pax "ustar Interchange Format"). */
static int put_octal(char *f, size_t width, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%0*" PRIo64, (int)(width - 1), v);

	if (n < 0 || (size_t)n != width - 1)
		return -1;
	memcpy(f, tmp, width - 1);
	f[width - 1] = '\0';
	return 0;
}

static int ustar_block(uint8_t b[TAR_BLOCK], const char *name, uint64_t size, char type)
{
	unsigned sum = 0;
	char *h = (char *)b;

	memset(b, 0, TAR_BLOCK);
	if (strlen(name) > 100)
		return -1;
	memcpy(h, name, strlen(name)); /* name[100] */
	if (put_octal(h + 100, 8, 0644) || put_octal(h + 108, 8, 0) || put_octal(h + 116, 8, 0) ||
	    put_octal(h + 124, 12, size) || put_octal(h + 136, 12, 0))
		return -1;
	h[156] = type;
	memcpy(h + 257, "ustar", 6); /* magic "ustar\0", version "00" */
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += b[i];
	snprintf(h + 148, 8, "%06o", sum); /* six digits, NUL, then the space already there */
	h[155] = ' ';
	return 0;
}

/* One pax record "LEN key=value\n", LEN counting the whole record. */
static int pax_record(struct buf *o, const char *key, const char *val)
{
	size_t body = strlen(key) + strlen(val) + 3; /* ' ' '=' '\n' */
	size_t len = body + 1;

	while (len != body + (size_t)snprintf(NULL, 0, "%zu", len))
		len = body + (size_t)snprintf(NULL, 0, "%zu", len);
	return buf_printf(o, "%zu %s=%s\n", len, key, val);
}

int tar_header_encode(struct buf *out, const char *name, uint64_t stored, int sparse,
		      uint64_t realsize, struct ng_err *err)
{
	struct buf pax;
	char hname[160], num[32];
	uint8_t blk[TAR_BLOCK];
	int rc = 0;

	if (!tar_name_valid(name))
		return ng_errf(err, NG_EINVAL, "member name '%.100s' is not allowed", name);
	buf_init(&pax, TAR_PAX_MAX);
	if (sparse) {
		snprintf(num, sizeof(num), "%" PRIu64, realsize);
		pax_record(&pax, "GNU.sparse.major", "1");
		pax_record(&pax, "GNU.sparse.minor", "0");
		pax_record(&pax, "GNU.sparse.name", name);
		pax_record(&pax, "GNU.sparse.realsize", num);
	} else {
		pax_record(&pax, "path", name);
	}
	if (pax.oom) {
		buf_free(&pax);
		return ng_errf(err, NG_ENOMEM, "out of memory");
	}
	snprintf(hname, sizeof(hname), "%s%s", TAR_PAX_PREFIX, name);
	if (ustar_block(blk, hname, pax.len, 'x') || buf_append(out, blk, TAR_BLOCK) ||
	    buf_append(out, pax.data, pax.len)) {
		rc = ng_errf(err, NG_ENOMEM, "%s: cannot encode header", name);
		goto done;
	}
	memset(blk, 0, sizeof(blk));
	if (buf_append(out, blk, tar_pad(pax.len))) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(hname, sizeof(hname), "%s%s", sparse ? TAR_SPARSE_PREFIX : "", name);
	if (ustar_block(blk, hname, stored, '0') || buf_append(out, blk, TAR_BLOCK))
		rc = ng_errf(err, NG_EINVAL, "%s: %" PRIu64 " bytes do not fit a ustar header",
			     name, stored);
done:
	buf_free(&pax);
	return rc;
}

int tar_sparse_map_encode(struct buf *out, const struct tar_span *map, size_t n, struct ng_err *err)
{
	size_t start = out->len;
	static const uint8_t zero[TAR_BLOCK];

	buf_printf(out, "%zu\n", n);
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "%" PRIu64 "\n%" PRIu64 "\n", map[i].off, map[i].len);
	buf_append(out, zero, tar_pad(out->len - start));
	return out->oom ? ng_errf(err, NG_ENOMEM, "sparse map: out of memory") : 0;
}

int tar_sparse_map_check(const struct tar_span *map, size_t n, uint64_t realsize, uint64_t *data,
			 struct ng_err *err)
{
	uint64_t end = 0, sum = 0;

	if (n == 0 || n > TAR_SPARSE_MAX)
		return ng_errf(err, NG_ELIMIT, "sparse map has %zu entries (1..%d allowed)", n,
			       TAR_SPARSE_MAX);
	for (size_t i = 0; i < n; i++) {
		if (map[i].off < end)
			return ng_errf(err, NG_EINVAL,
				       "sparse map entry %zu overlaps or is out of order", i);
		if (map[i].len > realsize || map[i].off > realsize - map[i].len)
			return ng_errf(err, NG_EINVAL,
				       "sparse map entry %zu exceeds the size %" PRIu64, i,
				       realsize);
		if (map[i].len == 0 && (i != n - 1 || map[i].off != realsize))
			return ng_errf(err, NG_EINVAL,
				       "sparse map entry %zu is empty and not the final marker", i);
		end = map[i].off + map[i].len;
		sum += map[i].len;
	}
	*data = sum;
	return 0;
}
