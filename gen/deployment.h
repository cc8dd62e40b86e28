/* deployment.h: what the renderer reads from a validated deployment beyond
 * render.h's public accessors: fields by dotted path and the values derived
 * from the target cloud (endpoint URLs and hosts). The file format is
 * docs/deployment.md; its defaults are templates/deployment/defaults.json. */
#ifndef NG_DEPLOYMENT_H
#define NG_DEPLOYMENT_H

#include "render.h"

/* A field by dotted path ("encfs.key_type"); NULL when absent. */
const cJSON *deployment_get(const struct deployment *d, const char *path);
/* The string at path, or "" when absent or not a string. */
const char *deployment_str(const struct deployment *d, const char *path);
/* The bool at path (0 when absent). */
int deployment_bool(const struct deployment *d, const char *path);

/* Derived from target (see docs/deployment.md "Endpoints"). */
struct deployment_endpoints {
	const char *key_vault_url;   /* https://<vault>.vault.azure.net */
	const char *key_vault_host;  /* <vault>.vault.azure.net (encfs akv.endpoint) */
	const char *blob_url;	     /* https://<account>.blob.<suffix>/<container>/<blob> */
	const char *attestation_url; /* https://<provider>.<region>.attest.azure.net */
	const char *attestation_host;
	const char *domain; /* the public name Caddy serves */
	const char *resource_manager;
	const char *active_directory;
};
const struct deployment_endpoints *deployment_endpoints(const struct deployment *d);

/* The key of container c in $.containers ("skr", "encfs", "caddy", "mint"). */
const char *deployment_container_key(enum render_container c);

/* Writes the default deployment (with environment overrides when apply_env)
 * as pretty JSON into *out (malloc'd). Fails like deployment_parse when the
 * environment holds an invalid value. */
int deployment_default_text(int apply_env, char **out, struct ng_err *err);

#endif
