/* The key file and KEK readers (gen/keys.c key_load, gen/byok.c byok_kek_load)
 * take hostile files: they must never crash, leak or accept a key of the
 * wrong shape. Input goes through a memfd so each run is a real path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../gen/byok.h"
#include "../../gen/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ng_err err;
	struct key *k = NULL;
	struct byok_kek *kek = NULL;
	uint8_t pass[2][KEY_PASSPHRASE_LEN];
	char path[64];
	int fd = memfd_create("fuzz", MFD_CLOEXEC), n;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (key_load(path, &k, &err) == 0) {
		if (key_passphrases(k, pass, &n, &err) == 0 && (n < 1 || n > 2))
			abort();
		if (key_get_type(k) == KEY_RSA_HSM && (!key_salt_hex(k) || !key_label(k)))
			abort();
		key_free(k);
	}
	if (byok_kek_load(path, &kek, &err) == 0)
		byok_kek_free(kek);
	close(fd);
	return 0;
}
