/* ocitar.h: the member index of a tar archive read in place (POSIX.1-2001
 * pax, ustar with prefix, GNU long names 'L'/'K', base-256 sizes), as Go's
 * archive/tar reads what registries and docker write. Only what an image
 * archive may hold is accepted: regular files, directories, symlinks and hard
 * links; any other member type, an unsafe name (absolute, "..", "."), a
 * duplicate name, a bad checksum, a truncated member or a zero block followed
 * by data rejects the whole archive. Bytes after the end marker are ignored. */
#ifndef NG_OCITAR_H
#define NG_OCITAR_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"

enum { OCITAR_FILE, OCITAR_DIR, OCITAR_SYMLINK, OCITAR_HARDLINK };

struct ocitar_member {
	char *name; /* normalised: no leading "./", no trailing "/" */
	char *link; /* symlink / hard link target as stored */
	int type;
	uint64_t off, size; /* data bytes at off (regular files only) */
};

/* Reads n bytes at off; 0 or -1. */
typedef int (*ocitar_read_fn)(void *ctx, uint64_t off, void *p, size_t n);

/* Indexes an archive of size bytes named name (for errors); on success
 * *out (sorted by name) holds *n members, freed with ocitar_free. */
int ocitar_index(const char *name, uint64_t size, ocitar_read_fn rd, void *ctx,
		 struct ocitar_member **out, size_t *n, struct ng_err *err);
void ocitar_free(struct ocitar_member *m, size_t n);
const struct ocitar_member *ocitar_find(const struct ocitar_member *m, size_t n, const char *name);

#endif
