/* ext4w.h: an ext4 writer that reproduces hcsshim's compactext4
 * (ext4/internal/compactext4/compact.go, options ConvertWhiteout +
 * MaximumDiskSize(128 GiB), no InlineData) byte for byte, streaming the image
 * into a verity sink. Only metadata stays in memory; file data passes
 * straight through. See ../shared/research/tar2ext4-dmverity.md §4-§8. */
#ifndef NG_EXT4W_H
#define NG_EXT4W_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"
#include "tarstream.h"
#include "verity.h"

#define EXT4W_S_IFMT   0xF000
#define EXT4W_S_IFIFO  0x1000
#define EXT4W_S_IFCHR  0x2000
#define EXT4W_S_IFDIR  0x4000
#define EXT4W_S_IFBLK  0x6000
#define EXT4W_S_IFREG  0x8000
#define EXT4W_S_IFLNK  0xA000
#define EXT4W_S_IFSOCK 0xC000

/* Blocks before the first data block: superblock + 8 descriptor blocks. */
#define EXT4W_FIRST_DATA_BLOCK 9

struct ext4w_xattr {
	const char *name; /* full name, e.g. "user.foo" */
	const uint8_t *val;
	size_t len;
};

/* compactext4's File. */
struct ext4w_file {
	const char *link;
	int64_t size;
	uint16_t mode;
	uint32_t uid, gid, devmajor, devminor;
	struct tar_time atime, ctime, mtime, crtime;
	struct ext4w_xattr *xattrs; /* names unique */
	size_t nxattrs;
};

struct ext4w;

int ext4w_new(struct verity_img *v, struct ext4w **out, struct ng_err *err);
void ext4w_free(struct ext4w *w);

/* Error messages are compactext4's ("x: cannot replace a directory with a
 * file"); callers prefix the input's name. */
int ext4w_make_parents(struct ext4w *w, const char *name, struct ng_err *err);
/* A regular file then receives exactly f->size bytes through ext4w_write. */
int ext4w_create(struct ext4w *w, const char *name, const struct ext4w_file *f,
		 struct ng_err *err);
int ext4w_write(struct ext4w *w, const void *p, size_t n, struct ng_err *err);
int ext4w_link(struct ext4w *w, const char *oldname, const char *newname, struct ng_err *err);
/* Fills f (times decoded, xattrs as compactext4's Stat finds them); free
 * with ext4w_file_release. */
int ext4w_stat(struct ext4w *w, const char *name, struct ext4w_file *f, struct ng_err *err);
void ext4w_file_release(struct ext4w_file *f);
/* Writes directories, inode table, bitmaps, descriptors and superblock. */
int ext4w_close(struct ext4w *w, struct ng_err *err);

/* compactext4 timeToFsTime / fsTimeToTime. */
uint64_t ext4w_time_encode(const struct tar_time *t);
struct tar_time ext4w_time_decode(uint64_t v);

#endif
