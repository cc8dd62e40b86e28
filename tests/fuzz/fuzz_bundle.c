/* The strict bundle reader (tarr + manifest + signatures + digests) never
 * crashes, leaks or hangs on any input, and writes nothing (no extraction
 * directory is given). Limits are lowered so that no input can make one run
 * decompress more than 64 MiB. An input that does not start with the gzip
 * magic is taken as a tar stream and wrapped in the canonical gzip (stored
 * blocks, SPEC §2.1) first, so that mutations reach the tar, sparse and
 * manifest parsers instead of dying in the framing checks (the seeds include
 * both forms). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "../../bundle-format/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tarr_limits lim = {
	    .max_tar_bytes = 64u << 20, .max_member_size = 256u << 20, .max_members = 64};
	static const uint8_t trusted[1][SIGKEY_PUB_LEN] = {{1}};
	struct bundle_read_opts o = {
	    .trusted = trusted, .ntrusted = 1, .threshold = 0, .allow_expired = 1, .limits = &lim};
	struct bundle *b = NULL;
	struct ng_err err;
	char path[64];
	int fd = memfd_create("fuzz_bundle", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (size && data[0] != 0x1f) {
		static const uint8_t head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
		uint8_t *gz = malloc(10 + size + 5 * (size / 65535 + 1) + 8), *o = gz;
		uint32_t crc = (uint32_t)crc32(0L, data, (uInt)size);
		size_t pos = 0;
		if (!gz) {
			close(fd);
			return 0;
		}
		memcpy(o, head, 10);
		o += 10;
		do {
			size_t len = size - pos > 65535 ? 65535 : size - pos;
			*o++ = pos + len == size;
			*o++ = (uint8_t)len;
			*o++ = (uint8_t)(len >> 8);
			*o++ = (uint8_t)~len;
			*o++ = (uint8_t)(~len >> 8);
			memcpy(o, data + pos, len);
			o += len;
			pos += len;
		} while (pos < size);
		for (int i = 0; i < 4; i++)
			*o++ = (uint8_t)(crc >> (8 * i));
		for (int i = 0; i < 4; i++)
			*o++ = (uint8_t)(size >> (8 * i));
		if (write(fd, gz, (size_t)(o - gz)) != (ssize_t)(o - gz))
			size = 0;
		free(gz);
	} else if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (bundle_open(path, &o, &b, &err) == 0)
		bundle_free(b);
	close(fd);
	return 0;
}
