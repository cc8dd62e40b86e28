/* luks.h: the LUKS2 header of encfs.img, written by libcryptsetup on a plain
 * file (no device-mapper, no root), with the parameters the encfs sidecar's
 * recipes use (sidecars.md §2.3): aes-xts-plain64, 512-bit volume key,
 * 4096-byte sectors, pbkdf2-sha256 with 1000 iterations, default metadata and
 * keyslot area sizes (data offset 16 MiB, which keeps the detached-header
 * fallback of §1.7 working). */
#ifndef NG_LUKS_H
#define NG_LUKS_H
#include <stddef.h>
#include <stdint.h>
#include "../bundle-format/err.h"

#define LUKS_VOLUME_KEY_LEN   64
#define LUKS_SECTOR_SIZE      4096
#define LUKS_DATA_OFFSET      16777216ULL /* bytes; §0.2 and §2.3 */
#define LUKS_PBKDF_ITERATIONS 1000
#define LUKS_MAX_KEYSLOTS     2

/* Formats the header on the existing file path (whose size is already the
 * image size), adds one keyslot per passphrase (1 or 2), then reads the
 * volume key back through libcryptsetup by unlocking every keyslot in turn
 * (which proves each one) into vk. Zero ranges of the header area are
 * punched back to holes: they read as zeros exactly, and the image stays
 * sparse. The caller cleanses vk. */
int luks_format_file(const char *path, const uint8_t (*pass)[32], int npass,
		     uint8_t vk[LUKS_VOLUME_KEY_LEN], struct ng_err *err);

/* Opens the header on path read-only, checks the §2.3 parameters (LUKS2,
 * aes / xts-plain64, 64-byte key, 4096 sectors, data offset 16 MiB), and gets
 * the volume key with the passphrase. Wrong passphrase: NG_EVERIFY. */
int luks_volume_key(const char *path, const uint8_t pass[32], uint8_t vk[LUKS_VOLUME_KEY_LEN],
		    struct ng_err *err);
#endif
