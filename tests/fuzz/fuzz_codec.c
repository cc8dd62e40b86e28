/* The strict decoders (base64, base64url, hex) never crash, and whatever
 * they accept re-encodes to the same text (one encoding per value). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bundle-format/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	uint8_t *out = NULL, hex[64];
	size_t n;
	struct ng_err err;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (base64_decode(s, size, &out, &n, &err) == 0) {
		char *back = base64_encode(out, n);
		if (strlen(s) == size && strcmp(back, s) != 0)
			abort();
		free(back);
		free(out);
	}
	if (base64url_decode(s, size, &out, &n, &err) == 0) {
		char *back = base64url_encode(out, n);
		if (strlen(s) == size && strcmp(back, s) != 0)
			abort();
		free(back);
		free(out);
	}
	if (size <= 128 && size % 2 == 0)
		(void)hex_decode(s, hex, size / 2 > 64 ? 64 : size / 2, &err);
	free(s);
	return 0;
}
