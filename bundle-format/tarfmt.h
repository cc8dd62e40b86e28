/* tarfmt.h: the canonical tar encoding of a bundle (SPEC.md §3): one pax
 * extended header ('x') and one ustar header per member, every field fixed
 * except name and size, and PAX sparse format 1.0 for sparse members. The
 * writer emits exactly these bytes and the reader rebuilds them and compares,
 * so a header that GNU tar would interpret differently from us (other owner,
 * link target, prefix field, global header) cannot get through. */
#ifndef NG_TARFMT_H
#define NG_TARFMT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define TAR_BLOCK	  512
#define TAR_NAME_MAX	  80	/* member names (SPEC §3.2) */
#define TAR_SPARSE_MAX	  65536 /* map entries of one sparse member */
#define TAR_SPARSE_GRAIN  4096	/* canonical hole granularity */
#define TAR_PAX_MAX	  4096	/* bytes of one member's pax header data */
#define TAR_SPARSE_PREFIX "GNUSparseFile.0/"
#define TAR_PAX_PREFIX	  "PaxHeaders.0/"

struct tar_span {
	uint64_t off;
	uint64_t len;
};

/* Member name grammar (SPEC §3.2): 1..80 bytes of [A-Za-z0-9._-] in one or two
 * '/'-separated components, no component starting with '.', so never "." or
 * "..", never absolute, never empty. */
int tar_name_valid(const char *name);

/* Appends the canonical header blocks of a member (pax 'x' header block(s),
 * then the ustar block) to out. stored is the member's data size in the
 * archive (for sparse members: map block plus data); realsize is used only
 * when sparse. */
int tar_header_encode(struct buf *out, const char *name, uint64_t stored, int sparse,
		      uint64_t realsize, struct ng_err *err);

/* The sparse 1.0 map block: "N\n" then "offset\nlength\n" per span, NUL
 * padded to a block boundary. */
int tar_sparse_map_encode(struct buf *out, const struct tar_span *map, size_t n,
			  struct ng_err *err);

/* Checks a map: sorted, non-overlapping, inside realsize, only the last span
 * may be empty and then sits at realsize (GNU tar's mark for a trailing hole),
 * at most TAR_SPARSE_MAX spans. Sets *data to the sum of lengths. */
int tar_sparse_map_check(const struct tar_span *map, size_t n, uint64_t realsize, uint64_t *data,
			 struct ng_err *err);

/* Number of bytes (a multiple of TAR_BLOCK) of padding after n data bytes. */
static inline uint64_t tar_pad(uint64_t n)
{
	return (TAR_BLOCK - n % TAR_BLOCK) % TAR_BLOCK;
}

#endif
