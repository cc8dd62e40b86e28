/* ext4img.h: the ext4 file system inside encfs.img, built by mke2fs -d into a
 * plaintext scratch file and then encrypted block by block into the LUKS2
 * data segment (sidecars.md §2.4, §2.5).
 *
 * Every mke2fs setting is pinned on the command line and MKE2FS_CONFIG points
 * at our own minimal profile, so the host's mke2fs.conf changes nothing.
 * Only the blocks the file system counts as in use (its block bitmaps, read
 * with libext2fs, BLOCK_UNINIT groups resolved by the library) are encrypted
 * and written, zeros included; free blocks stay holes, which decrypt to
 * garbage that ext4 never reads before writing. */
#ifndef NG_EXT4IMG_H
#define NG_EXT4IMG_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "../bundle-format/err.h"

#define EXT4IMG_BLOCK 4096
/* Defaults sized for one SQLite database (+ WAL, journal) and a few files:
 * see docs/encfs.md. */
#define EXT4IMG_DEFAULT_INODES	    4096
#define EXT4IMG_DEFAULT_JOURNAL_MIB 16
#define EXT4IMG_LABEL		    "nutshell-data"

struct ext4img_opts {
	uint64_t blocks;      /* file system size in 4096-byte blocks */
	uint32_t inodes;      /* -N */
	uint32_t journal_mib; /* -J size= */
	uid_t uid;	      /* owner of the root directory and of every added file */
	gid_t gid;
	const char *srcdir; /* directory whose content becomes the root (-d) */
};

/* Runs mke2fs into scratch (a file created here), then sets owners. */
int ext4img_make(const char *scratch, const struct ext4img_opts *o, struct ng_err *err);

/* Encrypts every in-use block of the plaintext scratch image into out_fd at
 * data_offset with AES-256-XTS (vk: 64 bytes, data key then tweak key),
 * 4096-byte data units, tweak = LE64(8 * block) (§2.4). *written gets the
 * number of blocks written. */
int ext4img_encrypt(const char *scratch, int out_fd, uint64_t data_offset, const uint8_t vk[64],
		    uint64_t *written, struct ng_err *err);

/* Decrypts the data regions of in_fd (SEEK_DATA/SEEK_HOLE) into the plaintext
 * file plain (holes stay holes), then checks, with libext2fs, that every
 * hole of in_fd lies in a block the file system counts as free. */
int ext4img_decrypt_check(int in_fd, uint64_t data_offset, uint64_t blocks, const uint8_t vk[64],
			  const char *plain, uint64_t *holes, struct ng_err *err);

/* Runs e2fsck -fn on a plaintext image; NG_EVERIFY with its first complaint
 * when it is not clean. */
int ext4img_fsck(const char *plain, struct ng_err *err);
#endif
