/* arm.h: the Azure Resource Manager calls nutapply makes (azure-rest.md §4):
 * a template deployment with its secure parameters filled at apply time,
 * long-running operations polled honouring Retry-After (§4.2), and the
 * confidential container group's lifecycle (§4.5). */
#ifndef NG_ARM_H
#define NG_ARM_H

#include <cjson/cJSON.h>

#include "cred.h"
#include "http.h"

#define ARM_API_DEPLOYMENTS "2025-04-01"
#define ARM_API_ACI	    "2025-09-01"
#define ARM_API_STORAGE	    "2025-01-01"

struct arm_client;

/* Everything happens in one subscription and resource group. Seconds
 * between polls when ARM gives no Retry-After: 5, or NUTAPPLY_ARM_POLL_S
 * from the environment (tests). */
int arm_client_new(struct http_ctx *http, struct az_cred *cred, const struct az_cloud *cloud,
		   const char *subscription, const char *resource_group, struct arm_client **out,
		   struct ng_err *err);
void arm_client_free(struct arm_client *arm);

/* The storage account's first key (listKeys, §1.12), malloc'd: the caller
 * wipes (OPENSSL_cleanse) and frees it. */
int arm_storage_key(struct arm_client *arm, const char *account, char **key, struct ng_err *err);

/* Fills params (an ARM parameters object, {"p":{"value":..}}) for every
 * secure parameter the template declares: `storageAccountKey` from
 * storage_key, `registryPassword` from registry_password. A secure
 * parameter nutapply has no source for, or whose source is NULL, is a
 * one-line error naming the fix. */
int arm_fill_secure_params(const cJSON *tmpl, cJSON *params, const char *storage_key,
			   const char *registry_password, struct ng_err *err);

/* Deploys the template (mode Incremental, never Complete) as deployment
 * `name` and waits up to timeout_s. A failure names ARM's failed operation:
 * its resource, code and message. */
int arm_deploy(struct arm_client *arm, const char *name, const cJSON *tmpl, const cJSON *params,
	       double timeout_s, struct ng_err *err);

/* The container group (instance view included); NG_ENOTFOUND if absent. */
int arm_group_get(struct arm_client *arm, const char *group, cJSON **out, struct ng_err *err);
int arm_group_restart(struct arm_client *arm, const char *group, double timeout_s,
		      struct ng_err *err);
/* Until provisioning succeeded and every container is Running; the error
 * names the first container that is not, with its state. */
int arm_group_wait_running(struct arm_client *arm, const char *group, double timeout_s,
			   struct ng_err *err);
/* Deletes the group and waits until it is gone; absent is success. */
int arm_group_delete(struct arm_client *arm, const char *group, double timeout_s,
		     struct ng_err *err);

/* One ARM call on any resource: path is relative to the resource group
 * ("" is the group itself, "/providers/...") or absolute
 * ("/subscriptions/..."). A 201/202 is followed to its end (§4.2). *out
 * (may be NULL) gets the final body: the Location result when there was
 * one (what-if, §4.4), the resource after a PUT, else the first answer.
 * 404 is NG_ENOTFOUND; any other failure one line with ARM's message. */
int arm_request(struct arm_client *arm, const char *method, const char *path, const char *api,
		const cJSON *body, double timeout_s, cJSON **out, struct ng_err *err);

#endif
