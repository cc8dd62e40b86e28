/* tarstream.h: a streaming tar reader with the semantics of Go's
 * archive/tar Reader, which hcsshim's tar2ext4 uses (go1.23
 * src/archive/tar/reader.go): ustar, PAX (x, and g returned as an entry of
 * its own), GNU long names/links, base-256 numbers, V7/GNU/STAR headers.
 * See ../shared/research/tar2ext4-dmverity.md §2.1. */
#ifndef NG_TARSTREAM_H
#define NG_TARSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"
#include "layersrc.h"

/* Go time.Time as tar produces it: set = 0 is the zero time. */
struct tar_time {
	int set;
	int64_t sec;
	int64_t nsec; /* 0 .. 999999999 */
};

struct tar_pax {
	char *key;
	uint8_t *val;
	size_t val_len;
};

struct tar_hdr {
	char typeflag;
	const char *name; /* NUL-free, owned by the reader until the next call */
	const char *link;
	int64_t mode, uid, gid, size, devmajor, devminor;
	struct tar_time mtime, atime, ctime;
	const struct tar_pax *pax; /* PAX records of this entry (keys unique) */
	size_t npax;
};

struct tar_reader;

int tar_reader_new(struct layersrc *src, const char *name, struct tar_reader **out,
		   struct ng_err *err);
void tar_reader_free(struct tar_reader *tr);

/* Returns 1 with *h filled, 0 at the end of the archive, or a negative code.
 * Skips whatever of the previous entry's data was not read. */
int tar_next(struct tar_reader *tr, struct tar_hdr *h, struct ng_err *err);
/* Bytes of the archive consumed so far (header blocks included). */
uint64_t tar_offset(const struct tar_reader *tr);
/* Data of the current entry, zero-copy: up to max bytes at *p (*n = 0 when
 * the entry's data is exhausted). Truncation is an error ("unexpected EOF"). */
int tar_data_peek(struct tar_reader *tr, const uint8_t **p, size_t *n, size_t max,
		  struct ng_err *err);
void tar_data_consume(struct tar_reader *tr, size_t n);
/* After reading all data: fails when a sparse entry left data unreferenced
 * (Go reports that on the read that ends the entry). */
int tar_data_finish(struct tar_reader *tr, struct ng_err *err);
/* Data bytes of the current entry not read yet. */
uint64_t tar_data_left(const struct tar_reader *tr);

#endif
