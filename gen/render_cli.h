/* render_cli.h: what `nutgen policy DEPLOYMENT.json` and `nutgen explain`
 * share: load a deployment, match --image-info facts to its containers and
 * render everything (render.h). */
#ifndef NG_RENDER_CLI_H
#define NG_RENDER_CLI_H

#include "render.h"

/* facts are matched on their "image" string against each container's image
 * reference in the deployment. debug: -1 keep the deployment's. salt_hex may
 * be NULL (then $.encfs.existing_volume.salt_hex). */
int render_cli(const char *path, const cJSON *const *facts, size_t nfacts, int debug,
	       const char *salt_hex, struct render_out *out, struct ng_err *err);

#endif
