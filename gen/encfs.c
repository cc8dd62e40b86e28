/* encfs.c: encfs.img = LUKS2 header + encrypted ext4 with the mint's initial
 * content (sidecars.md §2; seed-deployment.md §3.2, §4.2). */
#include "encfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundle-format/fileio.h"
#include "ext4img.h"
#include "luks.h"

#define ENCFS_MAX_ENTRIES 100000 /* files + directories copied by --add */
#define ENCFS_PATH_MAX	  4096
#define ENCFS_MAX_INODES  (1u << 24)

int encfs_parse_size(const char *s, uint64_t *out, struct ng_err *err)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {{"", 0},	  {"B", 0},  {"K", 10},	  {"KiB", 10}, {"M", 20},
		     {"MiB", 20}, {"G", 30}, {"GiB", 30}, {"T", 40},   {"TiB", 40}};
	uint64_t v = 0;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(p, units[i].suffix) == 0) {
			if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
				goto bad;
			*out = v << units[i].shift;
			return 0;
		}
bad:
	return ng_errf(err, NG_EINVAL,
		       "size '%s': expected a number of bytes with an optional KiB/MiB/GiB/TiB "
		       "suffix, e.g. 1GiB",
		       s ? s : "");
}

/* A path inside the file system: relative, no empty, "." or ".." parts. */
static int dst_ok(const char *d)
{
	const char *p = d;

	if (!*d || *d == '/' || strlen(d) >= 1024)
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/' && !*++p)
			return 0;
	}
	return 1;
}

int encfs_validate(const struct encfs_opts *o, struct ng_err *err)
{
	uint64_t blocks;
	const char *marker = o->marker ? o->marker : ENCFS_DEFAULT_MARKER;

	if (o->size % EXT4IMG_BLOCK)
		return ng_errf(err, NG_EINVAL,
			       "--size %llu: not a multiple of 4096 (dm-crypt sectors, "
			       "sidecars.md §2.4); round it, e.g. 1GiB",
			       (unsigned long long)o->size);
	if (o->size < ENCFS_MIN_SIZE || o->size > ENCFS_MAX_SIZE)
		return ng_errf(err, NG_EINVAL, "--size %llu: must be between 64MiB and 1TiB",
			       (unsigned long long)o->size);
	blocks = (o->size - LUKS_DATA_OFFSET) / EXT4IMG_BLOCK;
	if (o->journal_mib &&
	    ((uint64_t)o->journal_mib < 4 || (uint64_t)o->journal_mib * 256 > blocks / 2))
		return ng_errf(err, NG_EINVAL,
			       "--journal-mib %u: must be 4 or more and at most half the file "
			       "system",
			       o->journal_mib);
	if (o->inodes &&
	    (o->inodes < 64 || o->inodes > ENCFS_MAX_INODES || (uint64_t)o->inodes > blocks))
		return ng_errf(err, NG_EINVAL,
			       "--inodes %u: must be between 64 and %u and at most one per block",
			       o->inodes, ENCFS_MAX_INODES);
	if (*marker && (!dst_ok(marker) || strchr(marker, '/')))
		return ng_errf(err, NG_EINVAL, "--marker '%s': must be a plain file name", marker);
	if (o->nadds > ENCFS_MAX_ADDS)
		return ng_errf(err, NG_ELIMIT, "--add: at most %d", ENCFS_MAX_ADDS);
	for (size_t i = 0; i < o->nadds; i++) {
		struct stat st;
		if (!dst_ok(o->adds[i].dst))
			return ng_errf(err, NG_EINVAL,
				       "--add %s:%s: the destination must be a relative path "
				       "without '.' or '..' parts",
				       o->adds[i].src, o->adds[i].dst);
		if (stat(o->adds[i].src, &st) < 0 || access(o->adds[i].src, R_OK) < 0)
			return ng_errf(err, NG_ENOTFOUND, "--add %s: cannot read: %s",
				       o->adds[i].src, strerror(errno));
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
			return ng_errf(err, NG_EINVAL,
				       "--add %s: only regular files and directories can be added",
				       o->adds[i].src);
	}
	return 0;
}

static int copy_file(const char *src, const char *dst, mode_t mode, struct ng_err *err)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out;
	ssize_t n;

	if (in < 0)
		return ng_errf(err, NG_ENOTFOUND, "--add %s: cannot read: %s", src,
			       strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
	if (out < 0) {
		close(in);
		return ng_errf(err, NG_EIO, "--add %s: staging: %s", src, strerror(errno));
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)n) < 0) {
			n = -1;
			break;
		}
	close(in);
	if (n < 0 || fchmod(out, mode & 0777) < 0 || close(out) < 0)
		return ng_errf(err, NG_EIO, "--add %s: copying: %s", src, strerror(errno));
	return 0;
}

/* Copies a file or directory tree (regular files and directories only: a
 * symlink could point anywhere on the build host). */
static int copy_tree(const char *src, const char *dst, unsigned *entries, struct ng_err *err)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (++*entries > ENCFS_MAX_ENTRIES)
		return ng_errf(err, NG_ELIMIT, "--add %s: more than %d files", src,
			       ENCFS_MAX_ENTRIES);
	if (lstat(src, &st) < 0)
		return ng_errf(err, NG_ENOTFOUND, "--add %s: cannot read: %s", src,
			       strerror(errno));
	if (S_ISREG(st.st_mode))
		return copy_file(src, dst, st.st_mode, err);
	if (!S_ISDIR(st.st_mode))
		return ng_errf(err, NG_EINVAL,
			       "--add %s: not a regular file or directory (symlinks and devices "
			       "are not copied)",
			       src);
	if (mkdir(dst, st.st_mode & 0777) < 0 && errno != EEXIST)
		return ng_errf(err, NG_EIO, "--add %s: staging: %s", src, strerror(errno));
	d = opendir(src);
	if (!d)
		return ng_errf(err, NG_ENOTFOUND, "--add %s: cannot read: %s", src,
			       strerror(errno));
	while (rc == 0 && (e = readdir(d))) {
		char s[ENCFS_PATH_MAX], t[ENCFS_PATH_MAX];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(s, sizeof(s), "%s/%s", src, e->d_name) >= (int)sizeof(s) ||
		    snprintf(t, sizeof(t), "%s/%s", dst, e->d_name) >= (int)sizeof(t))
			rc = ng_errf(err, NG_ELIMIT, "--add %s: path too long", src);
		else
			rc = copy_tree(s, t, entries, err);
	}
	closedir(d);
	if (rc == 0 && chmod(dst, st.st_mode & 0777) < 0)
		rc = ng_errf(err, NG_EIO, "--add %s: staging: %s", src, strerror(errno));
	return rc;
}

/* mkdir -p of dst's parent directories inside the staging root. */
static int make_parents(const char *root, const char *dst, struct ng_err *err)
{
	char p[ENCFS_PATH_MAX];
	size_t rl = strlen(root);

	if (snprintf(p, sizeof(p), "%s/%s", root, dst) >= (int)sizeof(p))
		return ng_errf(err, NG_ELIMIT, "--add %s: path too long", dst);
	for (char *s = p + rl + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return ng_errf(err, NG_EIO, "--add %s: staging: %s", dst, strerror(errno));
		*s = '/';
	}
	return 0;
}

static int stage(const char *root, const struct encfs_opts *o, struct ng_err *err)
{
	const char *marker = o->marker ? o->marker : ENCFS_DEFAULT_MARKER;
	const char *text = o->marker_text ? o->marker_text : "nutgen encfs volume\n";
	char p[ENCFS_PATH_MAX];
	unsigned entries = 0;
	int rc;

	if (mkdir(root, 0755) < 0 || chmod(root, 0755) < 0)
		return ng_errf(err, NG_EIO, "%s: %s", root, strerror(errno));
	for (size_t i = 0; i < o->nadds; i++) {
		rc = make_parents(root, o->adds[i].dst, err);
		if (rc < 0)
			return rc;
		if (snprintf(p, sizeof(p), "%s/%s", root, o->adds[i].dst) >= (int)sizeof(p))
			return ng_errf(err, NG_ELIMIT, "--add %s: path too long", o->adds[i].dst);
		rc = copy_tree(o->adds[i].src, p, &entries, err);
		if (rc < 0)
			return rc;
	}
	/* The mint's entrypoint waits for this file before it opens its
	 * database, so it never writes to the container's ephemeral disk
	 * (seed-deployment.md §3.2). Written last: it wins over an --add. */
	if (*marker) {
		int fd;
		if (snprintf(p, sizeof(p), "%s/%s", root, marker) >= (int)sizeof(p))
			return ng_errf(err, NG_ELIMIT, "--marker: path too long");
		unlink(p);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || fchmod(fd, 0644) < 0) {
			if (fd >= 0)
				close(fd);
			return ng_errf(err, NG_EIO, "%s: %s", p, strerror(errno));
		}
		close(fd);
	}
	return 0;
}

int encfs_create(const char *out, const struct key *k, const struct encfs_opts *o,
		 struct ng_err *err)
{
	struct ext4img_opts eo = {0};
	struct safefile sf = {0};
	uint8_t pass[2][KEY_PASSPHRASE_LEN], vk[LUKS_VOLUME_KEY_LEN];
	char *tmp = NULL, root[ENCFS_PATH_MAX], plain[ENCFS_PATH_MAX];
	uint64_t written;
	struct stat st;
	int npass = 0, rc;

	rc = encfs_validate(o, err);
	if (rc < 0)
		return rc;
	if (lstat(out, &st) == 0)
		return ng_errf(err, NG_EEXIST,
			       "%s: already exists; an encfs image may hold a mint's database and "
			       "is never overwritten: remove it or choose another --out",
			       out);
	rc = key_passphrases(k, pass, &npass, err);
	if (rc < 0)
		return rc;
	rc = make_private_tmpdir("nutgen-encfs", &tmp, err);
	if (rc < 0)
		goto out;
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(plain, sizeof(plain), "%s/plain.img", tmp);
	rc = stage(root, o, err);
	if (rc < 0)
		goto out;
	eo.blocks = (o->size - LUKS_DATA_OFFSET) / EXT4IMG_BLOCK;
	eo.inodes = o->inodes ? o->inodes : EXT4IMG_DEFAULT_INODES;
	eo.journal_mib = o->journal_mib ? o->journal_mib : EXT4IMG_DEFAULT_JOURNAL_MIB;
	eo.uid = o->uid;
	eo.gid = o->gid;
	eo.srcdir = root;
	rc = ext4img_make(plain, &eo, err);
	if (rc < 0)
		goto out;
	rc = safefile_open(&sf, out, 0644, err);
	if (rc < 0)
		goto out;
	if (ftruncate(sf.fd, (off_t)o->size) < 0) {
		rc = ng_errf(err, NG_EIO, "%s: %s", out, strerror(errno));
		goto out;
	}
	rc = luks_format_file(sf.tmp, (const uint8_t(*)[32])pass, npass, vk, err);
	if (rc < 0)
		goto out;
	rc = ext4img_encrypt(plain, sf.fd, LUKS_DATA_OFFSET, vk, &written, err);
	if (rc < 0)
		goto out;
	rc = safefile_commit(&sf, err);
out:
	if (rc < 0)
		safefile_abort(&sf);
	OPENSSL_cleanse(pass, sizeof(pass));
	OPENSSL_cleanse(vk, sizeof(vk));
	if (tmp) {
		remove_tree(tmp);
		cleanup_unregister(tmp);
		free(tmp);
	}
	return rc;
}

int encfs_check(const char *path, const struct key *k, struct encfs_report *rep, struct ng_err *err)
{
	uint8_t pass[2][KEY_PASSPHRASE_LEN], vk[LUKS_VOLUME_KEY_LEN], vk2[LUKS_VOLUME_KEY_LEN];
	char *tmp = NULL, plain[ENCFS_PATH_MAX];
	struct stat st;
	int npass = 0, fd = -1, rc;

	memset(rep, 0, sizeof(*rep));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = ng_errf(err, NG_ENOTFOUND, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size % EXT4IMG_BLOCK ||
	    (uint64_t)st.st_size < ENCFS_MIN_SIZE || (uint64_t)st.st_size > ENCFS_MAX_SIZE) {
		rc = ng_errf(err, NG_EINVAL,
			     "%s: not an encfs image: a regular file of 64MiB..1TiB, a multiple of "
			     "4096 bytes",
			     path);
		goto out;
	}
	rc = key_passphrases(k, pass, &npass, err);
	if (rc < 0)
		goto out;
	/* Every passphrase the key yields must open a keyslot: the alternate one
	 * exists only to survive an HSM that normalises d (sidecars.md §8.1). */
	for (int i = 0; i < npass; i++) {
		rc = luks_volume_key(path, pass[i], i ? vk2 : vk, err);
		if (rc < 0)
			goto out;
		if (i && CRYPTO_memcmp(vk, vk2, sizeof(vk)) != 0) {
			rc = ng_errf(err, NG_EVERIFY, "%s: keyslots disagree on the volume key",
				     path);
			goto out;
		}
		rep->keyslots_ok++;
	}
	rep->blocks = ((uint64_t)st.st_size - LUKS_DATA_OFFSET) / EXT4IMG_BLOCK;
	rep->allocated = (uint64_t)st.st_blocks * 512;
	rc = make_private_tmpdir("nutgen-encfs-check", &tmp, err);
	if (rc < 0)
		goto out;
	snprintf(plain, sizeof(plain), "%s/plain.img", tmp);
	rc = ext4img_decrypt_check(fd, LUKS_DATA_OFFSET, rep->blocks, vk, plain, &rep->holes, err);
	if (rc == 0)
		rc = ext4img_fsck(plain, err);
	if (rc < 0)
		ng_err_prefix(err, rc, "%s", path);
out:
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(pass, sizeof(pass));
	OPENSSL_cleanse(vk, sizeof(vk));
	OPENSSL_cleanse(vk2, sizeof(vk2));
	if (tmp) {
		remove_tree(tmp);
		cleanup_unregister(tmp);
		free(tmp);
	}
	return rc;
}
