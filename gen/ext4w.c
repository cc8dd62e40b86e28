/* ext4w.c: the file tree of compactext4 (compact.go:130-711): inode
 * numbering, path ext4w_lookup, Create/Link/Stat/MakeParents with their exact
 * reuse and error rules, and streaming of file data with extents. */
#include "ext4w.h"

#include <stdlib.h>
#include <string.h>

#include "ext4w_int.h"

uint64_t ext4w_time_encode(const struct tar_time *t)
{
	/* time.Time{}.IsZero(), also reached as time.Unix(-62135596800, 0) */
	if (!t->set || (t->sec == -62135596800LL && t->nsec == 0))
		return 0;
	if (t->sec < -0x80000000LL)
		return 0x80000000u;
	if (t->sec > 0x37fffffffLL)
		return 0x37fffffffULL;
	return (uint64_t)t->sec | (uint64_t)t->nsec << 34;
}

struct tar_time ext4w_time_decode(uint64_t v)
{
	struct tar_time t = {0};
	int64_t s, ns;

	if (v == 0)
		return t;
	s = (int64_t)(v & 0x3ffffffffULL);
	if (s > 0x7fffffff && s < 0x100000000LL)
		s = (int32_t)(uint32_t)s;
	ns = (int64_t)(v >> 34);
	s += ns / 1000000000;
	ns %= 1000000000;
	t.set = 1;
	t.sec = s;
	t.nsec = ns;
	return t;
}

int ext4w_raw_write(struct ext4w *w, const void *p, size_t n, struct ng_err *err)
{
	if (verity_pos(w->v) + n > MAX_DISK)
		return ng_errf(err, NG_ELIMIT, "disk exceeded maximum size of %llu bytes",
			       (unsigned long long)MAX_DISK);
	return verity_write(w->v, p, n, err);
}

int ext4w_raw_zero(struct ext4w *w, uint64_t n, struct ng_err *err)
{
	if (verity_pos(w->v) + n > MAX_DISK)
		return ng_errf(err, NG_ELIMIT, "disk exceeded maximum size of %llu bytes",
			       (unsigned long long)MAX_DISK);
	return verity_zero(w->v, n, err);
}

int ext4w_start_inode(struct ext4w *w, uint32_t ino, uint64_t max, struct ng_err *err)
{
	if (w->cur)
		return ng_errf(err, NG_EINTERNAL, "ext4: inode already in progress");
	w->cur = ino;
	w->written = 0;
	w->max = max;
	return 0;
}

int ext4w_write(struct ext4w *w, const void *p, size_t n, struct ng_err *err)
{
	int rc;

	if (n == 0)
		return 0;
	if (!w->cur || w->written + n > w->max)
		return ng_errf(err, NG_EINVAL, "wrote too much: %llu > %llu",
			       (unsigned long long)(w->written + n), (unsigned long long)w->max);
	if ((rc = ext4w_raw_write(w, p, n, err)) < 0)
		return rc;
	w->written += n;
	return 0;
}

static void fill_extents(uint8_t *hdr, uint32_t entries, uint32_t max, uint32_t start_block,
			 uint32_t offset, uint32_t blocks)
{
	put16(hdr, 0xF30A);
	put16(hdr + 2, entries);
	put16(hdr + 4, max);
	put16(hdr + 6, 0);
	for (uint32_t i = 0; i < entries; i++) {
		uint8_t *e = hdr + 12 + 12 * i;
		uint32_t block = offset + i * 0x8000, length = blocks - block;
		if (length > 0x8000)
			length = 0x8000;
		put32(e, block);
		put16(e + 4, length);
		put32(e + 8, start_block + block);
	}
}

/* compact.go writeExtents: pad to a block, then the extent tree (§7). */
static int write_extents(struct ext4w *w, struct ino *node, struct ng_err *err)
{
	uint64_t start = verity_pos(w->v) - w->written;
	uint32_t start_block, blocks, used, extents;
	int rc;

	if (verity_pos(w->v) % BLOCK &&
	    (rc = ext4w_raw_zero(w, BLOCK - verity_pos(w->v) % BLOCK, err)) < 0)
		return rc;
	start_block = (uint32_t)(start / BLOCK);
	blocks = (uint32_t)(verity_pos(w->v) / BLOCK) - start_block;
	used = blocks;
	extents = (blocks + 0x8000 - 1) / 0x8000;
	memset(node->data, 0, sizeof(node->data));
	node->dlen = 0;
	if (extents == 0) {
	} else if (extents <= 4) {
		fill_extents(node->data, extents, 4, start_block, 0, blocks);
		node->dlen = 60;
	} else if (extents <= 4 * 340) {
		uint32_t leaves = extents / 340 + 1;
		uint8_t leaf[BLOCK];
		used += leaves;
		put16(node->data, 0xF30A);
		put16(node->data + 2, leaves);
		put16(node->data + 4, 4);
		put16(node->data + 6, 1);
		for (uint32_t i = 0; i < leaves; i++) {
			/* hcsshim's arithmetic, faithfully (wrong beyond one leaf). */
			uint32_t in_block = extents - i * leaves, offset = i * 340 * 0x8000;
			if (in_block > 340)
				in_block = 340;
			put32(node->data + 12 + 12 * i, offset);
			put32(node->data + 12 + 12 * i + 4, (uint32_t)(verity_pos(w->v) / BLOCK));
			memset(leaf, 0, sizeof(leaf));
			fill_extents(leaf, in_block, 340, start_block + offset, offset, blocks);
			if ((rc = ext4w_raw_write(w, leaf, BLOCK, err)) < 0)
				return rc;
		}
		node->dlen = 60;
	} else {
		return ng_errf(err, NG_ELIMIT, "file too big for the extent tree");
	}
	node->flags |= FLAG_EXTENTS;
	node->nblocks += used;
	return 0;
}

int ext4w_finish_inode(struct ext4w *w, struct ng_err *err)
{
	int rc = 0;

	if (!w->cur)
		return 0;
	if (w->written != w->max)
		return ng_errf(err, NG_EINVAL, "did not write the right amount: %llu != %llu",
			       (unsigned long long)w->written, (unsigned long long)w->max);
	if (w->max != 0)
		rc = write_extents(w, INO(w, w->cur), err);
	w->cur = 0;
	w->written = w->max = 0;
	return rc;
}

static int new_inode(struct ext4w *w, int dir, uint32_t *ino, struct ng_err *err)
{
	struct ino *node;

	if (w->ninodes == w->cap_inodes) {
		uint32_t nc = w->cap_inodes ? w->cap_inodes * 2 : 64;
		struct ino *p;
		if (w->cap_inodes > 0x7fffffff / 2)
			return ng_errf(err, NG_ELIMIT, "too many inodes");
		if (!(p = realloc(w->inodes, (size_t)nc * sizeof(*p))))
			return ng_errf(err, NG_ENOMEM, "out of memory");
		w->inodes = p;
		w->cap_inodes = nc;
	}
	if (dir && w->ndirs == w->cap_dirs) {
		uint32_t nc = w->cap_dirs ? w->cap_dirs * 2 : 64;
		struct dir *p = realloc(w->dirs, (size_t)nc * sizeof(*p));
		if (!p)
			return ng_errf(err, NG_ENOMEM, "out of memory");
		w->dirs = p;
		w->cap_dirs = nc;
	}
	node = &w->inodes[w->ninodes++];
	memset(node, 0, sizeof(*node));
	node->used = 1;
	if (dir) {
		memset(&w->dirs[w->ndirs], 0, sizeof(w->dirs[0]));
		node->dir = ++w->ndirs;
		node->links = 1; /* a directory links to itself */
	}
	*ino = w->ninodes;
	return 0;
}

/* compact.go makeInode. */
static int make_inode(struct ext4w *w, const struct ext4w_file *f, uint32_t reuse, uint32_t *out,
		      struct ng_err *err)
{
	uint16_t mode = f->mode;
	uint16_t typ;
	uint64_t size = 0;
	uint32_t ino = reuse;
	struct ino *node;
	size_t ll = f->link ? strlen(f->link) : 0;
	int rc;

	if ((mode & EXT4W_S_IFMT) == 0)
		mode |= EXT4W_S_IFREG;
	typ = mode & EXT4W_S_IFMT;
	if (!reuse) {
		if ((rc = new_inode(w, typ == EXT4W_S_IFDIR, &ino, err)) < 0)
			return rc;
	} else if (INO(w, reuse)->flags & FLAG_EXTENTS) {
		return ng_errf(err, NG_EINVAL, "cannot overwrite file with non-inline data");
	}
	node = INO(w, ino);
	node->mode = mode;
	node->uid = f->uid;
	node->gid = f->gid;
	node->flags = FLAG_HUGE;
	node->atime = ext4w_time_encode(&f->atime);
	node->ctime = ext4w_time_encode(&f->ctime);
	node->mtime = ext4w_time_encode(&f->mtime);
	node->crtime = ext4w_time_encode(&f->crtime);
	node->devmajor = f->devmajor;
	node->devminor = f->devminor;
	node->dlen = 0;
	memset(node->data, 0, sizeof(node->data));
	switch (typ) {
	case EXT4W_S_IFREG:
		if (f->size > MAX_FILE)
			return ng_errf(err, NG_ELIMIT, "file too big: %lld > %lld",
				       (long long)f->size, (long long)MAX_FILE);
		size = (uint64_t)f->size;
		break;
	case EXT4W_S_IFLNK:
		node->mode |= 0777;
		size = ll;
		if (ll <= 59) {
			memcpy(node->data, f->link, ll);
			node->dlen = (uint8_t)ll;
		}
		break;
	case EXT4W_S_IFDIR:
	case EXT4W_S_IFIFO:
	case EXT4W_S_IFSOCK:
	case EXT4W_S_IFCHR:
	case EXT4W_S_IFBLK:
		break;
	default:
		return ng_errf(err, NG_EINVAL, "invalid mode %o", mode);
	}
	if ((rc = ext4w_xattrs_apply(w, node, f->xattrs, f->nxattrs, err)) < 0)
		return rc;
	node->size = size;
	if (typ == EXT4W_S_IFLNK && ll > 59) {
		if ((rc = ext4w_start_inode(w, ino, ll, err)) < 0 ||
		    (rc = ext4w_write(w, f->link, ll, err)) < 0 ||
		    (rc = ext4w_finish_inode(w, err)) < 0)
			return rc;
	}
	*out = ino;
	return 0;
}

int ext4w_create(struct ext4w *w, const char *name, const struct ext4w_file *f, struct ng_err *err)
{
	uint32_t dir, existing, reuse = 0, child;
	const char *cn;
	char *cname = NULL;
	size_t cl;
	int fdir = (f->mode & EXT4W_S_IFMT) == EXT4W_S_IFDIR, rc;

	if ((rc = ext4w_finish_inode(w, err)) < 0 ||
	    (rc = ext4w_lookup(w, name, 0, &dir, &existing, &cn, &cl, err)) < 0)
		return rc;
	if (existing) {
		if (ext4w_is_dir(INO(w, existing))) {
			if (!fdir)
				return ng_errf(err, NG_EINVAL,
					       "%s: cannot replace a directory with a file", name);
			reuse = existing;
		} else if (fdir) {
			return ng_errf(err, NG_EINVAL, "%s: cannot replace a file with a directory",
				       name);
		} else if (INO(w, existing)->links < 2) {
			reuse = existing;
		}
	} else if (fdir && INO(w, dir)->links >= MAX_LINKS) {
		return ng_errf(err, NG_ELIMIT, "%s: exceeded parent directory maximum link count",
			       name);
	}
	if (!(cname = strndup(cn, cl)))
		return ng_errf(err, NG_ENOMEM, "out of memory");
	if ((rc = make_inode(w, f, reuse, &child, err)) < 0) {
		free(cname);
		return ng_err_prefix(err, rc, "%s", name);
	}
	if (existing != child) {
		if (existing)
			INO(w, existing)->links--;
		if ((rc = ext4w_set_child(w, dir, cname, cl, child, err)) < 0) {
			free(cname);
			return rc;
		}
		INO(w, child)->links++;
		if (ext4w_is_dir(INO(w, child)))
			INO(w, dir)->links++;
	}
	free(cname);
	if ((INO(w, child)->mode & EXT4W_S_IFMT) == EXT4W_S_IFREG)
		return ext4w_start_inode(w, child, INO(w, child)->size, err);
	return 0;
}

int ext4w_link(struct ext4w *w, const char *oldname, const char *newname, struct ng_err *err)
{
	uint32_t newdir, existing, odir, old;
	const char *cn;
	char *cname;
	size_t cl;
	int rc;

	if ((rc = ext4w_finish_inode(w, err)) < 0 ||
	    (rc = ext4w_lookup(w, newname, 0, &newdir, &existing, &cn, &cl, err)) < 0)
		return rc;
	if (existing && (ext4w_is_dir(INO(w, existing)) || INO(w, existing)->links < 2))
		return ng_errf(err, NG_EINVAL, "%s: cannot orphan existing file or directory",
			       newname);
	if (!(cname = strndup(cn, cl)))
		return ng_errf(err, NG_ENOMEM, "out of memory");
	if ((rc = ext4w_lookup(w, oldname, 1, &odir, &old, &cn, &cl, err)) < 0)
		goto out;
	if (ext4w_is_dir(INO(w, old))) {
		rc = ng_errf(err, NG_EINVAL, "%s: link target cannot be a directory: %s", newname,
			     oldname);
		goto out;
	}
	if (existing != old && INO(w, old)->links >= MAX_LINKS) {
		rc = ng_errf(err, NG_ELIMIT, "%s: link target would exceed maximum link count: %s",
			     newname, oldname);
		goto out;
	}
	if (existing)
		INO(w, existing)->links--;
	INO(w, old)->links++;
	rc = ext4w_set_child(w, newdir, cname, strlen(cname), old, err);
out:
	free(cname);
	return rc;
}

void ext4w_file_release(struct ext4w_file *f)
{
	for (size_t i = 0; i < f->nxattrs; i++) {
		free((void *)f->xattrs[i].name);
		free((void *)f->xattrs[i].val);
	}
	free(f->xattrs);
	free((void *)f->link);
	memset(f, 0, sizeof(*f));
}

int ext4w_stat(struct ext4w *w, const char *name, struct ext4w_file *f, struct ng_err *err)
{
	uint32_t dir, ino;
	const char *cn;
	size_t cl;
	const struct ino *node;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = ext4w_finish_inode(w, err)) < 0 ||
	    (rc = ext4w_lookup(w, name, 1, &dir, &ino, &cn, &cl, err)) < 0)
		return rc;
	node = INO(w, ino);
	f->size = (int64_t)node->size;
	f->mode = node->mode;
	f->uid = node->uid;
	f->gid = node->gid;
	f->atime = ext4w_time_decode(node->atime);
	f->ctime = ext4w_time_decode(node->ctime);
	f->mtime = ext4w_time_decode(node->mtime);
	f->crtime = ext4w_time_decode(node->crtime);
	f->devmajor = node->devmajor;
	f->devminor = node->devminor;
	if ((rc = ext4w_xattrs_stat(node, &f->xattrs, &f->nxattrs, err)) < 0)
		return rc;
	if ((node->mode & EXT4W_S_IFMT) == EXT4W_S_IFLNK) {
		if (node->size > 59) {
			ext4w_file_release(f);
			return ng_errf(err, NG_EINVAL, "%s: cannot retrieve link information",
				       name);
		}
		if (!(f->link = strndup((const char *)node->data, node->dlen))) {
			ext4w_file_release(f);
			return ng_errf(err, NG_ENOMEM, "out of memory");
		}
	}
	return 0;
}

int ext4w_make_parents(struct ext4w *w, const char *name, struct ng_err *err)
{
	size_t n, last, i = 0;
	uint32_t cur = 2;
	char *p;
	int rc;

	if ((rc = ext4w_finish_inode(w, err)) < 0 || (rc = ext4w_clean_path(w, name, &n, err)) < 0)
		return rc;
	for (last = n; last > 0 && w->path[last - 1] != '/'; last--)
		;
	if (last == 0)
		return 0;
	if (!(p = strndup(w->path, last)))
		return ng_errf(err, NG_ENOMEM, "out of memory");
	while (i < last) {
		size_t j = i;
		struct dent *d;
		while (p[j] != '/')
			j++;
		d = ext4w_child_get(w, cur, p + i, j - i);
		if (!d) {
			const struct ino *pn = INO(w, cur);
			struct ext4w_file f = {0};
			f.mode = pn->mode;
			f.atime = ext4w_time_decode(pn->atime);
			f.mtime = ext4w_time_decode(pn->mtime);
			f.ctime = ext4w_time_decode(pn->ctime);
			f.crtime = ext4w_time_decode(pn->crtime);
			f.uid = pn->uid;
			f.gid = pn->gid;
			f.devmajor = pn->devmajor;
			f.devminor = pn->devminor;
			p[j] = 0;
			rc = ext4w_create(w, p, &f, err);
			p[j] = '/';
			if (rc < 0) {
				free(p);
				return ng_err_prefix(err, rc,
						     "failed while creating parent directories");
			}
			d = ext4w_child_get(w, cur, p + i, j - i);
		}
		cur = d->ino;
		i = j + 1;
	}
	free(p);
	return 0;
}

int ext4w_new(struct verity_img *v, struct ext4w **out, struct ng_err *err)
{
	struct ext4w *w = calloc(1, sizeof(*w));
	struct ext4w_file root = {0}, lpf = {0};
	uint32_t ino;
	int rc;

	*out = NULL;
	if (!w)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	w->v = v;
	if ((rc = ext4w_ht_grow(w, err)) < 0)
		goto fail;
	/* Inode 1 ("defective blocks") exists but stays zero. */
	if ((rc = new_inode(w, 0, &ino, err)) < 0)
		goto fail;
	w->inodes[0].used = 0;
	root.mode = EXT4W_S_IFDIR | 0755;
	if ((rc = make_inode(w, &root, 0, &ino, err)) < 0)
		goto fail;
	INO(w, 2)->links++; /* the root's ".." */
	for (uint32_t i = 3; i < INODE_FIRST; i++) {
		if ((rc = new_inode(w, 0, &ino, err)) < 0)
			goto fail;
		INO(w, ino)->used = 0;
	}
	lpf.mode = EXT4W_S_IFDIR | 0700;
	if ((rc = ext4w_create(w, "lost+found", &lpf, err)) < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	ext4w_free(w);
	return rc;
}

void ext4w_free(struct ext4w *w)
{
	if (!w)
		return;
	for (uint32_t i = 0; i < w->ninodes; i++) {
		free(w->inodes[i].xin);
		free(w->inodes[i].xblk);
	}
	for (uint32_t i = 0; i < w->ndirs; i++)
		free(w->dirs[i].e);
	free(w->inodes);
	free(w->dirs);
	free(w->names);
	free(w->ht);
	free(w->path);
	free(w);
}
