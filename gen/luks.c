/* luks.c: LUKS2 header through libcryptsetup on a plain file (sidecars.md §2.3). */
#include "luks.h"

#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* libcryptsetup reports through a log callback; keep its last error line to
 * explain a failure (its messages never carry key material). */
static __thread char luks_lastmsg[256];

static void luks_log(int level, const char *msg, void *usrptr)
{
	size_t n;

	(void)usrptr;
	if (level != CRYPT_LOG_ERROR)
		return;
	snprintf(luks_lastmsg, sizeof(luks_lastmsg), "%s", msg);
	n = strlen(luks_lastmsg);
	while (n && (luks_lastmsg[n - 1] == '\n' || luks_lastmsg[n - 1] == '.'))
		luks_lastmsg[--n] = 0;
}

static int luks_fail(struct ng_err *err, int code, const char *path, const char *what, int r)
{
	return ng_errf(err, code, "%s: %s: %s", path, what,
		       luks_lastmsg[0] ? luks_lastmsg : strerror(r < 0 ? -r : r));
}

static int luks_init(struct crypt_device **cd, const char *path, struct ng_err *err)
{
	int r;

	luks_lastmsg[0] = 0;
	crypt_set_log_callback(NULL, luks_log, NULL);
	/* Metadata locking needs /run/cryptsetup; an image file being built in a
	 * private temporary name has no other user. */
	crypt_metadata_locking(NULL, 0);
	r = crypt_init(cd, path);
	if (r < 0)
		return luks_fail(err, NG_EIO, path, "opening for LUKS2", r);
	crypt_set_log_callback(*cd, luks_log, NULL);
	return 0;
}

/* Keeps the header sparse. cryptsetup fills the whole 16 MiB keyslot area
 * with random bytes so that unused space looks like keyslots; nothing ever
 * reads an area no keyslot points to (a new keyslot writes its own), and the
 * LUKS2 JSON lists the slots anyway, so those ranges become holes (zeros).
 * Elsewhere in the plaintext header a zero 4 KiB run reads the same as a
 * hole. used[] holds the [offset, offset+length) areas of the keyslots.
 * src == dst: punch the holes in place; else copy what is kept to dst (a
 * fresh sparse file). */
static int sparse_header(int src, int dst, uint64_t area_start, const uint64_t (*used)[2],
			 int nused, const char *path, struct ng_err *err)
{
	static const uint8_t zero[LUKS_SECTOR_SIZE];
	uint8_t blk[LUKS_SECTOR_SIZE];
	uint64_t run = 0, nrun = 0;

	/* One fallocate per run of holes: thousands of 4 KiB punches cost more
	 * than the whole file system. */
	for (uint64_t off = 0; off <= LUKS_DATA_OFFSET; off += LUKS_SECTOR_SIZE) {
		int hole = 0;
		if (off < LUKS_DATA_OFFSET) {
			hole = off >= area_start;
			for (int i = 0; i < nused; i++)
				if (off + LUKS_SECTOR_SIZE > used[i][0] &&
				    off < used[i][0] + used[i][1])
					hole = 0;
			if (!hole) {
				if (pread(src, blk, sizeof(blk), (off_t)off) !=
				    (ssize_t)sizeof(blk))
					return ng_errf(err, NG_EIO,
						       "%s: short read in LUKS2 header", path);
				hole = memcmp(blk, zero, sizeof(blk)) == 0;
				if (!hole && src != dst &&
				    pwrite(dst, blk, sizeof(blk), (off_t)off) !=
					(ssize_t)sizeof(blk))
					return ng_errf(err, NG_EIO,
						       "%s: writing the LUKS2 header: %s", path,
						       strerror(errno ? errno : ENOSPC));
			}
		}
		if (hole) {
			if (!nrun)
				run = off;
			nrun++;
			continue;
		}
		if (nrun && src == dst &&
		    fallocate(dst, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)run,
			      (off_t)(nrun * LUKS_SECTOR_SIZE)) < 0)
			return ng_errf(err, NG_EIO, "%s: making the header sparse: %s", path,
				       strerror(errno));
		nrun = 0;
	}
	return 0;
}

/* libcryptsetup writes the whole 16 MiB header area twice (zeros, then
 * random keyslot padding) with O_DIRECT and fsyncs: on a memfd that costs
 * nothing, and only the kept blocks reach the image. Falls back to the file
 * itself where memfd or /proc is missing. */
static int luks_scratch(const char *path, char *name, size_t n)
{
	struct stat st;
	int fd;

	if (stat(path, &st) < 0)
		return -1;
	fd = memfd_create("nutgen-luks", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	snprintf(name, n, "/proc/self/fd/%d", fd);
	if (ftruncate(fd, st.st_size) < 0 || access(name, R_OK | W_OK) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int luks_format_file(const char *path, const uint8_t (*pass)[32], int npass,
		     uint8_t vk[LUKS_VOLUME_KEY_LEN], struct ng_err *err)
{
	struct crypt_device *cd = NULL;
	struct crypt_pbkdf_type pbkdf = {
	    .type = CRYPT_KDF_PBKDF2,
	    .hash = "sha256",
	    .iterations = LUKS_PBKDF_ITERATIONS,
	    .flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	struct crypt_params_luks2 params = {.sector_size = LUKS_SECTOR_SIZE};
	uint8_t check[LUKS_VOLUME_KEY_LEN];
	char mem[64];
	const char *where = path;
	size_t vklen;
	int rc, r, memfd, dst = -1;

	if (npass < 1 || npass > LUKS_MAX_KEYSLOTS)
		return ng_errf(err, NG_EINTERNAL, "luks: %d keyslots requested", npass);
	memfd = luks_scratch(path, mem, sizeof(mem));
	if (memfd >= 0)
		where = mem;
	rc = luks_init(&cd, where, err);
	if (rc < 0)
		goto out;
	/* §2.3: pbkdf2-sha256, 1000 iterations, no benchmark: the passphrase is
	 * already 256 random bits, and argon2id's memory cost could stall the
	 * sidecar. */
	r = crypt_set_pbkdf_type(cd, &pbkdf);
	if (r < 0) {
		rc = luks_fail(err, NG_ECRYPTO, path, "setting pbkdf2", r);
		goto out;
	}
	r = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, LUKS_VOLUME_KEY_LEN,
			 &params);
	if (r < 0) {
		rc = luks_fail(err, NG_ECRYPTO, path, "LUKS2 format", r);
		goto out;
	}
	for (int i = 0; i < npass; i++) {
		r = crypt_keyslot_add_by_volume_key(cd, i, NULL, 0, (const char *)pass[i], 32);
		if (r < 0) {
			rc = luks_fail(err, NG_ECRYPTO, path, "adding a keyslot", r);
			goto out;
		}
	}
	/* Read the key back by unlocking each keyslot: proves every slot and
	 * gives the key that encrypts the data segment. */
	for (int i = 0; i < npass; i++) {
		vklen = LUKS_VOLUME_KEY_LEN;
		r = crypt_volume_key_get(cd, i, (char *)(i ? check : vk), &vklen,
					 (const char *)pass[i], 32);
		if (r != i || vklen != LUKS_VOLUME_KEY_LEN ||
		    (i && CRYPTO_memcmp(check, vk, LUKS_VOLUME_KEY_LEN) != 0)) {
			rc = luks_fail(err, NG_EVERIFY, path, "reading the volume key back", r);
			goto out;
		}
	}
	{
		uint64_t used[LUKS_MAX_KEYSLOTS][2], md = 0, ks = 0;
		for (int i = 0; i < npass; i++)
			if (crypt_keyslot_area(cd, i, &used[i][0], &used[i][1]) < 0 ||
			    crypt_get_metadata_size(cd, &md, &ks) < 0) {
				rc = luks_fail(err, NG_EINTERNAL, path, "keyslot area", -EINVAL);
				goto out;
			}
		crypt_free(cd);
		cd = NULL;
		dst = open(path, O_RDWR | O_CLOEXEC);
		if (dst < 0) {
			rc = ng_errf(err, NG_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		rc = sparse_header(memfd >= 0 ? memfd : dst, dst, 2 * md,
				   (const uint64_t(*)[2])used, npass, path, err);
	}
out:
	OPENSSL_cleanse(check, sizeof(check));
	crypt_free(cd);
	if (dst >= 0)
		close(dst);
	if (memfd >= 0)
		close(memfd);
	return rc;
}

int luks_volume_key(const char *path, const uint8_t pass[32], uint8_t vk[LUKS_VOLUME_KEY_LEN],
		    struct ng_err *err)
{
	struct crypt_device *cd = NULL;
	const char *cipher, *mode;
	size_t vklen = LUKS_VOLUME_KEY_LEN;
	int rc, r;

	rc = luks_init(&cd, path, err);
	if (rc < 0)
		return rc;
	r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		rc = luks_fail(err, NG_EINVAL, path, "not a LUKS2 image", r);
		goto out;
	}
	cipher = crypt_get_cipher(cd);
	mode = crypt_get_cipher_mode(cd);
	if (!cipher || strcmp(cipher, "aes") || !mode || strcmp(mode, "xts-plain64") ||
	    crypt_get_volume_key_size(cd) != LUKS_VOLUME_KEY_LEN ||
	    crypt_get_sector_size(cd) != LUKS_SECTOR_SIZE ||
	    crypt_get_data_offset(cd) * 512 != LUKS_DATA_OFFSET) {
		rc = ng_errf(err, NG_EVERIFY,
			     "%s: LUKS2 parameters differ from aes-xts-plain64, 512-bit key, "
			     "4096-byte sectors, data at 16 MiB (sidecars.md §2.3)",
			     path);
		goto out;
	}
	r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)vk, &vklen, (const char *)pass, 32);
	if (r < 0) {
		rc = r == -EPERM
			 ? ng_errf(err, NG_EVERIFY,
				   "%s: no keyslot opens with this key: wrong --key-file", path)
			 : luks_fail(err, NG_ECRYPTO, path, "reading the volume key", r);
		goto out;
	}
out:
	crypt_free(cd);
	return rc;
}
