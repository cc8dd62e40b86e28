/* confcom-mode policy generation never crashes on a hostile ARM template,
 * and every policy it produces hashes to a 64-hex hostdata. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gen/policy.h"

static const char facts_text[] =
    "{\"image\":\"mcr.microsoft.com/azurelinux/distroless/base@sha256:"
    "1e77d97e1e39f22ed9c52f49b3508b4c1044cec23743df9098ac44e025f654f2\",\"config\":{\"Env\":["
    "\"PATH=/usr/bin\"],\"Cmd\":[\"/x\"],\"User\":\"1:2\",\"StopSignal\":\"SIGTERM\"},"
    "\"layer_roothashes\":[\"243e1b3ce08093f2f0d9cd6a9eafde8737f64fec105ed59c346d309fbe760b58\"]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cJSON *profile, *facts;
	struct ng_err err;
	cJSON *arm;
	const cJSON **groups = NULL;
	size_t n = 0;
	struct policy_opts o = {0};

	if (!profile && policy_profile_load("current", &profile, &err) < 0)
		abort();
	if (!facts)
		facts = cJSON_Parse(facts_text);
	arm = cJSON_ParseWithLength((const char *)data, size);
	if (!arm)
		return 0;
	o.profile = profile;
	o.debug = size & 1;
	if (policy_arm_groups(arm, &groups, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			char *text = NULL, hd[65];
			const cJSON *f[1] = {facts};
			if (policy_group_text(arm, groups[i], f, 1, &o, &text, &err) == 0) {
				policy_hostdata(text, hd);
				if (strlen(hd) != 64)
					abort();
			}
			free(text);
		}
	}
	free(groups);
	cJSON_Delete(arm);
	return 0;
}
