#include "ociarchive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "../bundle-format/fileio.h"
#include "ocitar.h"

/* A decompressed archive never exceeds this (it is written to $TMPDIR). */
#define OCI_ARCHIVE_MAX_BYTES (256ULL << 30)

struct oci_src {
	char *name;
	int dirfd; /* directory sources */
	int fd;	   /* tar sources on disk */
	const uint8_t *mem;
	uint64_t size;
	struct ocitar_member *m;
	size_t nm;
};

const char *oci_src_name(const struct oci_src *s)
{
	return s->name;
}

/* Canonical member names: relative, no empty, "." or ".." components. */
int oci_member_name_ok(const char *name)
{
	const char *p = name;
	size_t n = strlen(name);

	if (n == 0 || n > OCI_TAR_MAX_NAME || name[0] == '/')
		return 0;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!e)
			break;
		p = e + 1;
		if (!*p)
			return 0; /* trailing slash */
	}
	return 1;
}

/* Lexically joins base directory and rel, resolving "." and ".." without ever
 * going above the root; NULL when it would (a link out of the archive). */
static char *resolve_path(const char *dir, const char *rel)
{
	size_t n = strlen(dir) + strlen(rel) + 2, len = 0;
	char *in = malloc(n), *out = malloc(n), *save = NULL, *tok;

	if (!in || !out || rel[0] == '/') {
		free(in);
		free(out);
		return NULL;
	}
	snprintf(in, n, "%s%s%s", dir, *dir ? "/" : "", rel);
	out[0] = 0;
	for (tok = strtok_r(in, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			char *slash;
			if (len == 0)
				goto escape;
			slash = strrchr(out, '/');
			len = slash ? (size_t)(slash - out) : 0;
			out[len] = 0;
			continue;
		}
		len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "/" : "", tok);
	}
	free(in);
	if (len == 0) {
		free(out);
		return NULL;
	}
	return out;
escape:
	free(in);
	free(out);
	return NULL;
}

static int read_at(void *ctx, uint64_t off, void *p, size_t n)
{
	const struct oci_src *s = ctx;
	size_t got = 0;

	if (off > s->size || n > s->size - off)
		return -1;
	if (s->mem) {
		memcpy(p, s->mem + off, n);
		return 0;
	}
	while (got < n) {
		ssize_t r = pread(s->fd, (uint8_t *)p + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int src_new(const char *name, struct oci_src **out, struct ng_err *err)
{
	struct oci_src *s = calloc(1, sizeof(*s));

	if (!s || !(s->name = strdup(name))) {
		free(s);
		return ng_errf(err, NG_ENOMEM, "out of memory");
	}
	s->dirfd = s->fd = -1;
	*out = s;
	return 0;
}

int oci_src_open_tar_mem(const uint8_t *p, size_t n, const char *name, struct oci_src **out,
			 struct ng_err *err)
{
	struct oci_src *s;
	int rc = src_new(name, &s, err);

	if (rc)
		return rc;
	s->mem = p;
	s->size = n;
	if ((rc = ocitar_index(s->name, s->size, read_at, s, &s->m, &s->nm, err))) {
		oci_src_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int tmpfile_fd(struct ng_err *err)
{
	const char *dir = getenv("TMPDIR");
	char *tmpl;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (asprintf(&tmpl, "%s/nutgen-archive.XXXXXX", dir) < 0)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmpl);
	else
		ng_errf(err, NG_EIO, "cannot create a temporary file in %s: %s (set TMPDIR)", dir,
			strerror(errno));
	free(tmpl);
	return fd < 0 ? NG_EIO : fd;
}

/* Decompresses a gzip or zstd archive into an unlinked temporary file, so that
 * members can be read in place with pread like those of a plain tar. */
static int decompress_archive(struct oci_src *s, int in, int zstd, struct ng_err *err)
{
	uint8_t ib[1 << 16], ob[1 << 16];
	uint64_t total = 0;
	int out = tmpfile_fd(err), rc = 0;
	z_stream z;
	ZSTD_DStream *zd = NULL;
	int zret = Z_OK;
	size_t zpending = 0;

	if (out < 0)
		return out;
	memset(&z, 0, sizeof(z));
	if (zstd ? !(zd = ZSTD_createDStream()) : inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		close(out);
		return ng_errf(err, NG_ENOMEM, "%s: cannot start decompression", s->name);
	}
	for (int eof = 0; !eof && !rc;) {
		ssize_t n = read(in, ib, sizeof(ib));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ng_errf(err, NG_EIO, "%s: read: %s", s->name, strerror(errno));
			break;
		}
		eof = n == 0;
		if (zstd) {
			ZSTD_inBuffer zi = {ib, (size_t)n, 0};
			while (!rc && zi.pos < zi.size) {
				ZSTD_outBuffer zo = {ob, sizeof(ob), 0};
				size_t r = ZSTD_decompressStream(zd, &zo, &zi);
				zpending = r;
				if (ZSTD_isError(r))
					rc = ng_errf(err, NG_EINVAL, "%s: corrupt zstd data: %s",
						     s->name, ZSTD_getErrorName(r));
				else if ((total += zo.pos) > OCI_ARCHIVE_MAX_BYTES)
					rc = ng_errf(err, NG_ELIMIT, "%s: decompresses to too much",
						     s->name);
				else if (write_all(out, ob, zo.pos))
					rc = ng_errf(err, NG_EIO, "%s: writing temporary copy: %s",
						     s->name, strerror(errno));
			}
			continue;
		}
		z.next_in = ib;
		z.avail_in = (uInt)n;
		while (!rc && (z.avail_in || (eof && zret != Z_STREAM_END))) {
			z.next_out = ob;
			z.avail_out = sizeof(ob);
			zret = inflate(&z, Z_NO_FLUSH);
			if (zret == Z_STREAM_END && z.avail_in) {
				/* Concatenated gzip members (RFC 1952 §2.2). */
				inflateReset(&z);
				zret = Z_OK;
			} else if (zret != Z_OK && zret != Z_STREAM_END && zret != Z_BUF_ERROR) {
				rc = ng_errf(err, NG_EINVAL, "%s: corrupt gzip data", s->name);
				break;
			}
			if ((total += sizeof(ob) - z.avail_out) > OCI_ARCHIVE_MAX_BYTES)
				rc = ng_errf(err, NG_ELIMIT, "%s: decompresses to too much",
					     s->name);
			else if (write_all(out, ob, sizeof(ob) - z.avail_out))
				rc = ng_errf(err, NG_EIO, "%s: writing temporary copy: %s", s->name,
					     strerror(errno));
			if (zret == Z_BUF_ERROR && z.avail_out) {
				if (eof)
					rc = ng_errf(err, NG_EINVAL, "%s: truncated gzip data",
						     s->name);
				break;
			}
		}
	}
	if (!rc && zstd && zpending)
		rc = ng_errf(err, NG_EINVAL, "%s: truncated zstd data", s->name);
	if (zstd)
		ZSTD_freeDStream(zd);
	else
		inflateEnd(&z);
	if (rc) {
		close(out);
		return rc;
	}
	s->fd = out;
	s->size = total;
	return 0;
}

int oci_src_open(const char *path, struct oci_src **out, struct ng_err *err)
{
	struct oci_src *s;
	struct stat st;
	uint8_t magic[4] = {0};
	int rc, fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return ng_errf(err, errno == ENOENT ? NG_ENOTFOUND : NG_EIO, "%s: cannot open: %s",
			       path, strerror(errno));
	if ((rc = src_new(path, &s, err))) {
		close(fd);
		return rc;
	}
	if (fstat(fd, &st)) {
		rc = ng_errf(err, NG_EIO, "%s: stat: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		s->dirfd = fd;
		*out = s;
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ng_errf(err, NG_EINVAL, "%s: neither a directory nor a regular file", path);
		goto fail;
	}
	if (pread(fd, magic, 4, 0) < 0) {
		rc = ng_errf(err, NG_EIO, "%s: read: %s", path, strerror(errno));
		goto fail;
	}
	if ((magic[0] == 0x1f && magic[1] == 0x8b) ||
	    (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)) {
		rc = decompress_archive(s, fd, magic[0] == 0x28, err);
		close(fd);
		fd = -1;
		if (rc)
			goto fail;
	} else {
		s->fd = fd;
		s->size = (uint64_t)st.st_size;
	}
	if ((rc = ocitar_index(s->name, s->size, read_at, s, &s->m, &s->nm, err)))
		goto fail;
	*out = s;
	return 0;
fail:
	if (fd >= 0 && s->fd != fd)
		close(fd);
	oci_src_free(s);
	return rc;
}

void oci_src_free(struct oci_src *s)
{
	if (!s)
		return;
	ocitar_free(s->m, s->nm);
	if (s->fd >= 0)
		close(s->fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->name);
	free(s);
}

static const struct ocitar_member *find(const struct oci_src *s, const char *name)
{
	return ocitar_find(s->m, s->nm, name);
}

/* A tar member by name, following at most one link, which must land on a
 * regular member inside the archive. */
static int tar_lookup(const struct oci_src *s, const char *name, const struct ocitar_member **out,
		      struct ng_err *err)
{
	const struct ocitar_member *m = find(s, name), *t;
	char *dir, *target, *slash;

	if (!m)
		return ng_errf(err, NG_ENOTFOUND, "%s: member %s is missing", s->name, name);
	if (m->type == OCITAR_FILE) {
		*out = m;
		return 0;
	}
	if (m->type == OCITAR_DIR)
		return ng_errf(err, NG_EINVAL, "%s: member %s is a directory", s->name, name);
	dir = strdup(m->name);
	if (!dir)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		dir[0] = 0;
	target = resolve_path(m->type == OCITAR_SYMLINK ? dir : "", m->link);
	free(dir);
	t = target ? find(s, target) : NULL;
	free(target);
	if (!t || t->type != OCITAR_FILE)
		return ng_errf(err, NG_EINVAL,
			       "%s: member %s is a link to '%.200s', which is not a regular file "
			       "inside the archive: refusing it",
			       s->name, name, m->link);
	*out = t;
	return 0;
}

/* Opens a member of a directory source, one component at a time, never
 * following a symlink (O_NOFOLLOW) so nothing outside the directory is read. */
static int dir_open(const struct oci_src *s, const char *name, int *fdout, uint64_t *size,
		    struct ng_err *err)
{
	char *copy = strdup(name), *save = NULL, *tok, *next;
	int fd = s->dirfd, rc = 0;
	struct stat st;

	if (!copy)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	tok = strtok_r(copy, "/", &save);
	while (tok) {
		int nfd;
		next = strtok_r(NULL, "/", &save);
		nfd = openat(fd, tok,
			     O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
				 (next ? O_DIRECTORY : 0));
		if (nfd < 0) {
			int e = errno;
			if (e == ENOENT)
				rc = ng_errf(err, NG_ENOTFOUND, "%s: %s is missing", s->name, name);
			else if (e == ELOOP || (e == ENOTDIR && next))
				rc = ng_errf(
				    err, NG_EINVAL,
				    "%s: %s is reached through a symlink: refusing to follow "
				    "links out of the image (copy the real file in)",
				    s->name, name);
			else
				rc = ng_errf(err, NG_EIO, "%s: %s: %s", s->name, name, strerror(e));
			break;
		}
		if (fd != s->dirfd)
			close(fd);
		fd = nfd;
		tok = next;
	}
	free(copy);
	if (rc) {
		if (fd != s->dirfd)
			close(fd);
		return rc;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return ng_errf(err, NG_EINVAL, "%s: %s is not a regular file", s->name, name);
	}
	*fdout = fd;
	*size = (uint64_t)st.st_size;
	return 0;
}

int oci_src_open_member(const struct oci_src *s, const char *member, struct oci_member *m,
			struct ng_err *err)
{
	const struct ocitar_member *t = NULL;
	int rc;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (!oci_member_name_ok(member))
		return ng_errf(
		    err, NG_EINVAL,
		    "%s: path '%.200s' is absolute or leaves the image (contains '..' or "
		    "'.'): refusing it",
		    s->name, member);
	if (s->dirfd >= 0) {
		if ((rc = dir_open(s, member, &m->fd, &m->len, err)))
			return rc;
		m->own_fd = 1;
		return 0;
	}
	if ((rc = tar_lookup(s, member, &t, err)))
		return rc;
	m->fd = s->mem ? -1 : s->fd;
	m->mem = s->mem;
	m->off = t->off;
	m->len = t->size;
	return 0;
}

long oci_member_pread(const struct oci_member *m, void *p, size_t n, uint64_t pos)
{
	ssize_t r;

	if (pos >= m->len)
		return 0;
	if (n > m->len - pos)
		n = (size_t)(m->len - pos);
	if (m->mem) {
		memcpy(p, m->mem + m->off + pos, n);
		return (long)n;
	}
	do
		r = pread(m->fd, p, n, (off_t)(m->off + pos));
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		errno = EIO; /* the file shrank under us */
		return -1;
	}
	return (long)r;
}

void oci_member_close(struct oci_member *m)
{
	if (m->own_fd && m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->own_fd = 0;
}

int oci_src_exists(const struct oci_src *s, const char *member)
{
	struct oci_member m;
	struct ng_err e;
	int rc = oci_src_open_member(s, member, &m, &e);

	if (!rc)
		oci_member_close(&m);
	return rc != NG_ENOTFOUND;
}

int oci_src_read(const struct oci_src *s, const char *member, size_t max, uint8_t **out,
		 size_t *outlen, struct ng_err *err)
{
	struct oci_member m;
	uint8_t *b;
	uint64_t got = 0;
	int rc = oci_src_open_member(s, member, &m, err);

	if (rc)
		return rc;
	if (m.len > max) {
		oci_member_close(&m);
		return ng_errf(err, NG_ELIMIT, "%s: %s is %llu bytes, over the limit of %zu",
			       s->name, member, (unsigned long long)m.len, max);
	}
	b = malloc((size_t)m.len + 1);
	if (!b) {
		oci_member_close(&m);
		return ng_errf(err, NG_ENOMEM, "out of memory");
	}
	while (got < m.len) {
		long r = oci_member_pread(&m, b + got, (size_t)(m.len - got), got);
		if (r <= 0) {
			free(b);
			oci_member_close(&m);
			return ng_errf(err, NG_EIO, "%s: reading %s: %s", s->name, member,
				       strerror(errno));
		}
		got += (uint64_t)r;
	}
	oci_member_close(&m);
	b[got] = 0;
	*out = b;
	*outlen = (size_t)got;
	return 0;
}
