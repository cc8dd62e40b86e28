/* encfs.h: the whole encfs.img the encfs sidecar opens (sidecars.md §1.7,
 * §2.3-§2.5): LUKS2 header (luks.h) + ext4 (ext4img.h) with the mint's
 * initial content: the root directory owned by the mint's user and the
 * marker file the mint's entrypoint waits for (seed-deployment.md §3.2).
 * No root, no device-mapper, no loop device. */
#ifndef NG_ENCFS_H
#define NG_ENCFS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "../bundle-format/err.h"
#include "keys.h"

#define ENCFS_DEFAULT_SIZE   (1ULL << 30)
#define ENCFS_MIN_SIZE	     (64ULL << 20) /* 16 MiB header + 48 MiB ext4 */
#define ENCFS_MAX_SIZE	     (1ULL << 40)
#define ENCFS_DEFAULT_MARKER ".persist-sentinel"
#define ENCFS_MAX_ADDS	     256

struct encfs_add {
	const char *src; /* a regular file or directory on the host */
	const char *dst; /* path inside the file system, relative to its root */
};

struct encfs_opts {
	uint64_t size;	      /* image bytes; multiple of 4096, ENCFS_MIN..MAX_SIZE */
	uint32_t inodes;      /* 0: EXT4IMG_DEFAULT_INODES */
	uint32_t journal_mib; /* 0: EXT4IMG_DEFAULT_JOURNAL_MIB */
	uid_t uid;	      /* owner of root dir, marker and added files */
	gid_t gid;
	const char *marker;	 /* NULL: ENCFS_DEFAULT_MARKER; "" : none */
	const char *marker_text; /* NULL: "nutgen encfs volume\n" */
	const struct encfs_add *adds;
	size_t nadds;
};

/* Parses "1GiB", "1024MiB", "1073741824" etc. into bytes. */
int encfs_parse_size(const char *s, uint64_t *out, struct ng_err *err);

/* Validates opts (size, adds readable, dst paths safe) without writing. */
int encfs_validate(const struct encfs_opts *o, struct ng_err *err);

/* Creates the image at out (temp file + rename; nothing left on failure;
 * refuses to replace an existing file: the image holds a mint's database).
 * The key gives the keyslot passphrases (key_passphrases()). */
int encfs_create(const char *out, const struct key *k, const struct encfs_opts *o,
		 struct ng_err *err);

struct encfs_report {
	int keyslots_ok;    /* passphrases of the key that opened a keyslot */
	uint64_t blocks;    /* file system blocks */
	uint64_t holes;	    /* blocks left as holes (all free) */
	uint64_t allocated; /* bytes allocated on disk */
};

/* Opens the header, checks parameters and every passphrase of the key,
 * decrypts into a private scratch file, checks that holes are free blocks
 * and runs e2fsck -fn. */
int encfs_check(const char *path, const struct key *k, struct encfs_report *rep,
		struct ng_err *err);
#endif
