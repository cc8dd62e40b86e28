/* ext4w_close.c: compactext4's Close (compact.go:919-1351): directories in
 * pre-order, the inode table sized by bestGroupCount, block and inode
 * bitmaps, group descriptors and the superblock (§8). */
#include <stdlib.h>
#include <string.h>

#include "ext4w_int.h"

static int dent_cmp(const void *a, const void *b, void *ctx)
{
	const struct dent *x = a, *y = b;
	const struct ext4w *w = ctx;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	/* Names are NUL-free, so strcmp is Go's bytewise string order. */
	return strcmp(w->names + x->name_off, w->names + y->name_off);
}

static uint8_t file_type(uint16_t mode)
{
	switch (mode & EXT4W_S_IFMT) {
	case EXT4W_S_IFREG:
		return 1;
	case EXT4W_S_IFDIR:
		return 2;
	case EXT4W_S_IFCHR:
		return 3;
	case EXT4W_S_IFBLK:
		return 4;
	case EXT4W_S_IFIFO:
		return 5;
	case EXT4W_S_IFSOCK:
		return 6;
	case EXT4W_S_IFLNK:
		return 7;
	default:
		return 0;
	}
}

struct dirbuf {
	uint8_t blk[BLOCK];
	uint32_t left;
};

static int dir_finish_block(struct ext4w *w, struct dirbuf *b, struct ng_err *err)
{
	int rc;

	if (b->left > 0) {
		uint8_t *e = b->blk + (BLOCK - b->left);
		memset(e, 0, b->left);
		put16(e + 4, b->left);
	}
	rc = ext4w_write(w, b->blk, BLOCK, err);
	b->left = BLOCK;
	return rc;
}

static int dir_entry(struct ext4w *w, struct dirbuf *b, uint32_t ino, const char *name, size_t nl,
		     struct ng_err *err)
{
	uint32_t rl = (uint32_t)((8 + nl + 3) & ~(size_t)3);
	uint8_t *e;
	int rc;

	if (b->left < rl + 12 && (rc = dir_finish_block(w, b, err)) < 0)
		return rc;
	e = b->blk + (BLOCK - b->left);
	memset(e, 0, rl);
	put32(e, ino);
	put16(e + 4, rl);
	e[6] = (uint8_t)nl;
	e[7] = file_type(INO(w, ino)->mode);
	memcpy(e + 8, name, nl);
	b->left -= rl;
	return 0;
}

/* compact.go writeDirectory. */
static int write_directory(struct ext4w *w, uint32_t dir, uint32_t parent, struct ng_err *err)
{
	struct dir *d = &w->dirs[INO(w, dir)->dir - 1];
	struct dirbuf b;
	int rc;

	b.left = BLOCK;
	if ((rc = ext4w_finish_inode(w, err)) < 0 ||
	    (rc = ext4w_start_inode(w, dir, UINT64_MAX, err)) < 0 ||
	    (rc = dir_entry(w, &b, dir, ".", 1, err)) < 0 ||
	    (rc = dir_entry(w, &b, parent, "..", 2, err)) < 0)
		return rc;
	for (uint32_t i = 0; i < d->n; i++)
		if ((rc = dir_entry(w, &b, d->e[i].ino, w->names + d->e[i].name_off,
				    d->e[i].name_len, err)) < 0)
			return rc;
	if ((rc = dir_finish_block(w, &b, err)) < 0)
		return rc;
	INO(w, dir)->size = w->written;
	w->max = w->written;
	return 0;
}

/* writeDirectoryRecursive, iteratively: layers may nest arbitrarily deep. */
static int write_directories(struct ext4w *w, struct ng_err *err)
{
	struct frame {
		uint32_t dir, next;
	} *st = NULL;
	size_t sp = 0, cap = 0;
	int rc = 0;

	/* "Follow e2fsck's convention": children by inode number, then name. */
	for (uint32_t i = 0; i < w->ndirs; i++)
		qsort_r(w->dirs[i].e, w->dirs[i].n, sizeof(struct dent), dent_cmp, w);
	if ((rc = write_directory(w, 2, 2, err)) < 0)
		return rc;
	cap = 64;
	if (!(st = malloc(cap * sizeof(*st))))
		return ng_errf(err, NG_ENOMEM, "out of memory");
	st[sp++] = (struct frame){2, 0};
	while (sp > 0) {
		struct frame *f = &st[sp - 1];
		struct dir *d = &w->dirs[INO(w, f->dir)->dir - 1];
		uint32_t child;
		if (f->next >= d->n) {
			sp--;
			continue;
		}
		child = d->e[f->next++].ino;
		if (!INO(w, child)->dir)
			continue;
		if ((rc = write_directory(w, child, f->dir, err)) < 0)
			break;
		if (sp == cap) {
			struct frame *p = realloc(st, cap * 2 * sizeof(*st));
			if (!p) {
				rc = ng_errf(err, NG_ENOMEM, "out of memory");
				break;
			}
			st = p;
			cap *= 2;
		}
		st[sp++] = (struct frame){child, 0};
	}
	free(st);
	return rc;
}

/* compact.go groupCount / bestGroupCount. */
static uint32_t group_count(uint32_t blocks, uint32_t inodes, uint32_t ipg)
{
	uint32_t data_per_group = BLOCKS_PER_GROUP - ipg * INODE_SIZE / BLOCK - 2;
	uint32_t min_blocks = (inodes - 1) / ipg * data_per_group + 1;

	if (blocks < min_blocks)
		blocks = min_blocks;
	return (blocks + data_per_group - 1) / data_per_group;
}

static void best_group_count(uint32_t blocks, uint32_t inodes, uint32_t *groups, uint32_t *ipg)
{
	*groups = 0xffffffff;
	for (uint32_t i = BLOCK / INODE_SIZE; i <= BLOCK * 8; i += BLOCK / INODE_SIZE) {
		uint32_t g = group_count(blocks, inodes, i);
		if (g < *groups) {
			*groups = g;
			*ipg = i;
		}
	}
}

static void inode_record(const struct ino *n, uint8_t *r)
{
	memset(r, 0, INODE_SIZE);
	put16(r, n->mode);
	put16(r + 2, n->uid & 0xffff);
	put32(r + 4, (uint32_t)n->size);
	put32(r + 8, (uint32_t)n->atime);
	put32(r + 12, (uint32_t)n->ctime);
	put32(r + 16, (uint32_t)n->mtime);
	put16(r + 24, n->gid & 0xffff);
	put16(r + 26, n->links & 0xffff);
	put32(r + 28, n->nblocks);
	put32(r + 32, n->flags);
	switch (n->mode & EXT4W_S_IFMT) {
	case EXT4W_S_IFDIR:
	case EXT4W_S_IFREG:
	case EXT4W_S_IFLNK:
		memcpy(r + 40, n->data, n->dlen);
		break;
	case EXT4W_S_IFBLK:
	case EXT4W_S_IFCHR:
		put32(r + 44, (n->devminor & 0xff) | n->devmajor << 8 |
				  (n->devminor & 0xffffff00u) << 12);
		break;
	}
	put32(r + 104, n->xblock);
	put32(r + 108, (uint32_t)(n->size >> 32));
	put16(r + 120, n->uid >> 16);
	put16(r + 122, n->gid >> 16);
	put16(r + 128, 152 - 128);
	put32(r + 132, (uint32_t)(n->ctime >> 32));
	put32(r + 136, (uint32_t)(n->mtime >> 32));
	put32(r + 140, (uint32_t)(n->atime >> 32));
	put32(r + 144, (uint32_t)n->crtime);
	put32(r + 148, (uint32_t)(n->crtime >> 32));
	if (n->xin)
		memcpy(r + 152, n->xin, INLINE_XATTR);
}

static int write_inode_table(struct ext4w *w, uint64_t table_size, struct ng_err *err)
{
	uint8_t buf[16 * INODE_SIZE];
	size_t fill = 0;
	int rc;

	for (uint32_t i = 0; i < w->ninodes; i++) {
		if (w->inodes[i].used)
			inode_record(&w->inodes[i], buf + fill);
		else
			memset(buf + fill, 0, INODE_SIZE);
		fill += INODE_SIZE;
		if (fill == sizeof(buf)) {
			if ((rc = ext4w_raw_write(w, buf, fill, err)) < 0)
				return rc;
			fill = 0;
		}
	}
	if (fill && (rc = ext4w_raw_write(w, buf, fill, err)) < 0)
		return rc;
	return ext4w_raw_zero(w, table_size - (uint64_t)w->ninodes * INODE_SIZE, err);
}

int ext4w_close(struct ext4w *w, struct ng_err *err)
{
	const uint32_t gd_blocks = EXT4W_FIRST_DATA_BLOCK - 1;
	uint32_t itable, groups, ipg, bitmap_off, valid, disk, used_gd, total_blocks = 0,
							    total_inodes = 0;
	uint8_t *gdt = NULL, *bm = NULL, sb[BLOCK];
	int rc;

	if ((rc = ext4w_finish_inode(w, err)) < 0 || (rc = write_directories(w, err)) < 0 ||
	    (rc = ext4w_finish_inode(w, err)) < 0)
		return rc;
	itable = (uint32_t)(verity_pos(w->v) / BLOCK);
	best_group_count(itable, w->ninodes, &groups, &ipg);
	if ((rc = write_inode_table(w, (uint64_t)groups * ipg * INODE_SIZE, err)) < 0)
		return rc;
	bitmap_off = (uint32_t)(verity_pos(w->v) / BLOCK);
	valid = bitmap_off + groups * 2;
	disk = valid;
	if (disk < (groups - 1) * BLOCKS_PER_GROUP + 1)
		disk = (groups - 1) * BLOCKS_PER_GROUP + 1;
	used_gd = (groups - 1) / (BLOCK / 32) + 1;
	if (used_gd > gd_blocks)
		return ng_errf(err, NG_ELIMIT, "disk exceeded maximum size of %llu bytes",
			       (unsigned long long)MAX_DISK);
	gdt = calloc(gd_blocks, BLOCK);
	bm = malloc(2 * BLOCK);
	if (!gdt || !bm) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto out;
	}
	for (uint32_t g = 0; g < groups; g++) {
		uint16_t dirs = 0, used_inodes = 0, used_blocks = 0;
		uint8_t *gd = gdt + 32 * g;
		memset(bm, 0, 2 * BLOCK);
		if ((g + 1) * BLOCKS_PER_GROUP <= valid) {
			memset(bm, 0xff, BLOCK);
			used_blocks = (uint16_t)BLOCKS_PER_GROUP;
		} else if (g * BLOCKS_PER_GROUP < valid) {
			for (uint32_t j = 0; j < valid - g * BLOCKS_PER_GROUP; j++) {
				bm[j / 8] |= (uint8_t)(1 << (j % 8));
				used_blocks++;
			}
		}
		if (g == 0) {
			/* Reserved descriptor blocks that are not used are free. */
			for (uint32_t j = 1 + used_gd; j < 1 + gd_blocks; j++) {
				bm[j / 8] &= (uint8_t)~(1 << (j % 8));
				used_blocks--;
			}
		}
		if (g == groups - 1 && disk % BLOCKS_PER_GROUP != 0) {
			/* Blocks past the end of the disk count as allocated. */
			for (uint32_t j = disk % BLOCKS_PER_GROUP; j < BLOCKS_PER_GROUP; j++) {
				bm[j / 8] |= (uint8_t)(1 << (j % 8));
				used_blocks++;
			}
		}
		for (uint32_t j = 0; j < ipg; j++) {
			uint32_t ino = 1 + g * ipg + j;
			const struct ino *n = ino <= w->ninodes ? INO(w, ino) : NULL;
			int exists = n && n->used;
			if (ino < INODE_FIRST || exists) {
				bm[BLOCK + j / 8] |= (uint8_t)(1 << (j % 8));
				used_inodes++;
			}
			if (exists && (n->mode & EXT4W_S_IFMT) == EXT4W_S_IFDIR)
				dirs++;
		}
		if ((rc = ext4w_raw_write(w, bm, 2 * BLOCK, err)) < 0)
			goto out;
		put32(gd, bitmap_off + 2 * g);
		put32(gd + 4, bitmap_off + 2 * g + 1);
		put32(gd + 8, itable + g * (ipg * INODE_SIZE / BLOCK));
		put16(gd + 12, (uint16_t)(BLOCKS_PER_GROUP - used_blocks));
		put16(gd + 14, (uint16_t)((uint16_t)ipg - used_inodes));
		put16(gd + 16, dirs);
		total_blocks += used_blocks;
		total_inodes += used_inodes;
	}
	if ((rc = ext4w_raw_zero(w, (uint64_t)(disk - bitmap_off - groups * 2) * BLOCK, err)) < 0)
		goto out;
	for (uint32_t i = 0; i < gd_blocks; i++)
		if ((rc = verity_put_block(w->v, 1 + i, gdt + (size_t)i * BLOCK, err)) < 0)
			goto out;
	/* The superblock (format.go SuperBlock), at byte 1024 of block 0. */
	memset(sb, 0, sizeof(sb));
	{
		uint8_t *s = sb + 1024;
		put32(s + 0x00, ipg * groups);
		put32(s + 0x04, disk);
		put32(s + 0x0C, BLOCKS_PER_GROUP * groups - total_blocks);
		put32(s + 0x10, ipg * groups - total_inodes);
		put32(s + 0x18, 2);
		put32(s + 0x1C, 2);
		put32(s + 0x20, BLOCKS_PER_GROUP);
		put32(s + 0x24, BLOCKS_PER_GROUP);
		put32(s + 0x28, ipg);
		put16(s + 0x38, 0xEF53);
		put16(s + 0x3A, 1);
		put16(s + 0x3C, 1);
		put32(s + 0x4C, 1);
		put32(s + 0x54, INODE_FIRST);
		put16(s + 0x58, INODE_SIZE);
		put32(s + 0x5C, 0x208);
		put32(s + 0x60, 0x242);
		put32(s + 0x64, 0x104A);
		put16(s + 0x15C, 152 - 128);
		put16(s + 0x15E, 152 - 128);
		s[0x174] = 31;
		put32(s + 0x268, INODE_FIRST);
	}
	rc = verity_put_block(w->v, 0, sb, err);
out:
	free(gdt);
	free(bm);
	return rc;
}
