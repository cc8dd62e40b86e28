/* Custom cloud reader (cred.h az_cloud_from_json) on hostile JSON: it never
 * crashes or leaks, and what it accepts names every endpoint, each NUL
 * terminated, the URLs https:// or one of the few plain-http exceptions. */
#include <stdlib.h>
#include <string.h>

#include "../../apply/cred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);
	struct az_cloud c;
	struct ng_err err;

	if (j && az_cloud_from_json(j, &c, &err) == 0) {
		const char *urls[] = {c.authority,	  c.management,	    c.management_resource,
				      c.storage_resource, c.vault_resource, c.imds};
		for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
			if (strnlen(urls[i], AZ_URL_MAX) == AZ_URL_MAX ||
			    (strncmp(urls[i], "https://", 8) && strncmp(urls[i], "http://", 7)))
				abort();
		if (!c.vault_suffix[0] || !c.blob_suffix[0] || !c.attest_suffix[0] ||
		    strncmp(c.management, "https://", 8))
			abort();
	}
	cJSON_Delete(j);
	return 0;
}
