/* layer.c: tar → compactext4 image → dm-verity root, as hcsshim's
 * tar2ext4.ConvertTarToExt4 with ConvertWhiteout (ext4/tar2ext4/tar2ext4.go
 * :83-201) and dmverity-vhd's input checks (ivhd files.go:15-78). See
 * ../shared/research/tar2ext4-dmverity.md §2-§3. */
#include "layer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundle-format/fileio.h"
#include "ext4w.h"
#include "layersrc.h"
#include "tarstream.h"
#include "verity.h"

#define MAX_NAME   65536u   /* bytes of one entry name (Linux PATH_MAX is 4096) */
#define MAX_INODES 8000000u /* ~1.3 GB of metadata in memory */
#define COPY_CHUNK (1u << 20)

#define XATTR_PREFIX "SCHILY.xattr."

struct conv {
	struct tar_reader *tr;
	struct ext4w *w;
	const char *name;
	uint64_t entries;
};

static int copy_data(struct conv *c, struct ng_err *err)
{
	const uint8_t *p;
	size_t n;
	int rc;

	while (tar_data_left(c->tr) > 0) {
		if ((rc = tar_data_peek(c->tr, &p, &n, COPY_CHUNK, err)) < 0)
			return rc;
		if ((rc = ext4w_write(c->w, p, n, err)) < 0)
			return rc;
		tar_data_consume(c->tr, n);
	}
	return tar_data_finish(c->tr, err);
}

static int whiteout(struct conv *c, const char *name, const char *file, size_t dirlen,
		    struct ng_err *err)
{
	char *path;
	int rc;

	if (!strcmp(file, ".wh..wh..opq")) {
		static const uint8_t y = 'y';
		struct ext4w_file f;
		struct ext4w_xattr *x;
		size_t i;
		if (!(path = strndup(name, dirlen)))
			return ng_errf(err, NG_ENOMEM, "out of memory");
		if ((rc = ext4w_stat(c->w, path, &f, err)) < 0) {
			free(path);
			return ng_err_prefix(
			    err, rc, "failed to stat parent directory of whiteout %s", file);
		}
		for (i = 0; i < f.nxattrs && strcmp(f.xattrs[i].name, "trusted.overlay.opaque");
		     i++)
			;
		if (i == f.nxattrs) {
			x = realloc(f.xattrs, (f.nxattrs + 1) * sizeof(*x));
			char *nm = strdup("trusted.overlay.opaque");
			if (!x || !nm) {
				free(nm);
				if (x)
					f.xattrs = x;
				ext4w_file_release(&f);
				free(path);
				return ng_errf(err, NG_ENOMEM, "out of memory");
			}
			f.xattrs = x;
			f.xattrs[f.nxattrs].name = nm;
			f.xattrs[f.nxattrs].val = NULL;
			f.nxattrs++;
		}
		free((void *)f.xattrs[i].val);
		f.xattrs[i].val = malloc(1);
		if (!f.xattrs[i].val) {
			ext4w_file_release(&f);
			free(path);
			return ng_errf(err, NG_ENOMEM, "out of memory");
		}
		memcpy((void *)f.xattrs[i].val, &y, 1);
		f.xattrs[i].len = 1;
		rc = ext4w_create(c->w, path, &f, err);
		ext4w_file_release(&f);
		free(path);
		return rc < 0 ? ng_err_prefix(err, rc, "failed to create opaque dir %s", file) : 0;
	}
	/* path.Join(dir, file without ".wh."); the writer cleans the path. */
	if (!(path = malloc(dirlen + strlen(file) - 4 + 1)))
		return ng_errf(err, NG_ENOMEM, "out of memory");
	memcpy(path, name, dirlen);
	strcpy(path + dirlen, file + 4);
	{
		struct ext4w_file f = {0};
		f.mode = EXT4W_S_IFCHR;
		rc = ext4w_create(c->w, path, &f, err);
	}
	free(path);
	return rc < 0 ? ng_err_prefix(err, rc, "failed to create whiteout file for %s", file) : 0;
}

static uint16_t type_bits(char t)
{
	switch (t) {
	case '0':
		return EXT4W_S_IFREG;
	case '2':
		return EXT4W_S_IFLNK;
	case '3':
		return EXT4W_S_IFCHR;
	case '4':
		return EXT4W_S_IFBLK;
	case '5':
		return EXT4W_S_IFDIR;
	case '6':
		return EXT4W_S_IFIFO;
	default:
		return 0; /* the writer makes it a regular file */
	}
}

static int convert_entry(struct conv *c, const struct tar_hdr *h, struct ng_err *err)
{
	const char *slash, *file;
	struct ext4w_file f = {0};
	struct ext4w_xattr *xs = NULL;
	size_t nx = 0;
	int rc;

	if (strlen(h->name) > MAX_NAME || strlen(h->link) > MAX_NAME)
		return ng_errf(err, NG_ELIMIT, "%.60s...: entry name over %u bytes", h->name,
			       MAX_NAME);
	if ((rc = ext4w_make_parents(c->w, h->name, err)) < 0)
		return ng_err_prefix(err, rc, "failed to ensure parent directories for %s",
				     h->name);
	slash = strrchr(h->name, '/');
	file = slash ? slash + 1 : h->name;
	if (!strncmp(file, ".wh.", 4))
		return whiteout(c, h->name, file, (size_t)(file - h->name), err);
	if (h->typeflag == '1')
		return ext4w_link(c->w, h->link, h->name, err);

	f.mode = (uint16_t)(((uint16_t)h->mode & ~EXT4W_S_IFMT) | type_bits(h->typeflag));
	f.atime = h->atime;
	f.mtime = h->mtime;
	f.ctime = h->ctime;
	f.crtime = h->mtime;
	f.size = h->size;
	f.uid = (uint32_t)h->uid;
	f.gid = (uint32_t)h->gid;
	f.link = h->link;
	f.devmajor = (uint32_t)h->devmajor;
	f.devminor = (uint32_t)h->devminor;
	for (size_t i = 0; i < h->npax; i++)
		if (!strncmp(h->pax[i].key, XATTR_PREFIX, strlen(XATTR_PREFIX)))
			nx++;
	if (nx) {
		if (!(xs = malloc(nx * sizeof(*xs))))
			return ng_errf(err, NG_ENOMEM, "out of memory");
		nx = 0;
		for (size_t i = 0; i < h->npax; i++)
			if (!strncmp(h->pax[i].key, XATTR_PREFIX, strlen(XATTR_PREFIX)))
				xs[nx++] =
				    (struct ext4w_xattr){h->pax[i].key + strlen(XATTR_PREFIX),
							 h->pax[i].val, h->pax[i].val_len};
	}
	f.xattrs = xs;
	f.nxattrs = nx;
	rc = ext4w_create(c->w, h->name, &f, err);
	free(xs);
	if (rc < 0)
		return rc;
	return copy_data(c, err);
}

/* Messages of the reader modules already start with the input's name. */
static const char *strip_name(const char *msg, const char *name)
{
	size_t n = strlen(name);

	if (!strncmp(msg, name, n) && !strncmp(msg + n, ": ", 2))
		return msg + n + 2;
	return msg;
}

static int convert(struct conv *c, struct ng_err *err)
{
	struct tar_hdr h;
	struct ng_err e;
	int rc;

	rc = tar_next(c->tr, &h, &e);
	/* dmverity-vhd's is-it-a-tar check: one header, or an end block. */
	if (rc < 0 || (rc == 0 && tar_offset(c->tr) == 0))
		return ng_errf(
		    err, NG_EINVAL,
		    "%s: input file is not a tar archive%s%s; give a layer tar, plain or "
		    "gzip/zstd-compressed",
		    c->name, rc < 0 ? ": " : "", rc < 0 ? strip_name(e.msg, c->name) : "");
	while (rc > 0) {
		if (++c->entries > MAX_INODES)
			return ng_errf(err, NG_ELIMIT, "%s: more than %u entries", c->name,
				       MAX_INODES);
		if ((rc = convert_entry(c, &h, &e)) < 0)
			break;
		rc = tar_next(c->tr, &h, &e);
	}
	if (rc == 0 && (rc = ext4w_close(c->w, &e)) == 0)
		return 0;
	return ng_errf(err, rc, "%s: failed to convert tar to ext4 as Azure does: %s", c->name,
		       strip_name(e.msg, c->name));
}

int layer_hash_fd(int fd, const struct layer_opts *o, struct layer_result *res, struct ng_err *err)
{
	struct conv c = {0};
	struct layersrc *src = NULL;
	struct verity_img *v = NULL;
	struct safefile sf = {0};
	int out_fd = -1, rc;

	memset(res, 0, sizeof(*res));
	c.name = o && o->name ? o->name : "layer";
	if (o && o->ext4_out) {
		if ((rc = safefile_open(&sf, o->ext4_out, 0644, err)) < 0)
			return rc;
		out_fd = sf.fd;
	}
	if ((rc = layersrc_new(fd, c.name, &src, err)) < 0 ||
	    (rc = tar_reader_new(src, c.name, &c.tr, err)) < 0 ||
	    (rc = verity_img_new(out_fd, (uint64_t)EXT4W_FIRST_DATA_BLOCK * VERITY_BLOCK, &v,
				 err)) < 0 ||
	    (rc = ext4w_new(v, &c.w, err)) < 0)
		goto out;
	if ((rc = convert(&c, err)) < 0)
		goto out;
	if ((rc = verity_finish(v, res->root, err)) < 0) {
		ng_err_prefix(err, rc, "%s", c.name);
		goto out;
	}
	res->ext4_bytes = verity_pos(v);
	if ((rc = layersrc_finish(src, res->blob_digest, &res->blob_bytes, res->diff_id,
				  &res->tar_bytes, err)) < 0)
		goto out;
	if (out_fd >= 0 && (rc = safefile_commit(&sf, err)) < 0)
		goto out;
out:
	if (rc < 0 && out_fd >= 0)
		safefile_abort(&sf);
	ext4w_free(c.w);
	verity_img_free(v);
	tar_reader_free(c.tr);
	layersrc_free(src);
	if (rc < 0)
		memset(res, 0, sizeof(*res));
	return rc;
}

int layer_hash_file(const char *path, const struct layer_opts *o, struct layer_result *res,
		    struct ng_err *err)
{
	struct layer_opts oo = {0};
	struct stat st;
	int fd, rc;

	if (o)
		oo = *o;
	if (!oo.name)
		oo.name = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ng_errf(err, errno == ENOENT ? NG_ENOTFOUND : NG_EIO, "%s: %s", oo.name,
			       strerror(errno));
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		close(fd);
		return ng_errf(err, NG_EINVAL, "%s: is a directory; give a layer tar file",
			       oo.name);
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = layer_hash_fd(fd, &oo, res, err);
	close(fd);
	return rc;
}
