/* applyctx.h: what the bundle commands (apply, plan, status, logs, restart,
 * delete) share: one option parser, the bundle verified before anything
 * touches the network (SPEC.md §6), then the cloud, credential and clients
 * set up from the manifest (SPEC.md §5.2 deployment, volume, key). */
#ifndef NG_APPLYCTX_H
#define NG_APPLYCTX_H

#include <cjson/cJSON.h>

#include "../bundle-format/bundle.h"
#include "arm.h"
#include "azcall.h"
#include "blob.h"
#include "keyvault.h"

#define APPLY_MAX_TRUST 16
#define APPLY_OPTS                                                                                 \
	"  --trust PUB          trusted signer public key (PEM); repeatable, required\n"           \
	"  --threshold N        distinct trusted signers required (default 1)\n"                   \
	"  --ca-file FILE       add a CA (PEM) to the system trust store\n"                        \
	"  --json               print the result as JSON on stdout\n"                              \
	"  -q, --quiet          no progress or credential notes on stderr\n"

struct apply_ctx {
	const char *cmd, *bundle_path, *ca_file, *key_file, *arg; /* arg: [CONTAINER] */
	const char *trust[APPLY_MAX_TRUST];
	size_t ntrust;
	unsigned threshold;
	int json, quiet, replace_volume, yes, parallel, changed, group_existed;
	double timeout;
	/* after apply_ctx_open */
	struct bundle *b;
	char *dir;	      /* private extraction directory, or NULL */
	char digest[65];      /* SHA-256 of the bundle file */
	char manifest_id[65]; /* SHA-256 of the manifest: unchanged by co-signing */
	char volume_id[65];   /* SHA-256 of encfs.img, "" when the bundle has none */
	const cJSON *dep, *vol, *key;
	const char *group, *hostdata;
	struct az_session s;
	struct arm_client *arm;
	struct kv_client *kv;
	struct blob_auth blob;
	uint8_t *storage_key;
	size_t storage_key_len;
	char account[128];
};

/* Parses BUNDLE [CONTAINER if max_operands], the APPLY_OPTS, --timeout, and
 * those of --replace-volume, --yes, --parallel, --key-file that `extra`
 * names ("r", "y", "p", "K"). Returns 0, -1 after --help, or the exit
 * status of a usage error (already printed). */
int apply_ctx_parse(struct apply_ctx *c, int argc, char **argv, const char *usage,
		    const char *extra, int max_operands);

/* Verifies the bundle (extracting it when extract is set), then opens the
 * session and clients. No network request happens before it verified. */
int apply_ctx_open(struct apply_ctx *c, int extract, struct ng_err *err);
void apply_ctx_close(struct apply_ctx *c);

/* A member's bytes (NUL-terminated), or NULL with err set. */
const char *apply_member(struct apply_ctx *c, const char *name, struct ng_err *err);

/* The string at a dotted path under obj, "" when absent. */
const char *apply_str(const cJSON *obj, const char *path);

/* SHA-256 hex of a container group's decoded ccePolicy, or "". */
void apply_group_hostdata(const cJSON *group, char out[65]);

#endif
