/* layer.h: the dm-verity root hash of a container image layer, computed the
 * way Azure computes it (hcsshim tar2ext4 → compactext4 image → dm-verity
 * SHA-256 tree, 4096/4096, 32 zero bytes of salt), so that a CCE policy
 * lists exactly what the guest will measure. See
 * ../shared/research/tar2ext4-dmverity.md for every rule.
 *
 * One streaming pass over the input yields the root, the digest of the bytes
 * as stored (the OCI blob digest) and the digest of the uncompressed tar (the
 * OCI diff_id), so an image reader can verify a layer while it is hashed. */
#ifndef NG_LAYER_H
#define NG_LAYER_H

#include <stdint.h>

#include "../bundle-format/err.h"

struct layer_opts {
	const char *ext4_out; /* when set, also write the exact ext4 image hashed here */
	const char *name;     /* the input's name for error messages (defaults to the path) */
};

struct layer_result {
	uint8_t root[32];	 /* dm-verity root hash (what the policy lists) */
	uint8_t blob_digest[32]; /* SHA-256 of the input bytes as read (compressed or not) */
	uint8_t diff_id[32];	 /* SHA-256 of the uncompressed tar stream */
	uint64_t blob_bytes;	 /* input bytes read */
	uint64_t tar_bytes;	 /* uncompressed tar bytes */
	uint64_t ext4_bytes;	 /* size of the ext4 image hashed */
};

/* Input may be a plain tar, gzip (1f 8b) or zstd (28 b5 2f fd), detected by
 * magic. Fails with a one-line reason naming the input on anything the
 * reference rejects, and with NG_ELIMIT on inputs over the documented limits. */
int layer_hash_file(const char *path, const struct layer_opts *o, struct layer_result *res,
		    struct ng_err *err);
/* Same, reading from fd until EOF (fd is not closed). */
int layer_hash_fd(int fd, const struct layer_opts *o, struct layer_result *res, struct ng_err *err);

#endif
