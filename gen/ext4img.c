/* ext4img.c: mke2fs -d into a plaintext scratch file, then its in-use blocks
 * encrypted into the LUKS2 data segment (sidecars.md §2.4, §2.5). */
#include "ext4img.h"

#include <errno.h>
#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bundle-format/fileio.h"

extern char **environ;

#define RUN_BLOCKS 256 /* 1 MiB per read/encrypt/write round */

/* A feature list the UVM's 5.15/6.1 kernel mounts read-write (§2.5): the
 * mke2fs 1.46 ext4 defaults without resize_inode (the image never grows
 * online; its reserved GDT blocks would cost 2.5 MiB per GiB), and without
 * e2fsprogs 1.47's orphan_file and metadata_csum_seed. */
static const char ext4img_features[] =
    "none,has_journal,ext_attr,dir_index,filetype,extent,64bit,flex_bg,sparse_super,"
    "large_file,huge_file,dir_nlink,extra_isize,metadata_csum";

/* Our own profile, so that the host's /etc/mke2fs.conf cannot add features or
 * change sizes; every value that matters is also on the command line. */
static const char ext4img_profile[] = "[defaults]\n\tinode_size = 256\n"
				      "[fs_types]\n\text4 = {\n\t\tinode_size = 256\n\t}\n"
				      "\tdefault = {\n\t\tinode_size = 256\n\t}\n";

/* e2fsprogs tools live in /usr/sbin, often not on an ordinary user's PATH. */
static int find_tool(const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH");
	char dirs[4096];

	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", path ? path : "");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		if (!*d)
			continue;
		snprintf(out, n, "%s/%s", d, name);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

/* First line of a tool's log that says something, for a one-line error. */
static void log_first_line(const char *log, const char *skip, char *out, size_t n)
{
	FILE *f = fopen(log, "r");
	char line[512];

	snprintf(out, n, "no output");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || (skip && strstr(line, skip)) || !strncmp(line, "e2fsck 1.", 9))
			continue;
		snprintf(out, n, "%s", line);
		break;
	}
	fclose(f);
}

/* Runs a tool with stdin from /dev/null and stdout+stderr into log; returns
 * its exit status, or -1 if it could not run. */
static int run_tool(char *const argv[], char *const envp[], const char *log, struct ng_err *err)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	r = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		ng_errf(err, NG_EIO, "%s: cannot run: %s", argv[0], strerror(r));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			ng_errf(err, NG_EIO, "%s: wait: %s", argv[0], strerror(errno));
			return -1;
		}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The environment minus every MKE2FS_* / E2FSPROGS_* knob, plus ours. */
static char **tool_env(const char *conf_assign)
{
	size_t n = 0, j = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "MKE2FS_", 7) && strncmp(environ[i], "E2FSPROGS_", 10))
			env[j++] = environ[i];
	if (conf_assign)
		env[j++] = (char *)conf_assign;
	return env;
}

static errcode_t set_owners(ext2_filsys fs, uid_t uid, gid_t gid)
{
	struct ext2_inode ino;
	ext2_ino_t lpf = 0;
	errcode_t e;

	ext2fs_lookup(fs, EXT2_ROOT_INO, "lost+found", 10, NULL, &lpf);
	e = ext2fs_read_inode_bitmap(fs);
	if (e)
		return e;
	for (ext2_ino_t i = 1; i <= fs->super->s_inodes_count; i++) {
		if (!ext2fs_test_inode_bitmap2(fs->inode_map, i) || i == lpf ||
		    (i != EXT2_ROOT_INO && i < EXT2_FIRST_INO(fs->super)))
			continue;
		e = ext2fs_read_inode(fs, i, &ino);
		if (e)
			return e;
		if (!ino.i_links_count)
			continue;
		ino.i_uid = (uint16_t)uid;
		ext2fs_set_i_uid_high(ino, uid >> 16);
		ino.i_gid = (uint16_t)gid;
		ext2fs_set_i_gid_high(ino, gid >> 16);
		e = ext2fs_write_inode(fs, i, &ino);
		if (e)
			return e;
	}
	return 0;
}

int ext4img_make(const char *scratch, const struct ext4img_opts *o, struct ng_err *err)
{
	char mke2fs[512], conf[4096], log[4096], conf_env[4200], dir[4096];
	char inodes[32], journal[32], extended[128], blocks[32], why[512];
	char **env = NULL;
	ext2_filsys fs = NULL;
	errcode_t e;
	int fd, st;

	snprintf(dir, sizeof(dir), "%s", scratch);
	snprintf(conf, sizeof(conf), "%s/mke2fs.conf", dirname(dir));
	snprintf(log, sizeof(log), "%s.log", scratch);
	snprintf(conf_env, sizeof(conf_env), "MKE2FS_CONFIG=%s", conf);
	if (find_tool("mke2fs", mke2fs, sizeof(mke2fs)) < 0)
		return ng_errf(err, NG_ENOTFOUND,
			       "mke2fs: not found on PATH or in /usr/sbin: install e2fsprogs");
	/* A scratch file in our private directory: no fsync, no rename needed. */
	fd = open(conf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, ext4img_profile, strlen(ext4img_profile)) < 0) {
		if (fd >= 0)
			close(fd);
		return ng_errf(err, NG_EIO, "%s: %s", conf, strerror(errno));
	}
	close(fd);
	fd = open(scratch, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ng_errf(err, NG_EIO, "%s: %s", scratch, strerror(errno));
	if (ftruncate(fd, (off_t)(o->blocks * EXT4IMG_BLOCK)) < 0) {
		close(fd);
		return ng_errf(err, NG_EIO, "%s: %s", scratch, strerror(errno));
	}
	close(fd);
	snprintf(inodes, sizeof(inodes), "%u", o->inodes);
	snprintf(journal, sizeof(journal), "size=%u", o->journal_mib);
	snprintf(blocks, sizeof(blocks), "%llu", (unsigned long long)o->blocks);
	/* nodiscard and no lazy init: mke2fs must really write what it means to
	 * be zero and flag only what is (§2.5); the blocks it counts as in use
	 * are then encrypted whatever their content. */
	snprintf(extended, sizeof(extended),
		 "nodiscard,lazy_itable_init=0,lazy_journal_init=0,root_owner=%u:%u",
		 (unsigned)o->uid, (unsigned)o->gid);
	{
		char *argv[] = {mke2fs,
				"-q",
				"-F",
				"-t",
				"ext4",
				"-T",
				"default",
				"-b",
				"4096",
				"-O",
				(char *)ext4img_features,
				"-I",
				"256",
				"-N",
				inodes,
				"-J",
				journal,
				"-m",
				"0",
				"-L",
				EXT4IMG_LABEL,
				"-E",
				extended,
				"-d",
				(char *)o->srcdir,
				(char *)scratch,
				blocks,
				NULL};
		env = tool_env(conf_env);
		if (!env)
			return ng_errf(err, NG_ENOMEM, "mke2fs: out of memory");
		st = run_tool(argv, env, log, err);
		free(env);
	}
	if (st < 0)
		return NG_EIO;
	if (st != 0) {
		log_first_line(log, NULL, why, sizeof(why));
		return ng_errf(err, NG_EIO, "mke2fs failed (exit %d): %s", st, why);
	}
	unlink(log);
	initialize_ext2_error_table();
	e = ext2fs_open(scratch, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
	if (!e)
		e = set_owners(fs, o->uid, o->gid);
	if (fs) {
		errcode_t e2 = ext2fs_close_free(&fs);
		e = e ? e : e2;
	}
	if (e)
		return ng_errf(err, NG_EIO, "%s: setting owners: %s", scratch, error_message(e));
	return 0;
}

static int xts_sector(EVP_CIPHER_CTX *ctx, int enc, uint64_t blk, const uint8_t *in, uint8_t *out)
{
	uint8_t iv[16] = {0};
	uint64_t t = blk * (EXT4IMG_BLOCK / 512); /* plain64 in 512-byte units (§2.4) */
	int len;

	for (int i = 0; i < 8; i++)
		iv[i] = (uint8_t)(t >> (8 * i));
	if (EVP_CipherInit_ex2(ctx, NULL, NULL, iv, enc, NULL) != 1 ||
	    EVP_CipherUpdate(ctx, out, &len, in, EXT4IMG_BLOCK) != 1 || len != EXT4IMG_BLOCK)
		return -1;
	return 0;
}

static EVP_CIPHER_CTX *xts_new(const uint8_t vk[64], int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (ctx && EVP_CipherInit_ex2(ctx, EVP_aes_256_xts(), vk, NULL, enc, NULL) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

static int open_fs(const char *path, ext2_filsys *fs, struct ng_err *err)
{
	errcode_t e;

	initialize_ext2_error_table();
	e = ext2fs_open(path, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, fs);

	if (!e)
		e = ext2fs_read_block_bitmap(*fs);
	if (e) {
		if (*fs)
			ext2fs_close_free(fs);
		return ng_errf(err, NG_EVERIFY, "%s: reading the ext4 block bitmaps: %s", path,
			       error_message(e));
	}
	return 0;
}

int ext4img_encrypt(const char *scratch, int out_fd, uint64_t data_offset, const uint8_t vk[64],
		    uint64_t *written, struct ng_err *err)
{
	ext2_filsys fs = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *pt = NULL, *ct = NULL;
	uint64_t nblocks, blk = 0;
	int in = -1, rc;

	*written = 0;
	rc = open_fs(scratch, &fs, err);
	if (rc < 0)
		return rc;
	nblocks = ext2fs_blocks_count(fs->super);
	in = open(scratch, O_RDONLY | O_CLOEXEC);
	pt = malloc(RUN_BLOCKS * EXT4IMG_BLOCK);
	ct = malloc(RUN_BLOCKS * EXT4IMG_BLOCK);
	ctx = xts_new(vk, 1);
	if (in < 0 || !pt || !ct || !ctx) {
		rc = ng_errf(err, NG_EIO, "%s: preparing encryption: %s", scratch,
			     in < 0 ? strerror(errno) : "out of memory or no AES-XTS");
		goto out;
	}
	while (blk < nblocks) {
		uint64_t n = 0;
		size_t bytes;
		/* A run of consecutive in-use blocks (the bitmap, not the
		 * scratch file's holes, decides: §2.5). */
		if (!ext2fs_test_block_bitmap2(fs->block_map, blk)) {
			blk++;
			continue;
		}
		while (n < RUN_BLOCKS && blk + n < nblocks &&
		       ext2fs_test_block_bitmap2(fs->block_map, blk + n))
			n++;
		bytes = (size_t)n * EXT4IMG_BLOCK;
		if (pread(in, pt, bytes, (off_t)(blk * EXT4IMG_BLOCK)) != (ssize_t)bytes) {
			rc = ng_errf(err, NG_EIO, "%s: short read at block %llu", scratch,
				     (unsigned long long)blk);
			goto out;
		}
		for (uint64_t i = 0; i < n; i++)
			if (xts_sector(ctx, 1, blk + i, pt + i * EXT4IMG_BLOCK,
				       ct + i * EXT4IMG_BLOCK) < 0) {
				rc = ng_err_openssl(err, NG_ECRYPTO, "AES-256-XTS");
				goto out;
			}
		if (pwrite(out_fd, ct, bytes, (off_t)(data_offset + blk * EXT4IMG_BLOCK)) !=
		    (ssize_t)bytes) {
			rc = ng_errf(err, NG_EIO, "writing the data segment: %s",
				     strerror(errno ? errno : ENOSPC));
			goto out;
		}
		*written += n;
		blk += n;
	}
	rc = 0;
out:
	if (pt)
		OPENSSL_cleanse(pt, RUN_BLOCKS * EXT4IMG_BLOCK);
	free(pt);
	free(ct);
	EVP_CIPHER_CTX_free(ctx);
	if (in >= 0)
		close(in);
	ext2fs_close_free(&fs);
	return rc;
}

int ext4img_decrypt_check(int in_fd, uint64_t data_offset, uint64_t blocks, const uint8_t vk[64],
			  const char *plain, uint64_t *holes, struct ng_err *err)
{
	EVP_CIPHER_CTX *ctx = xts_new(vk, 0);
	uint8_t *ct = malloc(RUN_BLOCKS * EXT4IMG_BLOCK), *pt = malloc(RUN_BLOCKS * EXT4IMG_BLOCK);
	uint8_t *hole = calloc(blocks / 8 + 1, 1);
	ext2_filsys fs = NULL;
	uint64_t blk = 0, end = data_offset + blocks * EXT4IMG_BLOCK;
	int out = -1, rc = 0;

	*holes = 0;
	if (!ctx || !ct || !pt || !hole) {
		rc = ng_errf(err, NG_ENOMEM, "decrypting: out of memory or no AES-XTS");
		goto done;
	}
	out = open(plain, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0 || ftruncate(out, (off_t)(blocks * EXT4IMG_BLOCK)) < 0) {
		rc = ng_errf(err, NG_EIO, "%s: %s", plain, strerror(errno));
		goto done;
	}
	while (blk < blocks) {
		off_t pos = (off_t)(data_offset + blk * EXT4IMG_BLOCK);
		off_t d = lseek(in_fd, pos, SEEK_DATA);
		uint64_t n;
		size_t bytes;

		if (d < 0 || (uint64_t)d >= end)
			d = (off_t)end;
		/* Blocks before the next data are holes (rounded: a partly
		 * allocated block counts as data). */
		for (; blk < blocks && (off_t)(data_offset + (blk + 1) * EXT4IMG_BLOCK) <= d;
		     blk++) {
			hole[blk / 8] |= (uint8_t)(1u << (blk % 8));
			(*holes)++;
		}
		if (blk >= blocks)
			break;
		pos = (off_t)(data_offset + blk * EXT4IMG_BLOCK);
		d = lseek(in_fd, pos, SEEK_HOLE);
		if (d < 0 || (uint64_t)d > end)
			d = (off_t)end;
		n = ((uint64_t)d - (uint64_t)pos + EXT4IMG_BLOCK - 1) / EXT4IMG_BLOCK;
		if (n > RUN_BLOCKS)
			n = RUN_BLOCKS;
		if (n == 0)
			n = 1;
		if (blk + n > blocks)
			n = blocks - blk;
		bytes = (size_t)n * EXT4IMG_BLOCK;
		if (pread(in_fd, ct, bytes, pos) != (ssize_t)bytes) {
			rc = ng_errf(err, NG_EINVAL, "image: truncated data segment at block %llu",
				     (unsigned long long)blk);
			goto done;
		}
		for (uint64_t i = 0; i < n; i++)
			if (xts_sector(ctx, 0, blk + i, ct + i * EXT4IMG_BLOCK,
				       pt + i * EXT4IMG_BLOCK) < 0) {
				rc = ng_err_openssl(err, NG_ECRYPTO, "AES-256-XTS");
				goto done;
			}
		if (pwrite(out, pt, bytes, (off_t)(blk * EXT4IMG_BLOCK)) != (ssize_t)bytes) {
			rc =
			    ng_errf(err, NG_EIO, "%s: %s", plain, strerror(errno ? errno : ENOSPC));
			goto done;
		}
		blk += n;
	}
	close(out);
	out = -1;
	rc = open_fs(plain, &fs, err);
	if (rc < 0)
		goto done;
	if (ext2fs_blocks_count(fs->super) != blocks) {
		rc = ng_errf(err, NG_EVERIFY, "image: ext4 has %llu blocks, data segment %llu",
			     (unsigned long long)ext2fs_blocks_count(fs->super),
			     (unsigned long long)blocks);
		goto done;
	}
	for (blk = 0; blk < blocks; blk++)
		if ((hole[blk / 8] >> (blk % 8) & 1) &&
		    ext2fs_test_block_bitmap2(fs->block_map, blk)) {
			rc =
			    ng_errf(err, NG_EVERIFY,
				    "image: block %llu is in use but a hole in the ciphertext: the "
				    "kernel would read garbage there",
				    (unsigned long long)blk);
			goto done;
		}
done:
	if (out >= 0)
		close(out);
	if (fs)
		ext2fs_close_free(&fs);
	if (pt)
		OPENSSL_cleanse(pt, RUN_BLOCKS * EXT4IMG_BLOCK);
	free(pt);
	free(ct);
	free(hole);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int ext4img_fsck(const char *plain, struct ng_err *err)
{
	char e2fsck[512], log[4096], why[512];
	char **env;
	int st;

	if (find_tool("e2fsck", e2fsck, sizeof(e2fsck)) < 0)
		return ng_errf(err, NG_ENOTFOUND,
			       "e2fsck: not found on PATH or in /usr/sbin: install e2fsprogs");
	snprintf(log, sizeof(log), "%s.fsck.log", plain);
	{
		char *argv[] = {e2fsck, "-fn", (char *)plain, NULL};
		env = tool_env(NULL);
		if (!env)
			return ng_errf(err, NG_ENOMEM, "e2fsck: out of memory");
		st = run_tool(argv, env, log, err);
		free(env);
	}
	if (st < 0)
		return NG_EIO;
	if (st != 0) {
		log_first_line(log, "Pass ", why, sizeof(why));
		unlink(log);
		return ng_errf(err, NG_EVERIFY, "image: e2fsck -fn found problems (exit %d): %s",
			       st, why);
	}
	unlink(log);
	return 0;
}
