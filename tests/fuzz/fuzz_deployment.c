/* The deployment loader never crashes on hostile JSON, and what it accepts
 * has every derived endpoint set. */
#include <stdint.h>
#include <stdlib.h>

#include "../../gen/deployment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct deployment *d = NULL;
	struct ng_err err;

	if (deployment_parse((const char *)data, size, "fuzz", 0, &d, &err) == 0) {
		const struct deployment_endpoints *ep = deployment_endpoints(d);
		if (!ep->key_vault_host || !ep->blob_url || !ep->attestation_host || !ep->domain)
			abort();
	}
	deployment_free(d);
	return 0;
}
