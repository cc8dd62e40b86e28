/* The strict bundle reader (tarr + manifest + signatures + digests) never
 * crashes, leaks or hangs on any input, and writes nothing (no extraction
 * directory is given). Limits are lowered so that no input can make one run
 * decompress more than 64 MiB. An input that does not start with the gzip
 * magic is taken as a tar stream and wrapped in the canonical gzip first, so
 * that mutations reach the tar, sparse and manifest parsers instead of dying
 * in inflate (the seeds include both forms). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
		z_stream z = {0};
		uLong cap = compressBound(size) + 64;
		uint8_t *gz = malloc(cap);
		if (!gz || deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			free(gz);
			close(fd);
			return 0;
		}
		z.next_in = (Bytef *)data;
		z.avail_in = (uInt)size;
		z.next_out = gz;
		z.avail_out = (uInt)cap;
		deflate(&z, Z_FINISH);
		if (write(fd, gz, z.total_out) != (ssize_t)z.total_out)
			size = 0;
		deflateEnd(&z);
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
