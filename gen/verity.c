/* verity.c: see verity.h. The tree: level 0 = digests of the data blocks,
 * zero-padded to a whole block; each next level digests the previous one's
 * blocks; the first level that is exactly one block is the top, and the root
 * is the digest of that block (hcsshim dmverity.go MerkleTree/RootHash). */
#include "verity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define OUT_BUF (1u << 20)

struct verity_img {
	EVP_MD_CTX *ctx;
	EVP_MD *md;
	uint8_t *l0; /* 32 bytes per block */
	uint64_t l0_cap;
	uint64_t blk; /* next whole block of the sequential stream */
	uint8_t part[VERITY_BLOCK];
	size_t part_len;
	uint8_t zero_hash[32];
	int out_fd;
	uint8_t *obuf;
	size_t olen;
	uint64_t ooff; /* file offset of obuf[0] */
};

static const uint8_t salt[32];

static int hash_block(struct verity_img *v, const uint8_t *b, uint8_t out[32])
{
	unsigned int len = 32;

	if (!EVP_DigestInit_ex2(v->ctx, v->md, NULL) || !EVP_DigestUpdate(v->ctx, salt, 32) ||
	    !EVP_DigestUpdate(v->ctx, b, VERITY_BLOCK) || !EVP_DigestFinal_ex(v->ctx, out, &len))
		return -1;
	return 0;
}

static int l0_reserve(struct verity_img *v, uint64_t blocks, struct ng_err *err)
{
	uint64_t nc;
	uint8_t *p;

	if (blocks <= v->l0_cap)
		return 0;
	nc = v->l0_cap ? v->l0_cap : 1024;
	while (nc < blocks)
		nc *= 2;
	p = realloc(v->l0, nc * 32);
	if (!p)
		return ng_errf(err, NG_ENOMEM, "out of memory for the dm-verity tree");
	v->l0 = p;
	v->l0_cap = nc;
	return 0;
}

int verity_img_new(int out_fd, uint64_t start, struct verity_img **out, struct ng_err *err)
{
	struct verity_img *v = calloc(1, sizeof(*v));
	uint8_t z[VERITY_BLOCK] = {0};

	*out = NULL;
	if (!v)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	v->out_fd = out_fd;
	v->blk = start / VERITY_BLOCK;
	v->ooff = start;
	v->ctx = EVP_MD_CTX_new();
	v->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!v->ctx || !v->md || hash_block(v, z, v->zero_hash) < 0) {
		verity_img_free(v);
		return ng_errf(err, NG_ECRYPTO, "SHA-256 unavailable in OpenSSL");
	}
	if (out_fd >= 0 && !(v->obuf = malloc(OUT_BUF))) {
		verity_img_free(v);
		return ng_errf(err, NG_ENOMEM, "out of memory");
	}
	*out = v;
	return 0;
}

void verity_img_free(struct verity_img *v)
{
	if (!v)
		return;
	EVP_MD_CTX_free(v->ctx);
	EVP_MD_free(v->md);
	free(v->l0);
	free(v->obuf);
	free(v);
}

static int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off, struct ng_err *err)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ng_errf(err, NG_EIO, "writing the ext4 image: %s",
				       w < 0 ? strerror(errno) : "short write");
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int out_flush(struct verity_img *v, struct ng_err *err)
{
	int rc = 0;

	if (v->out_fd >= 0 && v->olen)
		rc = pwrite_all(v->out_fd, v->obuf, v->olen, v->ooff, err);
	v->ooff += v->olen;
	v->olen = 0;
	return rc;
}

static int out_append(struct verity_img *v, const uint8_t *p, size_t n, struct ng_err *err)
{
	int rc;

	if (v->out_fd < 0)
		return 0;
	while (n > 0) {
		size_t k = OUT_BUF - v->olen < n ? OUT_BUF - v->olen : n;
		memcpy(v->obuf + v->olen, p, k);
		v->olen += k;
		p += k;
		n -= k;
		if (v->olen == OUT_BUF && (rc = out_flush(v, err)) < 0)
			return rc;
	}
	return 0;
}

static int full_block(struct verity_img *v, const uint8_t *b, struct ng_err *err)
{
	int rc;

	if ((rc = l0_reserve(v, v->blk + 1, err)) < 0)
		return rc;
	if (hash_block(v, b, v->l0 + v->blk * 32) < 0)
		return ng_errf(err, NG_ECRYPTO, "SHA-256 failed");
	v->blk++;
	return out_append(v, b, VERITY_BLOCK, err);
}

uint64_t verity_pos(const struct verity_img *v)
{
	return v->blk * VERITY_BLOCK + v->part_len;
}

int verity_write(struct verity_img *v, const void *p, size_t n, struct ng_err *err)
{
	const uint8_t *b = p;
	int rc;

	if (v->part_len) {
		size_t k = VERITY_BLOCK - v->part_len < n ? VERITY_BLOCK - v->part_len : n;
		memcpy(v->part + v->part_len, b, k);
		v->part_len += k;
		b += k;
		n -= k;
		if (v->part_len < VERITY_BLOCK)
			return 0;
		v->part_len = 0;
		if ((rc = full_block(v, v->part, err)) < 0)
			return rc;
	}
	while (n >= VERITY_BLOCK) {
		if ((rc = full_block(v, b, err)) < 0)
			return rc;
		b += VERITY_BLOCK;
		n -= VERITY_BLOCK;
	}
	if (n) {
		memcpy(v->part, b, n);
		v->part_len = n;
	}
	return 0;
}

int verity_zero(struct verity_img *v, uint64_t n, struct ng_err *err)
{
	static const uint8_t z[VERITY_BLOCK];
	uint64_t whole;
	int rc;

	if (v->part_len) {
		size_t k = VERITY_BLOCK - v->part_len < n ? VERITY_BLOCK - v->part_len : (size_t)n;
		if ((rc = verity_write(v, z, k, err)) < 0)
			return rc;
		n -= k;
	}
	whole = n / VERITY_BLOCK;
	if (whole) {
		if ((rc = l0_reserve(v, v->blk + whole, err)) < 0)
			return rc;
		for (uint64_t i = 0; i < whole; i++)
			memcpy(v->l0 + (v->blk + i) * 32, v->zero_hash, 32);
		/* Zero blocks become a hole in the output file. */
		if ((rc = out_flush(v, err)) < 0)
			return rc;
		v->blk += whole;
		v->ooff = v->blk * VERITY_BLOCK;
		n -= whole * VERITY_BLOCK;
	}
	return n ? verity_write(v, z, (size_t)n, err) : 0;
}

int verity_put_block(struct verity_img *v, uint64_t block, const uint8_t data[VERITY_BLOCK],
		     struct ng_err *err)
{
	int rc;

	if (block >= v->blk)
		return ng_errf(err, NG_EINTERNAL, "verity: block %llu not written yet",
			       (unsigned long long)block);
	if (hash_block(v, data, v->l0 + block * 32) < 0)
		return ng_errf(err, NG_ECRYPTO, "SHA-256 failed");
	if (v->out_fd < 0)
		return 0;
	if ((rc = out_flush(v, err)) < 0)
		return rc;
	return pwrite_all(v->out_fd, data, VERITY_BLOCK, block * VERITY_BLOCK, err);
}

int verity_finish(struct verity_img *v, uint8_t root[32], struct ng_err *err)
{
	uint8_t *level = v->l0, *next = NULL, pad[VERITY_BLOCK];
	uint64_t n = v->blk;
	int rc;

	if (v->part_len)
		return ng_errf(err, NG_EINTERNAL, "verity: image does not end on a block");
	if ((rc = out_flush(v, err)) < 0)
		return rc;
	if (v->out_fd >= 0 && ftruncate(v->out_fd, (off_t)(v->blk * VERITY_BLOCK)) < 0)
		return ng_errf(err, NG_EIO, "writing the ext4 image: %s", strerror(errno));
	for (;;) {
		uint64_t bytes = n * 32, blocks = (bytes + VERITY_BLOCK - 1) / VERITY_BLOCK;
		uint8_t *nx;
		if (blocks <= 1) {
			memset(pad, 0, sizeof(pad));
			memcpy(pad, level, bytes);
			rc = hash_block(v, pad, root);
			break;
		}
		nx = malloc(blocks * 32);
		if (!nx) {
			free(next);
			return ng_errf(err, NG_ENOMEM, "out of memory for the dm-verity tree");
		}
		for (uint64_t i = 0; i < blocks; i++) {
			const uint8_t *b = level + i * VERITY_BLOCK;
			if ((i + 1) * VERITY_BLOCK > bytes) {
				memset(pad, 0, sizeof(pad));
				memcpy(pad, b, bytes - i * VERITY_BLOCK);
				b = pad;
			}
			if (hash_block(v, b, nx + i * 32) < 0) {
				free(nx);
				free(next);
				return ng_errf(err, NG_ECRYPTO, "SHA-256 failed");
			}
		}
		free(next);
		next = level = nx;
		n = blocks;
	}
	free(next);
	return rc < 0 ? ng_errf(err, NG_ECRYPTO, "SHA-256 failed") : 0;
}

int verity_root_of_fd(int fd, uint8_t root[32], struct ng_err *err)
{
	struct verity_img *v;
	uint8_t *buf;
	ssize_t r;
	int rc;

	if ((rc = verity_img_new(-1, 0, &v, err)) < 0)
		return rc;
	buf = malloc(1u << 20);
	if (!buf) {
		verity_img_free(v);
		return ng_errf(err, NG_ENOMEM, "out of memory");
	}
	for (;;) {
		r = read(fd, buf, 1u << 20);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ng_errf(err, NG_EIO, "read: %s", strerror(errno));
			break;
		}
		if (r == 0) {
			uint64_t p = verity_pos(v);
			rc = p % VERITY_BLOCK ? verity_zero(v, VERITY_BLOCK - p % VERITY_BLOCK, err)
					      : 0;
			if (rc == 0)
				rc = verity_finish(v, root, err);
			break;
		}
		if ((rc = verity_write(v, buf, (size_t)r, err)) < 0)
			break;
	}
	free(buf);
	verity_img_free(v);
	return rc;
}
