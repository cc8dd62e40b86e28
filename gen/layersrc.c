/* layersrc.c: see layersrc.h. Compression is recognised by magic, as
 * dmverity-vhd does for gzip (ivhd files.go: 1f 8b); zstd (28 b5 2f fd) is
 * accepted too because OCI allows zstd layers, whose diff_id is the tar. */
#include "layersrc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "../bundle-format/digest.h"

#define IN_CAP	(1u << 20)
#define OUT_CAP (1u << 20)

struct layersrc {
	int fd;
	const char *name;
	enum layersrc_kind kind;
	uint8_t *in;
	size_t in_pos, in_len;
	int in_eof;
	uint64_t blob_bytes, tar_bytes;
	struct sha256_ctx *blob, *diff;
	/* decompressed window (the input window itself for plain tar) */
	uint8_t *out;
	size_t out_pos, out_len;
	int out_end;
	z_stream zs;
	int zs_init;
	ZSTD_DCtx *zd;
	size_t zd_last; /* last ZSTD_decompressStream result: 0 = frame complete */
	/* The blob digest is computed by a helper thread on each input chunk
	 * while this thread decodes and hashes the same (read-only) bytes. */
	int th_on, busy, quit;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const uint8_t *job;
	size_t job_n;
};

static void *blob_hasher(void *arg)
{
	struct layersrc *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->busy && !s->quit)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->busy)
			break;
		pthread_mutex_unlock(&s->mu);
		sha256_update(s->blob, s->job, s->job_n);
		pthread_mutex_lock(&s->mu);
		s->busy = 0;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Waits until the helper no longer reads the input window. */
static void blob_wait(struct layersrc *s)
{
	if (!s->th_on)
		return;
	pthread_mutex_lock(&s->mu);
	while (s->busy)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

static void blob_hash(struct layersrc *s, const uint8_t *p, size_t n)
{
	if (!s->th_on) {
		sha256_update(s->blob, p, n);
		return;
	}
	pthread_mutex_lock(&s->mu);
	s->job = p;
	s->job_n = n;
	s->busy = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static int fill_in(struct layersrc *s, struct ng_err *err)
{
	ssize_t r;

	if (s->in_pos < s->in_len || s->in_eof)
		return 0;
	blob_wait(s);
	s->in_pos = s->in_len = 0;
	do
		r = read(s->fd, s->in, IN_CAP);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ng_errf(err, NG_EIO, "%s: read: %s", s->name, strerror(errno));
	if (r == 0) {
		s->in_eof = 1;
		return 0;
	}
	s->in_len = (size_t)r;
	s->blob_bytes += (uint64_t)r;
	blob_hash(s, s->in, (size_t)r);
	return 0;
}

int layersrc_new(int fd, const char *name, struct layersrc **out, struct ng_err *err)
{
	struct layersrc *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return ng_errf(err, NG_ENOMEM, "%s: out of memory", name);
	s->fd = fd;
	s->name = name;
	s->in = malloc(IN_CAP);
	s->blob = sha256_new();
	s->diff = sha256_new();
	if (!s->in || !s->blob || !s->diff) {
		layersrc_free(s);
		return ng_errf(err, NG_ENOMEM, "%s: out of memory", name);
	}
	/* A magic can straddle short reads from a pipe: gather 4 bytes. */
	for (;;) {
		if ((rc = fill_in(s, err)) < 0) {
			layersrc_free(s);
			return rc;
		}
		if (s->in_len >= 4 || s->in_eof)
			break;
		if (s->in_len > 0) {
			ssize_t r;
			do
				r = read(fd, s->in + s->in_len, IN_CAP - s->in_len);
			while (r < 0 && errno == EINTR);
			if (r < 0) {
				layersrc_free(s);
				return ng_errf(err, NG_EIO, "%s: read: %s", name, strerror(errno));
			}
			if (r == 0) {
				s->in_eof = 1;
				break;
			}
			sha256_update(s->blob, s->in + s->in_len, (size_t)r);
			s->blob_bytes += (uint64_t)r;
			s->in_len += (size_t)r;
		}
	}
	if (s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b) {
		s->kind = LAYERSRC_GZIP;
		if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK) {
			layersrc_free(s);
			return ng_errf(err, NG_ENOMEM, "%s: zlib init failed", name);
		}
		s->zs_init = 1;
		s->zs.next_in = s->in;
		s->zs.avail_in = (uInt)s->in_len;
	} else if (s->in_len >= 4 && s->in[0] == 0x28 && s->in[1] == 0xb5 && s->in[2] == 0x2f &&
		   s->in[3] == 0xfd) {
		s->kind = LAYERSRC_ZSTD;
		s->zd = ZSTD_createDCtx();
		/* Bound the decoder's window (zstd's own default limit, 128 MiB). */
		if (!s->zd ||
		    ZSTD_isError(ZSTD_DCtx_setParameter(s->zd, ZSTD_d_windowLogMax, 27))) {
			layersrc_free(s);
			return ng_errf(err, NG_ENOMEM, "%s: zstd init failed", name);
		}
		s->zd_last = 1;
	}
	if (pthread_mutex_init(&s->mu, NULL) == 0) {
		if (pthread_cond_init(&s->cv, NULL) == 0) {
			if (pthread_create(&s->th, NULL, blob_hasher, s) == 0)
				s->th_on = 1;
			else
				pthread_cond_destroy(&s->cv);
		}
		if (!s->th_on)
			pthread_mutex_destroy(&s->mu);
	}
	if (s->kind != LAYERSRC_TAR) {
		s->out = malloc(OUT_CAP);
		if (!s->out) {
			layersrc_free(s);
			return ng_errf(err, NG_ENOMEM, "%s: out of memory", name);
		}
	}
	*out = s;
	return 0;
}

void layersrc_free(struct layersrc *s)
{
	if (!s)
		return;
	if (s->th_on) {
		pthread_mutex_lock(&s->mu);
		s->quit = 1;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->th, NULL);
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
	}
	if (s->zs_init)
		inflateEnd(&s->zs);
	ZSTD_freeDCtx(s->zd);
	sha256_free(s->blob);
	sha256_free(s->diff);
	free(s->in);
	free(s->out);
	free(s);
}

enum layersrc_kind layersrc_kind(const struct layersrc *s)
{
	return s->kind;
}

/* Gives zlib the next chunk of input once it has used up the last one. */
static int gz_refill(struct layersrc *s, struct ng_err *err)
{
	int rc;

	if (s->zs.avail_in != 0)
		return 0;
	s->in_pos = s->in_len;
	if ((rc = fill_in(s, err)) < 0)
		return rc;
	s->zs.next_in = s->in + s->in_pos;
	s->zs.avail_in = (uInt)(s->in_len - s->in_pos);
	return 0;
}

static int gunzip_more(struct layersrc *s, struct ng_err *err)
{
	int rc;

	s->out_pos = s->out_len = 0;
	while (s->out_len == 0 && !s->out_end) {
		if ((rc = gz_refill(s, err)) < 0)
			return rc;
		if (s->zs.avail_in == 0 && s->in_eof)
			return ng_errf(err, NG_EINVAL, "%s: gzip: unexpected EOF (truncated layer)",
				       s->name);
		s->zs.next_out = s->out;
		s->zs.avail_out = OUT_CAP;
		rc = inflate(&s->zs, Z_NO_FLUSH);
		s->out_len = OUT_CAP - s->zs.avail_out;
		s->in_pos = s->in_len - s->zs.avail_in;
		if (rc == Z_STREAM_END) {
			/* Go's gzip reader is multistream: another member may follow. */
			if ((rc = gz_refill(s, err)) < 0)
				return rc;
			if (s->zs.avail_in == 0)
				s->out_end = 1;
			else if (inflateReset(&s->zs) != Z_OK)
				return ng_errf(err, NG_EINTERNAL, "%s: zlib reset failed", s->name);
		} else if (rc != Z_OK && !(rc == Z_BUF_ERROR && s->out_len > 0)) {
			if (rc == Z_BUF_ERROR)
				continue;
			return ng_errf(err, NG_EINVAL, "%s: gzip: %s (corrupt layer)", s->name,
				       s->zs.msg ? s->zs.msg : "invalid data");
		}
	}
	if (s->out_len) {
		sha256_update(s->diff, s->out, s->out_len);
		s->tar_bytes += s->out_len;
	}
	return 0;
}

static int unzstd_more(struct layersrc *s, struct ng_err *err)
{
	int rc;

	s->out_pos = s->out_len = 0;
	while (s->out_len == 0 && !s->out_end) {
		ZSTD_inBuffer ib;
		ZSTD_outBuffer ob = {s->out, OUT_CAP, 0};
		if (s->in_pos == s->in_len) {
			if ((rc = fill_in(s, err)) < 0)
				return rc;
			if (s->in_pos == s->in_len && s->in_eof) {
				if (s->zd_last != 0)
					return ng_errf(err, NG_EINVAL,
						       "%s: zstd: unexpected EOF (truncated layer)",
						       s->name);
				s->out_end = 1;
				break;
			}
		}
		ib.src = s->in + s->in_pos;
		ib.size = s->in_len - s->in_pos;
		ib.pos = 0;
		s->zd_last = ZSTD_decompressStream(s->zd, &ob, &ib);
		if (ZSTD_isError(s->zd_last))
			return ng_errf(err, NG_EINVAL, "%s: zstd: %s (corrupt layer)", s->name,
				       ZSTD_getErrorName(s->zd_last));
		s->in_pos += ib.pos;
		s->out_len = ob.pos;
	}
	if (s->out_len) {
		sha256_update(s->diff, s->out, s->out_len);
		s->tar_bytes += s->out_len;
	}
	return 0;
}

int layersrc_peek(struct layersrc *s, const uint8_t **p, size_t *n, size_t max, struct ng_err *err)
{
	size_t avail;
	int rc;

	*n = 0;
	*p = NULL;
	if (s->kind == LAYERSRC_TAR) {
		if ((rc = fill_in(s, err)) < 0)
			return rc;
		avail = s->in_len - s->in_pos;
		*p = s->in + s->in_pos;
	} else {
		if (s->out_pos == s->out_len && !s->out_end) {
			rc = s->kind == LAYERSRC_GZIP ? gunzip_more(s, err) : unzstd_more(s, err);
			if (rc < 0)
				return rc;
		}
		avail = s->out_len - s->out_pos;
		*p = s->out + s->out_pos;
	}
	*n = avail < max ? avail : max;
	return 0;
}

void layersrc_consume(struct layersrc *s, size_t n)
{
	if (s->kind == LAYERSRC_TAR)
		s->in_pos += n;
	else
		s->out_pos += n;
}

int layersrc_finish(struct layersrc *s, uint8_t blob[32], uint64_t *blob_bytes, uint8_t diff[32],
		    uint64_t *tar_bytes, struct ng_err *err)
{
	const uint8_t *p;
	size_t n;
	int rc;

	for (;;) {
		rc = layersrc_peek(s, &p, &n, SIZE_MAX, err);
		if (rc < 0 && s->kind == LAYERSRC_TAR)
			return rc;
		if (rc < 0 || n == 0)
			break;
		layersrc_consume(s, n);
	}
	/* The blob digest covers every stored byte, whatever the decoder did. */
	for (;;) {
		s->in_pos = s->in_len;
		if ((rc = fill_in(s, err)) < 0)
			return rc;
		if (s->in_eof)
			break;
	}
	blob_wait(s);
	sha256_final(s->blob, blob);
	*blob_bytes = s->blob_bytes;
	if (s->kind == LAYERSRC_TAR) {
		memcpy(diff, blob, 32);
		*tar_bytes = s->blob_bytes;
	} else {
		sha256_final(s->diff, diff);
		*tar_bytes = s->tar_bytes;
	}
	return 0;
}
