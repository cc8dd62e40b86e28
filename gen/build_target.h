/* build_target.h: the live names `nutapply infra up` wrote into target.json
 * (docs/infra.md) laid over a deployment before rendering, so the bundle's
 * release policy, sidecar arguments, ARM template and BYOK header name the
 * resources that exist rather than what the deployment file guessed. */
#ifndef NG_BUILD_TARGET_H
#define NG_BUILD_TARGET_H

#include <stdio.h>

#include "render.h"
#include "target.h"

/* Replaces *d with a deployment whose vault (name, kind, URI), storage
 * (account, blob endpoint, container, blob, Caddy share), attestation
 * (provider, endpoint), identity name, subscription, resource group and
 * location are the target's, re-validated as a deployment file would be.
 * A subscription or resource group the deployment sets to something other
 * than both its default and the target's is refused (the bundle would deploy
 * where the resources are not). Each value taken over a different one is
 * printed to log (NULL: silent). The identity's resource id must lie in the
 * target's subscription and resource group, and its client id be a GUID.
 * On error *d is unchanged. */
int deployment_apply_target(struct deployment **d, const char *deployment_path,
			    const struct target *t, const char *target_path, FILE *log,
			    struct ng_err *err);

#endif
