/* Server replies nutapply parses before trusting them: Get Page Ranges XML
 * (never crashes; what it accepts is sorted, aligned, non-overlapping) and
 * Retry-After values (bounded waits). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../apply/blob.c" /* parse_page_list is static */
#include "../../apply/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), m[256];
	struct blob_range *r = NULL;
	size_t n = 0;
	struct ng_err err;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (parse_page_list(s, &r, &n, m, &err) == 0) { /* else r may hold a part */
		for (size_t i = 0; i < n; i++) {
			if (r[i].off % BLOB_PAGE || r[i].len % BLOB_PAGE || !r[i].len)
				abort();
			if (i && r[i].off <= r[i - 1].off + r[i - 1].len)
				abort();
		}
		if (strlen(m) > 255)
			abort();
	}
	free(r);
	long ms = http_parse_retry_after(s, 1700000000);
	if (ms < -1 || ms > 86400000L)
		abort();
	free(s);
	return 0;
}
