/* tarr.h: the strict tar.gz reader of bundles (SPEC.md §3, §6). It accepts
 * only the canonical encoding tarw writes (headers are rebuilt and compared
 * byte for byte), and rejects with a reason naming the member: links,
 * devices, directories and every other type, global or unknown pax records,
 * unsafe names (absolute, "..", more than two components), sparse maps that
 * overlap or exceed the size, sizes over the limits, decompressed bytes over
 * the cap, truncation, and anything after the end-of-archive blocks or the
 * gzip stream. It never writes anything; callers decide what to do with the
 * data it hands out. The gzip framing itself is checked by gzstored.h. */
#ifndef NG_TARR_H
#define NG_TARR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tarfmt.h"

struct tarr_limits {
	uint64_t max_tar_bytes;	  /* decompressed bytes in total */
	uint64_t max_member_size; /* content bytes of one member (sparse: realsize) */
	size_t max_members;
};

/* The defaults of SPEC.md §6. */
extern const struct tarr_limits TARR_DEFAULT_LIMITS;

struct tarr_entry {
	char name[TAR_NAME_MAX + 1];
	int sparse;
	uint64_t size;	      /* content bytes (sparse: GNU.sparse.realsize) */
	uint64_t data;	      /* stored data bytes after the map (non-sparse: size) */
	struct tar_span *map; /* sparse only; owned by the reader */
	size_t nmap;
};

struct tarr;

/* Reads fd from its current offset (fd is not closed). label names the input
 * in errors. */
int tarr_new(int fd, const char *label, const struct tarr_limits *lim, struct tarr **out,
	     struct ng_err *err);
void tarr_free(struct tarr *r);

/* Moves to the next member (skipping unread data). Returns 1 with *e set
 * (valid until the next call), 0 at a clean end of input, or an error. */
int tarr_next(struct tarr *r, const struct tarr_entry **e, struct ng_err *err);

/* Reads up to n bytes of the current member's stored data (spans in order);
 * *got is 0 at its end. */
int tarr_read(struct tarr *r, void *buf, size_t n, size_t *got, struct ng_err *err);

/* Decompressed bytes consumed so far. */
uint64_t tarr_tar_bytes(const struct tarr *r);

#endif
