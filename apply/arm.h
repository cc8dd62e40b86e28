/* arm.h: the Azure Resource Manager calls nutapply makes (azure-rest.md §4):
 * deployments, long-running operations (§4.2), the container group (§4.5). */
#ifndef NG_ARM_H
#define NG_ARM_H

#include <cjson/cJSON.h>

#include "cred.h"
#include "http.h"

#define ARM_API_DEPLOYMENTS "2025-04-01"
#define ARM_API_ACI	    "2025-09-01"
#define ARM_API_STORAGE	    "2025-01-01"

struct arm_client;

/* Polls without Retry-After every 5 s, or NUTAPPLY_ARM_POLL_S (tests). */
int arm_client_new(struct http_ctx *http, struct az_cred *cred, const struct az_cloud *cloud,
		   const char *subscription, const char *resource_group, struct arm_client **out,
		   struct ng_err *err);
void arm_client_free(struct arm_client *arm);

/* The storage account's first key (listKeys, §1.12): cleanse and free it. */
int arm_storage_key(struct arm_client *arm, const char *account, char **key, struct ng_err *err);
/* Sets params' storageAccountKey and registryPassword if tmpl declares them
 * secure; another secure one, or a NULL source: one line naming the fix. */
int arm_fill_secure_params(const cJSON *tmpl, cJSON *params, const char *storage_key,
			   const char *registry_password, struct ng_err *err);
/* Deploys (Incremental) as `name`; a failure says ARM's reason. */
int arm_deploy(struct arm_client *arm, const char *name, const cJSON *tmpl, const cJSON *params,
	       double timeout_s, struct ng_err *err);

/* With its instance view; NG_ENOTFOUND if absent. */
int arm_group_get(struct arm_client *arm, const char *group, cJSON **out, struct ng_err *err);
int arm_group_restart(struct arm_client *arm, const char *group, double timeout_s,
		      struct ng_err *err);
/* Until every container runs, else names the first that does not. */
int arm_group_wait_running(struct arm_client *arm, const char *group, double timeout_s,
			   struct ng_err *err);
/* Absent is success. */
int arm_group_delete(struct arm_client *arm, const char *group, double timeout_s,
		     struct ng_err *err);

/* path: under the resource group ("", "/providers/...") or "/subscriptions/...";
 * its operation followed. *out (may be NULL): the Location result (what-if,
 * §4.4), else the resource after a PUT, else the answer. 404: NG_ENOTFOUND. */
int arm_request(struct arm_client *arm, const char *method, const char *path, const char *api,
		const cJSON *body, double timeout_s, cJSON **out, struct ng_err *err);

#endif
