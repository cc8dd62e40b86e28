/* applyctx.h: what every bundle-driven command (apply, plan, status, logs,
 * restart, delete) shares: one option parser, the bundle verified before
 * anything touches the network (SPEC.md §6), then the cloud, credential and
 * clients set up from the bundle's manifest (SPEC.md §5.2 `deployment`,
 * `volume`, `key`). */
#ifndef NG_APPLYCTX_H
#define NG_APPLYCTX_H

#include <cjson/cJSON.h>

#include "../bundle-format/bundle.h"
#include "arm.h"
#include "azcall.h"
#include "blob.h"
#include "keyvault.h"

#define APPLY_MAX_TRUST 16

struct apply_ctx {
	/* options */
	const char *cmd, *bundle_path, *ca_file, *arg; /* arg: an optional operand (CONTAINER) */
	const char *trust[APPLY_MAX_TRUST];
	size_t ntrust;
	unsigned threshold;
	int json, quiet, replace_volume, yes, parallel;
	const char *key_file; /* a private JWK to import when the bundle has no BYOK blob */
	double timeout;
	/* after apply_ctx_open */
	struct bundle *b;
	char *dir;		      /* private extraction directory, or NULL */
	char digest[65];	      /* SHA-256 of the bundle file */
	const cJSON *dep, *vol, *key; /* manifest objects (may be NULL) */
	const char *group, *hostdata;
	struct az_session s;
	struct arm_client *arm;
	struct kv_client *kv;
	struct blob_auth blob;
	uint8_t *storage_key;
	size_t storage_key_len;
	char account[128];
};

/* Parses argv (getopt_long, optind = 1): BUNDLE, --trust PUB..., --threshold
 * N, --ca-file, --json, -q/--quiet, --timeout S, and --replace-volume, --yes,
 * --parallel N, --key-file F when `extra` names them ("r", "y", "p", "K"). Returns 0, or the exit
 * status of a usage error / --help (already printed) as a positive number. */
int apply_ctx_parse(struct apply_ctx *c, int argc, char **argv, const char *usage,
		    const char *extra, int max_operands);

/* Verifies the bundle (extracting it when extract is set), then opens the
 * session and the ARM and Key Vault clients. No network request happens
 * before the bundle verified. */
int apply_ctx_open(struct apply_ctx *c, int extract, struct ng_err *err);
void apply_ctx_close(struct apply_ctx *c);

/* A member's bytes (kept in memory, NUL-terminated), or NULL with err set. */
const char *apply_member(struct apply_ctx *c, const char *name, struct ng_err *err);

/* The manifest string at `obj.field`, "" when absent. */
const char *apply_str(const cJSON *obj, const char *field);

/* SHA-256 hex of the decoded ccePolicy of a container group, or "" (none). */
void apply_group_hostdata(const cJSON *group, char out[65]);

#endif
