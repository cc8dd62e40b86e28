/* tarw.h: the deterministic tar.gz writer of bundles (SPEC.md §3). Members
 * are written in the order given (the bundle layer sorts them), each with
 * the canonical headers of tarfmt.h; the gzip stream has no name, mtime 0
 * and OS 3 and holds the tar in canonical deflate stored blocks (SPEC §2.1,
 * gzstored.h), so equal inputs give equal bytes.
 *
 * Sparse members: tarw_scan_file() computes the canonical map once (4096-byte
 * grains that are all zero are holes, whatever the file system allocated),
 * the content's SHA-256 and size; tarw_add_file() then writes that map and
 * its data and fails if the file changed in between. */
#ifndef NG_TARW_H
#define NG_TARW_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tarfmt.h"

struct tarw_scan {
	uint64_t size;		 /* content bytes */
	uint8_t sha256[32];	 /* of the content, holes read as zeros */
	uint8_t data_sha256[32]; /* of the stored data spans, to detect changes */
	struct tar_span *map;	 /* sparse only */
	size_t nmap;
	uint64_t data; /* bytes in spans */
};

struct tarw;

/* Writes to fd (not closed by tarw). */
int tarw_new(int fd, struct tarw **out, struct ng_err *err);
void tarw_free(struct tarw *w);

int tarw_add_bytes(struct tarw *w, const char *name, const void *p, size_t n, struct ng_err *err);
/* scan: from tarw_scan_file() with the same sparse flag. */
int tarw_add_file(struct tarw *w, const char *name, const char *path, const struct tarw_scan *scan,
		  int sparse, struct ng_err *err);
/* Two zero blocks, gzip trailer, flush. */
int tarw_finish(struct tarw *w, struct ng_err *err);

/* Reads path once: size and SHA-256, and for sparse the canonical map. */
int tarw_scan_file(const char *path, int sparse, struct tarw_scan *s, struct ng_err *err);
void tarw_scan_clear(struct tarw_scan *s);

/* Bytes of compressed output written so far (for reports). */
uint64_t tarw_bytes_out(const struct tarw *w);

#endif
