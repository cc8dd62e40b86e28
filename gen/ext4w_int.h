/* ext4w_int.h: state shared by ext4w.c (the file tree) and ext4w_close.c
 * (the finishing metadata). Not an interface for other modules. */
#ifndef NG_EXT4W_INT_H
#define NG_EXT4W_INT_H

#include "ext4w.h"

#define BLOCK		 4096u
#define BLOCKS_PER_GROUP 32768u
#define INODE_SIZE	 256u
#define INODE_FIRST	 11u
#define MAX_LINKS	 65000u
#define MAX_DISK	 (128ull << 30) /* dmverity.RecommendedVHDSizeGB */
#define MAX_FILE	 (128ll << 30)
#define INLINE_XATTR	 104u /* inodeSize - 152 */
#define FLAG_HUGE	 0x40000u
#define FLAG_EXTENTS	 0x80000u

struct ino {
	uint64_t size, atime, ctime, mtime, crtime;
	uint32_t uid, gid, links, xblock, nblocks, devmajor, devminor, flags;
	uint32_t dir; /* 1 + index into w->dirs for directories */
	uint16_t mode;
	uint8_t used, dlen;
	uint8_t data[60]; /* extent root or short symlink target */
	uint8_t *xin;	  /* INLINE_XATTR bytes or NULL */
	uint8_t *xblk;	  /* block xattrs in block order, serialized; NULL if none */
	uint32_t xblk_len;
};

struct dent {
	uint32_t ino;
	uint32_t name_len;
	uint64_t name_off; /* into w->names */
};

struct dir {
	struct dent *e;
	uint32_t n, cap;
};

struct ext4w {
	struct verity_img *v;
	struct ino *inodes; /* inodes[i] is inode number i + 1 */
	uint32_t ninodes, cap_inodes;
	struct dir *dirs;
	uint32_t ndirs, cap_dirs;
	char *names;
	uint64_t names_len, names_cap;
	/* (dir inode, name) -> entry index, open addressing */
	struct ht_ent {
		uint32_t dir, idx;
	} * ht;
	uint64_t ht_cap, ht_used;
	char *path; /* scratch for cleaned paths */
	size_t path_cap;
	/* the regular file or directory receiving data */
	uint32_t cur;
	uint64_t written, max;
};

#define INO(w, n) (&(w)->inodes[(n)-1])

/* ext4w_path.c */
struct dent *ext4w_child_get(struct ext4w *w, uint32_t dir, const char *s, size_t n);
int ext4w_set_child(struct ext4w *w, uint32_t dir, const char *s, size_t n, uint32_t ino,
		    struct ng_err *err);
int ext4w_ht_grow(struct ext4w *w, struct ng_err *err);
/* Go path.Clean("/" + name)[1:] into w->path. */
int ext4w_clean_path(struct ext4w *w, const char *name, size_t *outlen, struct ng_err *err);
int ext4w_is_dir(const struct ino *i);
/* Parent dir, existing child (0 if none) and child name (inside w->path). */
int ext4w_lookup(struct ext4w *w, const char *name, int must_exist, uint32_t *dir, uint32_t *child,
		 const char **cname, size_t *clen, struct ng_err *err);

int ext4w_finish_inode(struct ext4w *w, struct ng_err *err);
int ext4w_start_inode(struct ext4w *w, uint32_t ino, uint64_t max, struct ng_err *err);
int ext4w_raw_write(struct ext4w *w, const void *p, size_t n, struct ng_err *err);
int ext4w_raw_zero(struct ext4w *w, uint64_t n, struct ng_err *err);

static inline void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ext4w_xattr.c: merges f's attributes with the in-inode ones node already
 * has, places them (inode first-fit, then block) and writes the block. */
int ext4w_xattrs_apply(struct ext4w *w, struct ino *node, const struct ext4w_xattr *fx, size_t nfx,
		       struct ng_err *err);
/* The attributes compactext4's Stat reports (malloc'd names and values). */
int ext4w_xattrs_stat(const struct ino *node, struct ext4w_xattr **out, size_t *n,
		      struct ng_err *err);
#endif
