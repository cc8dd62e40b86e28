#include "tarw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "digest.h"
#include "fileio.h"
#include "gzstored.h"

#define INBUF (1024 * 1024)

struct tarw {
	struct gzs_writer *gz; /* the tar in its gzip framing (SPEC §2.1) */
};

static const uint8_t zeros[INBUF];

int tarw_new(int fd, struct tarw **out_w, struct ng_err *err)
{
	struct tarw *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	if ((rc = gzs_writer_new(fd, &w->gz, err))) {
		free(w);
		return rc;
	}
	*out_w = w;
	return 0;
}

void tarw_free(struct tarw *w)
{
	if (!w)
		return;
	gzs_writer_free(w->gz);
	free(w);
}

uint64_t tarw_bytes_out(const struct tarw *w)
{
	return gzs_writer_bytes_out(w->gz);
}

static int put_header(struct tarw *w, const char *name, uint64_t stored, int sparse,
		      uint64_t realsize, struct ng_err *err)
{
	struct buf h;
	int rc;

	buf_init(&h, 0);
	rc = tar_header_encode(&h, name, stored, sparse, realsize, err);
	if (!rc)
		rc = gzs_write(w->gz, h.data, h.len, err);
	buf_free(&h);
	return rc;
}

int tarw_add_bytes(struct tarw *w, const char *name, const void *p, size_t n, struct ng_err *err)
{
	int rc = put_header(w, name, n, 0, 0, err);

	if (!rc)
		rc = gzs_write(w->gz, p, n, err);
	if (!rc)
		rc = gzs_write(w->gz, zeros, tar_pad(n), err);
	return rc;
}

static int read_at(int fd, uint8_t *b, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, b + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void hash_zeros(struct sha256_ctx *c, uint64_t n)
{
	while (n) {
		size_t k = n > INBUF ? INBUF : (size_t)n;
		sha256_update(c, zeros, k);
		n -= k;
	}
}

static int all_zero(const uint8_t *p, size_t n)
{
	/* Compare against the static zero buffer: memcmp is vectorised. */
	return memcmp(p, zeros, n) == 0;
}

static int add_span(struct tarw_scan *s, size_t *cap, uint64_t off, uint64_t len)
{
	if (s->nmap && s->map[s->nmap - 1].off + s->map[s->nmap - 1].len == off && len) {
		s->map[s->nmap - 1].len += len;
		return 0;
	}
	if (s->nmap >= TAR_SPARSE_MAX)
		return -1;
	if (s->nmap == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct tar_span *m = realloc(s->map, nc * sizeof(*m));
		if (!m)
			return -1;
		s->map = m;
		*cap = nc;
	}
	s->map[s->nmap].off = off;
	s->map[s->nmap].len = len;
	s->nmap++;
	return 0;
}

/* Grains in [from, to) (grain aligned, to clipped at size): read, hash,
 * classify. */
static int scan_range(int fd, uint64_t from, uint64_t to, struct tarw_scan *s, size_t *cap,
		      struct sha256_ctx *all, struct sha256_ctx *data, uint8_t *b, const char *path,
		      struct ng_err *err)
{
	while (from < to) {
		size_t n = to - from > INBUF ? INBUF : (size_t)(to - from);
		if (read_at(fd, b, n, from))
			return ng_errf(err, NG_EIO, "%s: read failed or file shrank", path);
		sha256_update(all, b, n);
		for (size_t i = 0; data && i < n; i += TAR_SPARSE_GRAIN) {
			size_t g = n - i < TAR_SPARSE_GRAIN ? n - i : TAR_SPARSE_GRAIN;
			if (all_zero(b + i, g))
				continue;
			sha256_update(data, b + i, g);
			if (add_span(s, cap, from + i, g))
				return ng_errf(
				    err, NG_ELIMIT,
				    "%s: more than %d data extents; cannot store it sparse", path,
				    TAR_SPARSE_MAX);
		}
		from += n;
	}
	return 0;
}

int tarw_scan_file(const char *path, int sparse, struct tarw_scan *s, struct ng_err *err)
{
	struct sha256_ctx *all = sha256_new(), *data = sha256_new();
	uint8_t *b = malloc(INBUF);
	struct stat st;
	size_t cap = 0;
	uint64_t pos = 0;
	int rc = 0, fd = open_regular(path, &st, err);

	memset(s, 0, sizeof(*s));
	if (fd < 0) {
		rc = fd;
		goto done;
	}
	if (!all || !data || !b) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}
	s->size = (uint64_t)st.st_size;
	if (!sparse) {
		rc = scan_range(fd, 0, s->size, s, &cap, all, NULL, b, path, err);
		/* Non-sparse members store every byte; the data digest is the
		 * content digest. */
		goto done;
	}
	while (pos < s->size) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
		uint64_t gstart, hend;
		if (d < 0 && errno == ENXIO)
			d = (off_t)s->size;
		else if (d < 0)
			d = (off_t)pos; /* no SEEK_DATA: read everything */
		gstart = (uint64_t)d / TAR_SPARSE_GRAIN * TAR_SPARSE_GRAIN;
		if (gstart < pos)
			gstart = pos;
		hash_zeros(all, gstart - pos);
		if ((uint64_t)d >= s->size) {
			pos = s->size;
			break;
		}
		off_t h = lseek(fd, d, SEEK_HOLE);
		hend = h < 0 ? s->size : (uint64_t)h;
		hend = (hend + TAR_SPARSE_GRAIN - 1) / TAR_SPARSE_GRAIN * TAR_SPARSE_GRAIN;
		if (hend > s->size || hend <= gstart)
			hend = s->size;
		rc = scan_range(fd, gstart, hend, s, &cap, all, data, b, path, err);
		if (rc)
			goto done;
		pos = hend;
	}
	if (!s->nmap || s->map[s->nmap - 1].off + s->map[s->nmap - 1].len < s->size)
		if (add_span(s, &cap, s->size, 0))
			rc = ng_errf(err, NG_ELIMIT, "%s: too many data extents", path);
done:
	if (!rc) {
		sha256_final(all, s->sha256);
		sha256_final(data, s->data_sha256);
		for (size_t i = 0; i < s->nmap; i++)
			s->data += s->map[i].len;
		if (!sparse)
			memcpy(s->data_sha256, s->sha256, 32);
	} else {
		tarw_scan_clear(s);
	}
	if (fd >= 0)
		close(fd);
	sha256_free(all);
	sha256_free(data);
	free(b);
	return rc;
}

void tarw_scan_clear(struct tarw_scan *s)
{
	if (!s)
		return;
	free(s->map);
	memset(s, 0, sizeof(*s));
}

int tarw_add_file(struct tarw *w, const char *name, const char *path, const struct tarw_scan *scan,
		  int sparse, struct ng_err *err)
{
	struct buf map;
	struct sha256_ctx *h = sha256_new();
	uint8_t *b = malloc(INBUF), got[32];
	struct tar_span whole = {0, scan->size};
	const struct tar_span *spans = sparse ? scan->map : &whole;
	size_t nspans = sparse ? scan->nmap : 1;
	uint64_t stored = 0;
	struct stat st;
	int rc = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

	buf_init(&map, 0);
	if (!h || !b) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}
	if (fd < 0 || fstat(fd, &st) || (uint64_t)st.st_size != scan->size) {
		rc = ng_errf(err, NG_EIO, "%s: cannot open, or it changed while bundling", path);
		goto done;
	}
	if (sparse) {
		rc = tar_sparse_map_encode(&map, scan->map, scan->nmap, err);
		if (rc)
			goto done;
	}
	stored = map.len + (sparse ? scan->data : scan->size);
	rc = put_header(w, name, stored, sparse, scan->size, err);
	if (!rc && map.len)
		rc = gzs_write(w->gz, map.data, map.len, err);
	for (size_t i = 0; !rc && i < nspans; i++) {
		uint64_t off = spans[i].off, end = off + spans[i].len;
		while (!rc && off < end) {
			size_t n = end - off > INBUF ? INBUF : (size_t)(end - off);
			if (read_at(fd, b, n, off)) {
				rc = ng_errf(err, NG_EIO, "%s: read failed or file shrank", path);
				break;
			}
			sha256_update(h, b, n);
			rc = gzs_write(w->gz, b, n, err);
			off += n;
		}
	}
	if (rc)
		goto done;
	sha256_final(h, got);
	if (memcmp(got, scan->data_sha256, 32)) {
		rc =
		    ng_errf(err, NG_EIO, "%s: changed while bundling; run the command again", path);
		goto done;
	}
	rc = gzs_write(w->gz, zeros, tar_pad(stored), err);
done:
	if (fd >= 0)
		close(fd);
	buf_free(&map);
	sha256_free(h);
	free(b);
	return rc;
}

int tarw_finish(struct tarw *w, struct ng_err *err)
{
	int rc = gzs_write(w->gz, zeros, 2 * TAR_BLOCK, err);

	return rc ? rc : gzs_writer_finish(w->gz, err);
}
