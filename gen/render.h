/* render.h: everything nutgen derives from one deployment file, as strings.
 *
 * A deployment (docs/deployment.md) names the Azure target, the four
 * containers (SKR sidecar, encfs sidecar, Caddy, Nutshell mint), DNS, ACME,
 * encfs settings and debug. From it plus the facts of each verified image and
 * of the encfs key, render_deployment() produces the CCE policy (confcom's
 * text layout, ../shared/research/confcom-policy.md §1), its hostdata, the ARM
 * template with the policy embedded, the sidecar arguments
 * (../shared/research/sidecars.md §1.2, §3), the Key Vault release policy
 * (sidecars.md §4) and the importkey configuration, plus a reviewer's summary.
 *
 * Everything is pure: no network, no files written; templates and profile
 * constants are read from the templates directory (templates_dir()). The
 * caller (nutgen build, nutgen policy) decides where the strings go.
 *
 * Typical use:
 *
 *	struct deployment *d;
 *	struct render_out out = {0};
 *	if (deployment_load("deploy.json", 1, &d, &err) < 0) ...
 *	struct render_in in = {.images = {skr, encfs, caddy, mint}, .key = {...}};
 *	if (render_deployment(d, &in, &out, &err) < 0) ...
 *	... use out.policy, out.hostdata ...
 *	render_out_free(&out);
 *	deployment_free(d);
 */
#ifndef NG_RENDER_H
#define NG_RENDER_H

#include <cjson/cJSON.h>

#include "../bundle-format/err.h"

/* The four containers, in the order the ARM template and policy list them
 * (the seed's order, seed-deployment.md §2.1). */
enum render_container {
	RC_SKR = 0,   /* Microsoft's SKR sidecar, localhost:8080 */
	RC_ENCFS = 1, /* Microsoft's encfs sidecar, privileged, /encfs.sh */
	RC_CADDY = 2, /* Caddy, public 80/443, ACME data on Azure Files */
	RC_MINT = 3,  /* the Nutshell mint, :3338 */
	RC_COUNT = 4
};

/* A parsed, validated deployment file. Opaque; read it through the
 * accessors below or render it. */
struct deployment;

/* Reads and validates a deployment file (JSON, docs/deployment.md). With
 * apply_env non-zero, the seed scripts' environment variables
 * (RESOURCE_GROUP, NUTSHELL_IMAGE, ENCFS_KEY_TYPE, ...) override the matching
 * fields first. Unknown fields and invalid values fail with the JSON path
 * ("deploy.json: $.encfs.key_type: ..."). */
int deployment_load(const char *path, int apply_env, struct deployment **out, struct ng_err *err);
/* Same from bytes already in memory; name is used in error messages. */
int deployment_parse(const char *json, size_t len, const char *name, int apply_env,
		     struct deployment **out, struct ng_err *err);
void deployment_free(struct deployment *d);

/* The validated deployment as a canonical JSON object (every default filled
 * in). Owned by d; do not free. */
const cJSON *deployment_json(const struct deployment *d);
/* The image reference of container c as written in the deployment (tag or
 * digest), and the path of its OCI archive ("" when not given). */
const char *deployment_image_ref(const struct deployment *d, enum render_container c);
const char *deployment_image_archive(const struct deployment *d, enum render_container c);
/* Container name in the group ("skr-sidecar", "encfs-sidecar", "caddy",
 * "nutshell-mint" by default). */
const char *deployment_container_name(const struct deployment *d, enum render_container c);

/* What is known about the encfs key and blob when rendering (nutgen build
 * creates the key material and the image; render only needs public facts). */
struct render_key {
	const char *name;     /* Key Vault key name (kid), e.g. "encfs-key" */
	const char *type;     /* "RSA-HSM" or "oct-HSM" */
	const char *salt_hex; /* HKDF salt, hex; required for RSA-HSM, NULL for oct-HSM */
	const char *label;    /* HKDF label (info), e.g. "encfs"; NULL for oct-HSM */
	const char
	    *vault_url; /* optional override of the Key Vault / MHSM URL the deployment names */
	const char *blob_url; /* optional override of the encfs page blob URL (no SAS) */
};

struct render_in {
	/* Image facts per container, indexed by enum render_container: a JSON
	 * object {"image": "<ref>", "config": {"Env", "Entrypoint", "Cmd",
	 * "WorkingDir", "User", "StopSignal"}, "layer_roothashes": ["<hex>",
	 * ...]} as `nutgen image inspect` prints it (extra keys ignored; its
	 * "image" is ignored too: the name comes from the deployment). When
	 * the object has "manifest_digest", the ARM template and the policy pin
	 * the image as <repository>@<manifest_digest>. Not owned. */
	const cJSON *images[RC_COUNT];
	struct render_key key;
	/* Override of the deployment's debug flag: 0 keep (so a zeroed struct
	 * follows the deployment), 1 force on, -1 force off. */
	int debug;
	/* The live identity (target.json, nutapply infra up), or NULL: the
	 * ARM template names it by resource id instead of resourceId('…',
	 * managed_identity), and both sidecars' arguments carry the client id
	 * (sidecars.md §1.2 azure_info.identity, §3 identity) so IMDS issues
	 * tokens for exactly that identity. Not validated here. */
	const char *identity_resource_id;
	const char *identity_client_id;
};

/* Everything rendered; every string is malloc'd and NUL-terminated. */
struct render_out {
	char *policy;		  /* CCE policy text (hashed bytes; no trailing newline) */
	char *hostdata;		  /* lowercase hex SHA-256 of policy (64 chars) */
	char *arm_template;	  /* ARM template JSON with ccePolicy filled in */
	char *release_policy;	  /* Key Vault release policy JSON (compact, sidecars.md §4) */
	char *importkey_config;	  /* importkeyconfig.json, no key material */
	char *encfs_sidecar_args; /* EncfsSideCarArgs: standard base64 of compact JSON */
	char *skr_sidecar_args;	  /* SkrSideCarArgs: standard base64 of compact JSON */
	char *explain;		  /* plain-text review table */
	char *profile;		  /* policy profile name, e.g. "current" */
};

/* Renders everything from d. Fails (and leaves out zeroed) on a container
 * that would get "command": null, a missing or malformed image fact, an RSA
 * key without salt, or any template error. */
int render_deployment(const struct deployment *d, const struct render_in *in,
		      struct render_out *out, struct ng_err *err);
/* The Key Vault release policy alone (sidecars.md §4): version 1.0.0, one
 * authority https://<attestation_host>, the four claims in order, compact
 * JSON in Go's field order (what importkey sends as release_policy.data). */
int render_release_policy(const char *attestation_host, const char *hostdata, char **out,
			  struct ng_err *err);

/* Frees every string and zeroes out; accepts a zeroed or NULL out. */
void render_out_free(struct render_out *out);

#endif
