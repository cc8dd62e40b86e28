/* target.json reader on hostile bytes, with the seed's fingerprint so that
 * well-formed inputs reach the KEK checks. It never crashes, leaks or
 * accepts a file whose key does not hash to the fingerprint. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gen/target.h"

#define FP "sha256:2d1b5b40ff592e3f1521eb1df2666c1a17b02432b5150b215976f8e5ebc09ead"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target *t = NULL;
	struct ng_err err;
	unsigned char b[32];

	if (target_parse((const char *)data, size, "fuzz", FP, &t, &err) == 0 &&
	    strcmp(target_fingerprint(t), FP))
		abort();
	target_free(t);
	if (size < 200) {
		char s[200];
		memcpy(s, data, size);
		s[size] = 0;
		target_fingerprint_parse(s, "fuzz", b, &err);
	}
	return 0;
}
