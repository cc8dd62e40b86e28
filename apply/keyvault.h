/* keyvault.h: the Key Vault / Managed HSM key calls (api-version 7.4, azure-rest.md §3). */
#ifndef NG_KEYVAULT_H
#define NG_KEYVAULT_H

#include <cjson/cJSON.h>

#include "cred.h"
#include "http.h"

struct kv_client;

/* vault: its https:// base URL (manifest key.vault). */
int kv_client_new(struct http_ctx *http, struct az_cred *cred, const struct az_cloud *cloud,
		  const char *vault, struct kv_client **out, struct ng_err *err);
void kv_client_free(struct kv_client *kv);

enum kv_action { KV_IMPORTED = 1, KV_POLICY_UPDATED, KV_UNCHANGED };
struct kv_result {
	enum kv_action action;
};

/* Key `name` gets release policy `policy` (JSON text, sent as is): imports
 * `key` (private JWK or BYOK {kty,key_ops,key_hsm}, §3.2) exportable, never
 * immutable, if absent; else updates its current version's policy unless
 * equal; reads it back. Refuses a non-exportable or immutable-policy key. */
int kv_apply_key(struct kv_client *kv, const char *name, const cJSON *key, const char *policy,
		 struct kv_result *res, struct ng_err *err);

/* The latest version's KeyBundle; NG_ENOTFOUND if absent. */
int kv_get_key(struct kv_client *kv, const char *name, cJSON **bundle, struct ng_err *err);

/* 1 when bundle.release_policy.data decodes to JSON equal to policy (§11.2). */
int kv_policy_matches(const cJSON *bundle, const cJSON *policy);

#endif
