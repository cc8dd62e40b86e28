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

/* A decompressed archive never exceeds this (it is written to $TMPDIR). */
#define OCI_ARCHIVE_MAX_BYTES (256ULL << 30)
#define PAX_MAX_BYTES	      (1u << 20)

enum { M_FILE, M_DIR, M_SYMLINK, M_HARDLINK };

struct member {
	char *name;
	char *link; /* M_SYMLINK / M_HARDLINK target as stored */
	int type;
	uint64_t off, size;
};

struct oci_src {
	char *name;
	int dirfd; /* directory sources */
	int fd;	   /* tar sources on disk */
	const uint8_t *mem;
	uint64_t size;
	struct member *m;
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

static int read_at(const struct oci_src *s, uint64_t off, void *p, size_t n)
{
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

/* Numeric header field: octal (NUL/space padded) or base-256 (high bit set,
 * GNU and star), as Go's archive/tar parseNumeric accepts. */
static int tar_number(const uint8_t *f, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -1; /* negative or too large */
		for (i = 1; i < n; i++) {
			if (v >> 56)
				return -1;
			v = v << 8 | f[i];
		}
		*out = v;
		return 0;
	}
	while (i < n && (f[i] == ' ' || f[i] == 0))
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -1;
	*out = v;
	return 0;
}

static int checksum_ok(const uint8_t *h)
{
	uint64_t want;
	long us = 0, sg = 0;

	if (tar_number(h + 148, 8, &want))
		return 0;
	for (int i = 0; i < 512; i++) {
		int c = (i >= 148 && i < 156) ? ' ' : h[i];
		us += (unsigned char)c;
		sg += (signed char)c;
	}
	return (uint64_t)us == want || (uint64_t)sg == want;
}

static char *field_str(const uint8_t *f, size_t n)
{
	return strndup((const char *)f, n);
}

/* Applies pax records "LEN key=value\n" that matter here (path, linkpath, size). */
static int pax_parse(const char *p, size_t n, char **path, char **link, uint64_t *size,
		     int *has_size)
{
	size_t i = 0;

	while (i < n) {
		uint64_t len = 0;
		size_t j = i, eq;
		while (j < n && p[j] >= '0' && p[j] <= '9' && len < PAX_MAX_BYTES)
			len = len * 10 + (uint64_t)(p[j++] - '0');
		if (j == i || j >= n || p[j] != ' ' || len < 5 || len > n - i ||
		    p[i + len - 1] != '\n')
			return -1;
		j++;
		for (eq = j; eq < i + len - 1 && p[eq] != '='; eq++)
			;
		if (eq >= i + len - 1)
			return -1;
		if (eq - j == 4 && !memcmp(p + j, "path", 4)) {
			free(*path);
			*path = strndup(p + eq + 1, i + len - 2 - eq);
		} else if (eq - j == 8 && !memcmp(p + j, "linkpath", 8)) {
			free(*link);
			*link = strndup(p + eq + 1, i + len - 2 - eq);
		} else if (eq - j == 4 && !memcmp(p + j, "size", 4)) {
			uint64_t v = 0;
			size_t k = eq + 1;
			if (k >= i + len - 1)
				return -1;
			for (; k < i + len - 1; k++) {
				if (p[k] < '0' || p[k] > '9' || v > (UINT64_MAX - 9) / 10)
					return -1;
				v = v * 10 + (uint64_t)(p[k] - '0');
			}
			*size = v;
			*has_size = 1;
		}
		i += len;
	}
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

/* Normalises a stored name: strips leading "./" and trailing "/"; "" is the
 * root directory entry. Returns 0 or -1 when the name is unsafe. */
static int normalise(char *name)
{
	char *p = name;
	size_t n;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	memmove(name, p, strlen(p) + 1);
	n = strlen(name);
	while (n && name[n - 1] == '/')
		name[--n] = 0;
	if (!strcmp(name, ".")) {
		name[0] = 0;
		n = 0;
	}
	return n == 0 || oci_member_name_ok(name) ? 0 : -1;
}

#define TERR(...) (rc = ng_errf(err, NG_EINVAL, __VA_ARGS__), (void)0)

static int tar_index(struct oci_src *s, struct ng_err *err)
{
	uint8_t h[512];
	uint64_t off = 0;
	char *lname = NULL, *llink = NULL, *ppath = NULL, *plink = NULL;
	uint64_t psize = 0;
	int has_psize = 0, rc = 0;
	size_t cap = 0;

	for (;;) {
		uint64_t size;
		char type, *name, *link;
		int mtype;

		if (off == s->size) {
			if (off == 0)
				TERR("%s: empty file is not a tar archive", s->name);
			break; /* EOF at a header boundary ends the archive */
		}
		if (read_at(s, off, h, 512)) {
			TERR("%s: truncated tar header at offset %llu", s->name,
			     (unsigned long long)off);
			break;
		}
		if (!memcmp(h, (uint8_t[512]){0}, 512)) {
			if (off + 512 < s->size) {
				if (read_at(s, off + 512, h, 512) ||
				    memcmp(h, (uint8_t[512]){0}, 512))
					TERR("%s: zero block followed by data at offset %llu: not "
					     "a tar "
					     "archive",
					     s->name, (unsigned long long)off);
			}
			break;
		}
		if (!checksum_ok(h)) {
			TERR("%s: bad tar header checksum at offset %llu (not a tar archive, or "
			     "corrupt)",
			     s->name, (unsigned long long)off);
			break;
		}
		if (tar_number(h + 124, 12, &size)) {
			TERR("%s: bad size field at offset %llu", s->name, (unsigned long long)off);
			break;
		}
		type = (char)h[156];
		if (has_psize && type != 'x' && type != 'g')
			size = psize;
		if (size > s->size - off - 512) {
			TERR("%s: member at offset %llu runs past the end of the archive "
			     "(truncated)",
			     s->name, (unsigned long long)off);
			break;
		}
		if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
			char *d;
			if (size >
			    (type == 'x' || type == 'g' ? PAX_MAX_BYTES : OCI_TAR_MAX_NAME)) {
				TERR("%s: extended header at offset %llu is over the limit",
				     s->name, (unsigned long long)off);
				break;
			}
			d = malloc(size + 1);
			if (!d || read_at(s, off + 512, d, size)) {
				free(d);
				rc = ng_errf(err, NG_ENOMEM, "%s: cannot read extended header",
					     s->name);
				break;
			}
			d[size] = 0;
			if (type == 'L') {
				free(lname);
				lname = strdup(d);
			} else if (type == 'K') {
				free(llink);
				llink = strdup(d);
			} else if (type == 'x' &&
				   pax_parse(d, size, &ppath, &plink, &psize, &has_psize)) {
				free(d);
				TERR("%s: malformed pax header at offset %llu", s->name,
				     (unsigned long long)off);
				break;
			}
			free(d);
			off += 512 + ((size + 511) & ~511ULL);
			continue;
		}
		switch (type) {
		case '0':
		case '\0':
		case '7':
			mtype = M_FILE;
			break;
		case '5':
			mtype = M_DIR;
			break;
		case '2':
			mtype = M_SYMLINK;
			break;
		case '1':
			mtype = M_HARDLINK;
			break;
		default:
			mtype = -1;
		}
		if (ppath) {
			name = ppath;
			ppath = NULL;
		} else if (lname) {
			name = lname;
			lname = NULL;
		} else if (!memcmp(h + 257, "ustar\0", 6) && h[345]) {
			char *pre = field_str(h + 345, 155), *nm = field_str(h, 100);
			size_t n = pre && nm ? strlen(pre) + strlen(nm) + 2 : 0;
			name = n ? malloc(n) : NULL;
			if (name)
				snprintf(name, n, "%s/%s", pre, nm);
			free(pre);
			free(nm);
		} else {
			name = field_str(h, 100);
		}
		link = plink ? plink : llink ? llink : field_str(h + 157, 100);
		if (plink && llink)
			free(llink);
		plink = llink = NULL;
		has_psize = 0;
		if (!name || !link) {
			free(name);
			free(link);
			rc = ng_errf(err, NG_ENOMEM, "%s: out of memory", s->name);
			break;
		}
		if (mtype < 0 || normalise(name)) {
			if (mtype < 0)
				TERR(
				    "%s: member '%.200s' has tar type '%c', which an image archive "
				    "never holds: refusing it",
				    s->name, name, type >= 32 && type < 127 ? type : '?');
			else
				TERR("%s: member name '%.200s' is absolute or contains '..': "
				     "refusing "
				     "an archive that writes outside itself",
				     s->name, name);
			free(name);
			free(link);
			break;
		}
		if (!name[0] && mtype == M_DIR) {
			free(name);
			free(link);
			off += 512 + ((size + 511) & ~511ULL);
			continue;
		}
		if (s->nm == OCI_TAR_MAX_MEMBERS) {
			free(name);
			free(link);
			rc = ng_errf(err, NG_ELIMIT, "%s: more than %d members", s->name,
				     OCI_TAR_MAX_MEMBERS);
			break;
		}
		if (s->nm == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct member *m = realloc(s->m, nc * sizeof(*m));
			if (!m) {
				free(name);
				free(link);
				rc = ng_errf(err, NG_ENOMEM, "%s: out of memory", s->name);
				break;
			}
			s->m = m;
			cap = nc;
		}
		s->m[s->nm++] =
		    (struct member){name, link, mtype, off + 512, mtype == M_FILE ? size : 0};
		off += 512 + ((size + 511) & ~511ULL);
	}
	free(lname);
	free(llink);
	free(ppath);
	free(plink);
	if (rc)
		return rc;
	qsort(s->m, s->nm, sizeof(*s->m), cmp_member);
	for (size_t i = 1; i < s->nm; i++)
		if (!strcmp(s->m[i].name, s->m[i - 1].name))
			return ng_errf(
			    err, NG_EINVAL,
			    "%s: member '%.200s' appears twice: refusing an ambiguous archive",
			    s->name, s->m[i].name);
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
	if ((rc = tar_index(s, err))) {
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
	int rc, fd = open(path, O_RDONLY | O_CLOEXEC);

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
	if ((rc = tar_index(s, err)))
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
	for (size_t i = 0; i < s->nm; i++) {
		free(s->m[i].name);
		free(s->m[i].link);
	}
	free(s->m);
	if (s->fd >= 0)
		close(s->fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->name);
	free(s);
}

static const struct member *find(const struct oci_src *s, const char *name)
{
	struct member key = {(char *)name, NULL, 0, 0, 0};

	return s->nm ? bsearch(&key, s->m, s->nm, sizeof(*s->m), cmp_member) : NULL;
}

/* A tar member by name, following at most one link, which must land on a
 * regular member inside the archive. */
static int tar_lookup(const struct oci_src *s, const char *name, const struct member **out,
		      struct ng_err *err)
{
	const struct member *m = find(s, name), *t;
	char *dir, *target, *slash;

	if (!m)
		return ng_errf(err, NG_ENOTFOUND, "%s: member %s is missing", s->name, name);
	if (m->type == M_FILE) {
		*out = m;
		return 0;
	}
	if (m->type == M_DIR)
		return ng_errf(err, NG_EINVAL, "%s: member %s is a directory", s->name, name);
	dir = strdup(m->name);
	if (!dir)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		dir[0] = 0;
	target = resolve_path(m->type == M_SYMLINK ? dir : "", m->link);
	free(dir);
	t = target ? find(s, target) : NULL;
	free(target);
	if (!t || t->type != M_FILE)
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
		nfd = openat(fd, tok, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (next ? O_DIRECTORY : 0));
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
	const struct member *t = NULL;
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

	if (oci_src_open_member(s, member, &m, &e))
		return 0;
	oci_member_close(&m);
	return 1;
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
