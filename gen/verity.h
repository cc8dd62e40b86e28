/* verity.h: the sink the ext4 writer streams its image into. It keeps the
 * dm-verity level-0 digest of every 4096-byte block (SHA-256 of 32 zero
 * bytes of salt followed by the block: format version 1, as hcsshim
 * ext4/dmverity/dmverity.go and `veritysetup --salt=<64 zeros>`), so file
 * data is hashed once as it streams by and never read back, and optionally
 * writes the image itself to a file. */
#ifndef NG_VERITY_H
#define NG_VERITY_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"

#define VERITY_BLOCK 4096

struct verity_img;

/* out_fd < 0: hash only. The image starts at byte offset start (a block
 * boundary); blocks before it are supplied later with verity_put_block. */
int verity_img_new(int out_fd, uint64_t start, struct verity_img **out, struct ng_err *err);
void verity_img_free(struct verity_img *v);

/* Current byte position of sequential writes. */
uint64_t verity_pos(const struct verity_img *v);
int verity_write(struct verity_img *v, const void *p, size_t n, struct ng_err *err);
int verity_zero(struct verity_img *v, uint64_t n, struct ng_err *err);
/* (Re)writes one whole block below the sequential position. */
int verity_put_block(struct verity_img *v, uint64_t block, const uint8_t data[VERITY_BLOCK],
		     struct ng_err *err);
/* Image ends at the (block-aligned) sequential position: computes the
 * dm-verity root over all blocks and flushes the output. */
int verity_finish(struct verity_img *v, uint8_t root[32], struct ng_err *err);

/* Root hash of a whole file (for tests and tools), same parameters. */
int verity_root_of_fd(int fd, uint8_t root[32], struct ng_err *err);

#endif
