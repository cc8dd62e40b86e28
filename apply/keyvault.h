/* keyvault.h: the Key Vault / Managed HSM data-plane calls nutapply makes
 * (api-version 7.4, azure-rest.md §3): put the mint's key in the vault with
 * the bundle's release policy, exportable and never immutable, idempotently.
 */
#ifndef NG_KEYVAULT_H
#define NG_KEYVAULT_H

#include <cjson/cJSON.h>

#include "cred.h"
#include "http.h"

struct kv_client;

/* vault: a name ({vault}.<cloud vault_suffix>) or an https:// base URL (a
 * Managed HSM, or a test stand-in). */
int kv_client_new(struct http_ctx *http, struct az_cred *cred, const struct az_cloud *cloud,
		  const char *vault, struct kv_client **out, struct ng_err *err);
void kv_client_free(struct kv_client *kv);

enum kv_action { KV_IMPORTED = 1, KV_POLICY_UPDATED, KV_UNCHANGED };

struct kv_result {
	enum kv_action action;
	char kid[512]; /* the versioned key id now carrying the policy */
};

/* Makes key `name` carry release policy `policy` (JSON text, the bundle's
 * bytes, sent as they are):
 *  - absent: imports `key` (a private JWK, or {kty, key_ops, key_hsm} for a
 *    BYOK transfer blob, §3.2) with Hsm, exportable and the policy, never
 *    immutable, and checks the answer is exportable with that policy (a key
 *    that came out non-exportable can never be repaired: §3.1);
 *  - present with that policy (compared as JSON, §11.2): nothing;
 *  - present otherwise: updates the policy of its CURRENT version (encfs
 *    releases the latest, sidecars.md §7) and reads it back to confirm.
 * Refuses a present key that is not exportable or whose policy is immutable.
 * `key` may hold private material: it is never logged nor in an error. */
int kv_apply_key(struct kv_client *kv, const char *name, const cJSON *key, const char *policy,
		 struct kv_result *res, struct ng_err *err);

/* GET the latest version's KeyBundle (public part); NG_ENOTFOUND if absent. */
int kv_get_key(struct kv_client *kv, const char *name, cJSON **bundle, struct ng_err *err);

/* 1 when bundle.release_policy.data decodes to JSON equal to `policy`. */
int kv_policy_matches(const cJSON *bundle, const cJSON *policy);

#endif
