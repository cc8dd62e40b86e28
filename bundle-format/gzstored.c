#include "gzstored.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fileio.h"

#define INBUF (64 * 1024)

/* RFC 1952 §2.3: ID1 ID2, CM 8, FLG 0, MTIME 0, XFL 0, OS 3. SPEC §2.1 allows
 * only this header, so that no byte of a bundle is free to change. */
static const uint8_t gzip_header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

struct gzs_reader {
	int fd, started, eof_in, zdone;
	const char *label;
	size_t in_pos, in_len;
	uint32_t blk_left; /* tar bytes left in the current stored block */
	int blk_final, blocks;
	uint32_t crc;
	uint64_t bytes; /* tar bytes handed out; ISIZE is this mod 2^32 */
	uint8_t in[INBUF];
};

int gzs_reader_new(int fd, const char *label, struct gzs_reader **out, struct ng_err *err)
{
	struct gzs_reader *z = calloc(1, sizeof(*z));

	if (!z)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	z->fd = fd;
	z->label = label;
	z->crc = (uint32_t)crc32(0L, Z_NULL, 0);
	*out = z;
	return 0;
}

void gzs_reader_free(struct gzs_reader *z)
{
	free(z);
}

uint64_t gzs_reader_bytes(const struct gzs_reader *z)
{
	return z->bytes;
}

/* The first fill reads until it holds the whole gzip header (or the input
 * ends) so that the header is checked in one piece. */
static int fill(struct gzs_reader *z, struct ng_err *err)
{
	ssize_t n;
	size_t have = 0;

	do {
		n = read(z->fd, z->in + have, INBUF - have);
		if (n > 0)
			have += (size_t)n;
	} while ((n < 0 && errno == EINTR) || (n > 0 && !z->started && have < sizeof(gzip_header)));
	if (n < 0)
		return ng_errf(err, NG_EIO, "%s: read failed: %s", z->label, strerror(errno));
	z->in_pos = 0;
	z->in_len = have;
	if (!z->started) {
		z->started = 1;
		if (have < sizeof(gzip_header) || memcmp(z->in, gzip_header, sizeof(gzip_header)))
			return ng_errf(err, NG_EINVAL,
				       "%s: not a bundle: the gzip header is not the canonical one "
				       "(SPEC §2.1)",
				       z->label);
		z->in_pos = sizeof(gzip_header);
	}
	if (have == 0)
		z->eof_in = 1;
	return 0;
}

/* At least one input byte buffered, or an error: the stream ends early. */
static int need_input(struct gzs_reader *z, struct ng_err *err)
{
	int rc;

	if (z->in_pos == z->in_len && !z->eof_in && (rc = fill(z, err)))
		return rc;
	if (z->in_pos == z->in_len)
		return ng_errf(err, NG_EINVAL, "%s: truncated (the gzip stream ends early)",
			       z->label);
	return 0;
}

/* Exactly n bytes of the framing itself (block headers, trailer). */
static int take(struct gzs_reader *z, uint8_t *p, size_t n, struct ng_err *err)
{
	while (n) {
		int rc = need_input(z, err);
		if (rc)
			return rc;
		size_t k = z->in_len - z->in_pos < n ? z->in_len - z->in_pos : n;
		memcpy(p, z->in + z->in_pos, k);
		z->in_pos += k;
		p += k;
		n -= k;
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The next stored block header, or the trailer after the final block. SPEC
 * §2.1 allows exactly one framing of a tar (RFC 1951 §3.2.4 stored blocks:
 * header byte 0x00, or 0x01 for the final one; every block but the final one
 * holds 65535 bytes; the final one holds 1..65535, or 0 only when it is the
 * only block), so any other framing is refused even where inflate would
 * decode it to the same bytes. */
static int next_block(struct gzs_reader *z, struct ng_err *err)
{
	uint8_t h[8];
	uint32_t len, nlen;
	int rc;

	if (z->blk_final) {
		/* RFC 1952 §2.3.1: CRC-32, then ISIZE (length mod 2^32). */
		if ((rc = take(z, h, 8, err)))
			return rc;
		if (le32(h) != z->crc || le32(h + 4) != (uint32_t)z->bytes)
			return ng_errf(err, NG_EINVAL,
				       "%s: the gzip CRC-32 or length does not match the data "
				       "(corrupt bundle)",
				       z->label);
		z->zdone = 1;
		return 0;
	}
	if ((rc = take(z, h, 5, err)))
		return rc;
	len = (uint32_t)h[1] | (uint32_t)h[2] << 8;
	nlen = (uint32_t)h[3] | (uint32_t)h[4] << 8;
	if ((h[0] != 0 && h[0] != 1) || len != (~nlen & 0xffff) ||
	    (h[0] == 0 && len != GZS_STORED_MAX) || (h[0] == 1 && len == 0 && z->blocks))
		return ng_errf(err, NG_EINVAL,
			       "%s: not a bundle: the gzip data is not in canonical stored blocks "
			       "(SPEC §2.1)",
			       z->label);
	z->blocks++;
	z->blk_final = h[0] == 1;
	z->blk_left = len;
	return 0;
}

int gzs_read(struct gzs_reader *z, void *buf, size_t n, size_t *got, struct ng_err *err)
{
	uint8_t *p = buf;

	*got = 0;
	while (*got < n && !z->zdone) {
		int rc;
		if (z->blk_left == 0) {
			if ((rc = next_block(z, err)))
				return rc;
			continue;
		}
		if ((rc = need_input(z, err)))
			return rc;
		size_t k = z->in_len - z->in_pos;
		if (k > z->blk_left)
			k = z->blk_left;
		if (k > n - *got)
			k = n - *got;
		memcpy(p + *got, z->in + z->in_pos, k);
		z->crc = (uint32_t)crc32(z->crc, p + *got, (uInt)k);
		z->bytes += k;
		z->in_pos += k;
		z->blk_left -= (uint32_t)k;
		*got += k;
	}
	return 0;
}

int gzs_reader_end(struct gzs_reader *z, struct ng_err *err)
{
	int rc;

	if (!z->zdone)
		return ng_errf(err, NG_EINVAL, "%s: the gzip stream has not ended", z->label);
	if (z->in_pos == z->in_len && !z->eof_in && (rc = fill(z, err)))
		return rc;
	/* A second gzip member is refused like any other byte (SPEC §2.1). */
	if (z->in_pos < z->in_len || !z->eof_in)
		return ng_errf(err, NG_EINVAL, "%s: trailing data after the gzip stream", z->label);
	return 0;
}

struct gzs_writer {
	int fd;
	uint64_t bytes_out;
	uint32_t crc, isize;
	size_t fill;			 /* tar bytes waiting in blk */
	uint8_t blk[5 + GZS_STORED_MAX]; /* one stored block: header + data */
};

static int out(struct gzs_writer *w, const void *p, size_t n, struct ng_err *err)
{
	if (write_all(w->fd, p, n))
		return ng_errf(err, NG_EIO, "writing the bundle failed: %s", strerror(errno));
	w->bytes_out += n;
	return 0;
}

int gzs_writer_new(int fd, struct gzs_writer **out_w, struct ng_err *err)
{
	struct gzs_writer *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	w->fd = fd;
	w->crc = (uint32_t)crc32(0L, Z_NULL, 0);
	rc = out(w, gzip_header, sizeof(gzip_header), err);
	if (rc) {
		free(w);
		return rc;
	}
	*out_w = w;
	return 0;
}

void gzs_writer_free(struct gzs_writer *w)
{
	free(w);
}

uint64_t gzs_writer_bytes_out(const struct gzs_writer *w)
{
	return w->bytes_out;
}

/* One deflate stored block (RFC 1951 §3.2.4), byte-aligned: header byte
 * BFINAL|BTYPE 00 with zero padding bits, LEN and NLEN little-endian. The
 * framing is fixed by SPEC §2.1 (full blocks, the rest in the final one), so
 * a tar has exactly one encoding and no compressed byte is free to change. */
static int emit(struct gzs_writer *w, int final, struct ng_err *err)
{
	size_t len = w->fill;

	w->blk[0] = final ? 1 : 0;
	w->blk[1] = (uint8_t)(len & 0xff);
	w->blk[2] = (uint8_t)(len >> 8);
	w->blk[3] = (uint8_t)(~len & 0xff);
	w->blk[4] = (uint8_t)((~len >> 8) & 0xff);
	w->crc = (uint32_t)crc32(w->crc, w->blk + 5, (uInt)len);
	w->isize += (uint32_t)len;
	w->fill = 0;
	return out(w, w->blk, 5 + len, err);
}

int gzs_write(struct gzs_writer *w, const void *p, size_t n, struct ng_err *err)
{
	const uint8_t *c = p;

	while (n) {
		/* A full block is written only once more data follows: the last
		 * block of the stream, full or not, carries BFINAL. */
		if (w->fill == GZS_STORED_MAX) {
			int rc = emit(w, 0, err);
			if (rc)
				return rc;
		}
		size_t k = GZS_STORED_MAX - w->fill;
		if (k > n)
			k = n;
		memcpy(w->blk + 5 + w->fill, c, k);
		w->fill += k;
		c += k;
		n -= k;
	}
	return 0;
}

int gzs_writer_finish(struct gzs_writer *w, struct ng_err *err)
{
	uint8_t t[8];
	int rc = emit(w, 1, err);

	if (rc)
		return rc;
	/* RFC 1952 §2.3.1: CRC-32 then ISIZE (length mod 2^32), little-endian. */
	for (int i = 0; i < 4; i++) {
		t[i] = (uint8_t)(w->crc >> (8 * i));
		t[4 + i] = (uint8_t)(w->isize >> (8 * i));
	}
	return out(w, t, sizeof(t), err);
}
