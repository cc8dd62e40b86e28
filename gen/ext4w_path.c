/* ext4w_path.c: the directory tree of the compactext4 model: children by
 * (directory inode, exact name bytes) in one hash table, Go path.Clean, and
 * compactext4's lookup (compact.go:515-534) with its error messages. */
#include <stdlib.h>
#include <string.h>

#include "ext4w_int.h"

static uint64_t ht_hash(uint32_t dir, const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ ((uint64_t)dir * 0x9E3779B97F4A7C15ULL);

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

/* Returns the slot holding (dir, name) or the empty slot where it goes. */
static uint64_t ht_slot(const struct ext4w *w, uint32_t dir, const char *s, size_t n)
{
	uint64_t i = ht_hash(dir, s, n) & (w->ht_cap - 1);

	for (;;) {
		if (w->ht[i].dir == 0)
			return i;
		if (w->ht[i].dir == dir) {
			const struct dent *d = &w->dirs[INO(w, dir)->dir - 1].e[w->ht[i].idx];
			if (d->name_len == n && !memcmp(w->names + d->name_off, s, n))
				return i;
		}
		i = (i + 1) & (w->ht_cap - 1);
	}
}

struct dent *ext4w_child_get(struct ext4w *w, uint32_t dir, const char *s, size_t n)
{
	uint64_t i;

	if (!INO(w, dir)->dir)
		return NULL; /* not a directory: no children (Go: nil map) */
	i = ht_slot(w, dir, s, n);
	return w->ht[i].dir ? &w->dirs[INO(w, dir)->dir - 1].e[w->ht[i].idx] : NULL;
}

int ext4w_ht_grow(struct ext4w *w, struct ng_err *err)
{
	uint64_t oc = w->ht_cap, nc = oc ? oc * 2 : 1024;
	struct ht_ent *old = w->ht;

	w->ht = calloc(nc, sizeof(*w->ht));
	if (!w->ht) {
		w->ht = old;
		return ng_errf(err, NG_ENOMEM, "out of memory");
	}
	w->ht_cap = nc;
	for (uint64_t i = 0; i < oc; i++) {
		uint32_t dir = old[i].dir, idx = old[i].idx;
		const struct dent *d;
		uint64_t s;
		if (!dir)
			continue;
		d = &w->dirs[INO(w, dir)->dir - 1].e[idx];
		s = ht_slot(w, dir, w->names + d->name_off, d->name_len);
		w->ht[s].dir = dir;
		w->ht[s].idx = idx;
	}
	free(old);
	return 0;
}

static int child_add(struct ext4w *w, uint32_t dir, const char *s, size_t n, uint32_t ino,
		     struct ng_err *err)
{
	struct dir *d = &w->dirs[INO(w, dir)->dir - 1];
	uint64_t slot;
	int rc;

	if ((w->ht_used + 1) * 2 > w->ht_cap && (rc = ext4w_ht_grow(w, err)) < 0)
		return rc;
	if (d->n == d->cap) {
		uint32_t nc = d->cap ? d->cap * 2 : 4;
		struct dent *e = realloc(d->e, nc * sizeof(*e));
		if (!e)
			return ng_errf(err, NG_ENOMEM, "out of memory");
		d->e = e;
		d->cap = nc;
	}
	if (w->names_len + n + 1 > w->names_cap) {
		uint64_t nc = w->names_cap ? w->names_cap : 65536;
		char *p;
		while (nc < w->names_len + n + 1)
			nc *= 2;
		if (!(p = realloc(w->names, nc)))
			return ng_errf(err, NG_ENOMEM, "out of memory");
		w->names = p;
		w->names_cap = nc;
	}
	memcpy(w->names + w->names_len, s, n);
	w->names[w->names_len + n] = 0;
	d->e[d->n] = (struct dent){ino, (uint32_t)n, w->names_len};
	w->names_len += n + 1;
	slot = ht_slot(w, dir, s, n);
	w->ht[slot].dir = dir;
	w->ht[slot].idx = d->n++;
	w->ht_used++;
	return 0;
}

/* Go path.Clean("/" + name)[1:] into w->path. */
int ext4w_clean_path(struct ext4w *w, const char *name, size_t *outlen, struct ng_err *err)
{
	size_t n = strlen(name), o = 0;

	if (n + 1 > w->path_cap) {
		char *p = realloc(w->path, n + 1);
		if (!p)
			return ng_errf(err, NG_ENOMEM, "out of memory");
		w->path = p;
		w->path_cap = n + 1;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && name[j] != '/')
			j++;
		if (j == i || (j - i == 1 && name[i] == '.')) {
			/* empty or "." */
		} else if (j - i == 2 && name[i] == '.' && name[i + 1] == '.') {
			while (o > 0 && w->path[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o > 0)
				w->path[o++] = '/';
			memcpy(w->path + o, name + i, j - i);
			o += j - i;
		}
		i = j + 1;
	}
	w->path[o] = 0;
	*outlen = o;
	return 0;
}

int ext4w_is_dir(const struct ino *i)
{
	return (i->mode & EXT4W_S_IFMT) == EXT4W_S_IFDIR;
}

/* compact.go ext4w_lookup: parent dir, existing child (0 if none), child name. */
int ext4w_lookup(struct ext4w *w, const char *name, int must_exist, uint32_t *dir, uint32_t *child,
		 const char **cname, size_t *clen, struct ng_err *err)
{
	size_t n, last, i = 0;
	uint32_t cur = 2;
	struct dent *d;
	int rc;

	if ((rc = ext4w_clean_path(w, name, &n, err)) < 0)
		return rc;
	if (n == 0) {
		*dir = *child = 2;
		*cname = "";
		*clen = 0;
		return 0;
	}
	for (last = n; last > 0 && w->path[last - 1] != '/'; last--)
		;
	if (n - last > 255)
		return ng_errf(err, NG_EINVAL, "%s: invalid name", name);
	while (i < last) {
		size_t j = i;
		while (w->path[j] != '/')
			j++;
		d = ext4w_child_get(w, cur, w->path + i, j - i);
		if (!d)
			return ng_errf(err, NG_ENOTFOUND, "%s: path not found", name);
		cur = d->ino;
		i = j + 1;
	}
	if (!ext4w_is_dir(INO(w, cur)))
		return ng_errf(err, NG_ENOTFOUND, "%s: path not found", name);
	d = ext4w_child_get(w, cur, w->path + last, n - last);
	if (!d && must_exist)
		return ng_errf(err, NG_ENOTFOUND, "%s: file not found", name);
	*dir = cur;
	*child = d ? d->ino : 0;
	*cname = w->path + last;
	*clen = n - last;
	return 0;
}

int ext4w_set_child(struct ext4w *w, uint32_t dir, const char *s, size_t n, uint32_t ino,
		    struct ng_err *err)
{
	struct dent *d = ext4w_child_get(w, dir, s, n);

	if (d) {
		d->ino = ino;
		return 0;
	}
	return child_add(w, dir, s, n, ino, err);
}
