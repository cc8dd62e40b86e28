/* layersrc.h: the byte source of a layer: reads a file descriptor in large
 * chunks, digests the bytes as stored (the OCI blob digest), undoes gzip or
 * zstd compression when the magic says so, and digests the uncompressed
 * stream (the OCI diff_id). The tar reader pulls from it without copies. */
#ifndef NG_LAYERSRC_H
#define NG_LAYERSRC_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"

enum layersrc_kind { LAYERSRC_TAR, LAYERSRC_GZIP, LAYERSRC_ZSTD };

struct layersrc;

/* fd is read, never closed. name is used in error messages. */
int layersrc_new(int fd, const char *name, struct layersrc **out, struct ng_err *err);
void layersrc_free(struct layersrc *s);
enum layersrc_kind layersrc_kind(const struct layersrc *s);

/* Makes up to max uncompressed bytes available at *p without consuming them;
 * *n = 0 means end of stream. Returns 0 or a negative NG_E* code. */
int layersrc_peek(struct layersrc *s, const uint8_t **p, size_t *n, size_t max, struct ng_err *err);
/* Consumes n bytes (n <= what the last peek returned). */
void layersrc_consume(struct layersrc *s, size_t n);

/* Reads the rest of the input (so the digests cover the whole file) and
 * returns both digests and byte counts. Decompression errors past the point
 * the tar reader needed are not errors of the layer (the reference never
 * reads there) but stop the diff_id where they occur. */
int layersrc_finish(struct layersrc *s, uint8_t blob[32], uint64_t *blob_bytes, uint8_t diff[32],
		    uint64_t *tar_bytes, struct ng_err *err);

#endif
