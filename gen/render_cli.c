/* render_cli.c: see render_cli.h. */
#include "render_cli.h"

#include <string.h>

#include "deployment.h"
#include "policy.h"

int render_cli(const char *path, const cJSON *const *facts, size_t nfacts, int debug,
	       const char *salt_hex, struct render_out *out, struct ng_err *err)
{
	struct deployment *d = NULL;
	struct render_in in = {.debug = debug};
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = deployment_load(path, 1, &d, err)) < 0)
		return rc;
	for (int c = 0; c < RC_COUNT; c++) {
		const char *ref = deployment_image_ref(d, (enum render_container)c);
		in.images[c] = policy_find_image(facts, nfacts, ref);
		if (!in.images[c]) {
			rc = ng_errf(
			    err, NG_EINVAL,
			    "%s: $.containers.%s.image %s: no image facts: pass --image-info "
			    "FILE (nutgen image inspect) for it",
			    path, deployment_container_key((enum render_container)c), ref);
			deployment_free(d);
			return rc;
		}
	}
	in.key.salt_hex = salt_hex;
	rc = render_deployment(d, &in, out, err);
	if (rc < 0)
		ng_err_prefix(err, rc, "%s", path);
	deployment_free(d);
	return rc;
}
