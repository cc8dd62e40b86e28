/* The layer path from bytes to root: the tar reader (Go archive/tar
 * semantics), gzip/zstd detection and the compactext4 model must turn any
 * input into a root or a clean error, never a crash, a hang or unbounded
 * memory. Input arrives through a pipe-less temp file to use the real fd path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../gen/layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct layer_result r;
	struct ng_err err;

	if (fd < 0) {
		fd = memfd_create("fuzz_tar", 0);
		if (fd < 0)
			abort();
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	if (layer_hash_fd(fd, NULL, &r, &err) < 0 && (err.msg[0] == 0 || strchr(err.msg, '\n')))
		abort(); /* every failure explains itself on one line */
	return 0;
}
