/* render_int.h: what render.c and explain.c share; not an interface for
 * other modules (that is render.h). */
#ifndef NG_RENDER_INT_H
#define NG_RENDER_INT_H

#include "deployment.h"

/* The encfs key and blob as rendered (render_in.key with defaults filled). */
struct keyfacts {
	const char *name, *type, *salt, *label, *vault_url, *blob_url;
	char *vault_host;
};

/* The reviewer's table (nutgen explain) from the policy's containers list. */
char *render_explain(const struct deployment *d, const cJSON *containers, const char *hostdata,
		     const char *profile, int debug, const struct keyfacts *k);

#endif
