/* arm.c: ARM deployments and container groups (see arm.h). */
#include "arm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "azcall.h"

struct arm_client {
	struct az_api api;
	char base[AZ_URL_MAX];	/* https://management.azure.com */
	char scope[AZ_URL_MAX]; /* /subscriptions/S/resourceGroups/RG */
	double poll_s;
};

int arm_client_new(struct http_ctx *http, struct az_cred *cred, const struct az_cloud *cloud,
		   const char *subscription, const char *resource_group, struct arm_client **out,
		   struct ng_err *err)
{
	const char *env = getenv("NUTAPPLY_ARM_POLL_S");
	int n = (int)strcspn(cloud->management, "?#"), rc;

	if ((rc = az_name_ok("subscription", subscription, 36, "-", err)) ||
	    (rc = az_name_ok("resource group", resource_group, 90, "-_.()", err)))
		return rc;
	if (!(*out = calloc(1, sizeof(**out))))
		return ng_errf(err, NG_ENOMEM, "arm: out of memory");
	(*out)->api = (struct az_api){http, cred, cloud->management_resource};
	snprintf((*out)->base, AZ_URL_MAX, "%.*s", n - (n && cloud->management[n - 1] == '/'),
		 cloud->management);
	snprintf((*out)->scope, AZ_URL_MAX, "/subscriptions/%s/resourceGroups/%s", subscription,
		 resource_group);
	(*out)->poll_s = env && atof(env) >= 0 ? atof(env) : 5;
	return 0;
}

void arm_client_free(struct arm_client *arm)
{
	free(arm);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps s (at most a minute) unless that passes the deadline. */
static int pause_until(double s, double deadline, const char *what, struct ng_err *err)
{
	struct timespec ts = {(time_t)(s > 60 ? 60 : s), (long)((s - (double)(time_t)s) * 1e9)};
	if (now_s() + (double)ts.tv_sec > deadline)
		return ng_errf(err, NG_ENET, "%s: not done at the deadline; run again later", what);
	while (nanosleep(&ts, &ts) != 0) {
	}
	return 0;
}

/* path: a full URL, or under the ARM base and (unless /subscriptions/...) the group. */
static int call(struct arm_client *a, const char *method, const char *path, const char *api,
		const cJSON *body, struct http_resp *r, cJSON **json, struct ng_err *err)
{
	char url[4096 + AZ_URL_MAX], what[300];

	snprintf(what, sizeof(what), "arm: %s %.250s", method, path);
	snprintf(url, sizeof(url), "%s%s%s?api-version=%s", a->base,
		 strncmp(path, "/subscriptions/", 15) ? a->scope : "", path, api);
	return az_req(&a->api, method, strncmp(path, "https://", 8) ? url : path, body, r, json,
		      what, err);
}

/* A call, its operation followed (§4.2): Azure-AsyncOperation (the body's
 * status) when given, else Location (202 while running), only on the ARM
 * host, each wait per Retry-After. *out (may be NULL): the Location result (what-if, §4.4), else
 * the resource after a PUT, else the first answer. soft: a failed operation
 * is left to the caller. */
static int request(struct arm_client *a, const char *method, const char *path, const char *api,
		   const cJSON *body, double deadline, int soft, cJSON **out, struct ng_err *err)
{
	char async[4096] = "", loc[4096] = "";
	struct http_resp r;
	cJSON *j = NULL;
	int rc = call(a, method, path, api, body, &r, &j, err), more;
	size_t bl = strlen(a->base);

	for (int i = 0; i < 2 && !rc && strcmp(method, "GET"); i++) {
		const char *h = http_resp_header(&r, i ? "Azure-AsyncOperation" : "Location");
		if (h && (strlen(h) >= sizeof(loc) || strncmp(h, a->base, bl) || h[bl] != '/'))
			rc = ng_errf(err, NG_ENET, "arm: operation URL not on %s; not followed",
				     a->base);
		else
			snprintf(i ? async : loc, sizeof(loc), "%s", h ? h : "");
	}
	more = async[0] || loc[0];
	while (!rc && more) {
		const char *ra = http_resp_header(&r, "Retry-After");
		long ms = ra ? http_parse_retry_after(ra, time(NULL)) : -1;
		double wait = ms >= 0 ? (double)ms / 1000 : a->poll_s;
		if ((rc = pause_until(wait, deadline, path, err)))
			break;
		http_resp_free(&r);
		cJSON_Delete(j);
		rc = call(a, "GET", async[0] ? async : loc, NULL, NULL, &r, &j, err);
		const char *st = async[0] ? az_json_str(j, "status") : "";
		const char *msg = az_json_str(j, "error.message");
		if (!rc && (!st || !strcasecmp(st, "Failed") || !strcasecmp(st, "Canceled")))
			rc = ng_errf(err, NG_ENET, "arm: %s: operation %s: %s", path,
				     st ? st : "without status", msg ? msg : "no message");
		more = !rc && (async[0] ? strcasecmp(st, "Succeeded") != 0 : r.status == 202);
		if (rc && soft && r.status >= 200) /* an answer: the caller reads why */
			rc = 0;
	}
	http_resp_free(&r);
	if (!rc && out && async[0] && (loc[0] || !strcmp(method, "PUT"))) {
		cJSON_Delete(j);
		rc = call(a, "GET", loc[0] ? loc : path, api, NULL, &r, &j, err);
		http_resp_free(&r);
	}
	if (!rc && out)
		*out = j;
	else
		cJSON_Delete(j);
	return rc;
}

int arm_request(struct arm_client *a, const char *method, const char *path, const char *api,
		const cJSON *body, double timeout_s, cJSON **out, struct ng_err *err)
{
	if (out)
		*out = NULL;
	return request(a, method, path, api, body, now_s() + timeout_s, 0, out, err);
}

int arm_storage_key(struct arm_client *a, const char *account, char **key, struct ng_err *err)
{
	char path[160];
	cJSON *j = NULL;
	int rc = az_name_ok("storage account", account, 24, "", err);

	*key = NULL;
	snprintf(path, sizeof(path), "/providers/Microsoft.Storage/storageAccounts/%s/listKeys",
		 account);
	if (!rc)
		rc = request(a, "POST", path, ARM_API_STORAGE, NULL, now_s() + 300, 0, &j, err);
	const char *v = az_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "keys"), 0), "value");
	if (!rc && (!v || !(*key = strdup(v))))
		rc = ng_errf(err, NG_ENET, "arm: listKeys of %s gave no key", account);
	az_json_wipe(j);
	cJSON_Delete(j);
	return rc;
}

int arm_fill_secure_params(const cJSON *tmpl, cJSON *params, const char *storage_key,
			   const char *registry_password, struct ng_err *err)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(tmpl, "parameters"))
	{
		const char *type = az_json_str(p, "type"), *n = p->string;
		int skey = !strcmp(n, "storageAccountKey");
		const char *v = skey ? storage_key : registry_password;
		if (!type || strncasecmp(type, "secure", 6))
			continue;
		if (!skey && strcmp(n, "registryPassword") && strcmp(n, "imageRegistryPassword"))
			return ng_errf(err, NG_EINVAL,
				       "template parameter %s: secure, and nutapply "
				       "has no source for it",
				       n);
		if (!v || !*v)
			return ng_errf(err, NG_EINVAL, "template parameter %s needs a value: %s", n,
				       skey ? "name the storage account (--storage-account)"
					    : "set NUTAPPLY_REGISTRY_PASSWORD in the environment");
		cJSON_DeleteItemFromObjectCaseSensitive(params, n);
		if (!cJSON_AddStringToObject(cJSON_AddObjectToObject(params, n), "value", v))
			return ng_errf(err, NG_ENOMEM, "arm: out of memory");
	}
	return 0;
}

int arm_deploy(struct arm_client *a, const char *name, const cJSON *tmpl, const cJSON *params,
	       double timeout_s, struct ng_err *err)
{
	char path[200];
	cJSON *body = cJSON_CreateObject(), *props = cJSON_AddObjectToObject(body, "properties");
	cJSON *j = NULL, *e, *d;
	int rc = az_name_ok("deployment name", name, 64, "-_.()", err);

	snprintf(path, sizeof(path), "/providers/Microsoft.Resources/deployments/%s", name);
	/* Incremental: Complete would delete what the template does not name. */
	if (!rc && (!cJSON_AddStringToObject(props, "mode", "Incremental") ||
		    !cJSON_AddItemReferenceToObject(props, "template", (cJSON *)tmpl) ||
		    !cJSON_AddItemReferenceToObject(props, "parameters", (cJSON *)params)))
		rc = ng_errf(err, NG_ENOMEM, "arm: out of memory");
	if (!rc && !(rc = request(a, "PUT", path, ARM_API_DEPLOYMENTS, body, now_s() + timeout_s, 1,
				  NULL, err)))
		rc = request(a, "GET", path, ARM_API_DEPLOYMENTS, NULL, 0, 0, &j, err);
	cJSON_Delete(body);
	/* The final word is the deployment's state (§4.2); why it failed, the
	 * innermost of its error's details: the failed operation's own (§4.3). */
	const char *st = az_json_str(j, "properties.provisioningState");
	e = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "properties"), "error");
	while ((d = cJSON_GetArrayItem(cJSON_GetObjectItem(e, "details"), 0)))
		e = d;
	if (!rc && (!st || strcmp(st, "Succeeded")))
		rc = ng_errf(err, NG_ENET, "arm: deployment %s %s: %s: %.300s", name,
			     st ? st : "in no state",
			     az_json_str(e, "code") ? az_json_str(e, "code") : "?",
			     az_json_str(e, "message") ? az_json_str(e, "message") : "no message");
	cJSON_Delete(j);
	return rc;
}

/* method on the group's path + tail. */
static int group(struct arm_client *a, const char *method, const char *name, const char *tail,
		 double timeout_s, cJSON **out, struct ng_err *err)
{
	char path[200];
	int rc = az_name_ok("container group", name, 63, "-", err);

	snprintf(path, sizeof(path), "/providers/Microsoft.ContainerInstance/containerGroups/%s%s",
		 name, tail);
	if (out)
		*out = NULL;
	return rc ? rc
		  : request(a, method, path, ARM_API_ACI, NULL, now_s() + timeout_s, 0, out, err);
}

int arm_group_get(struct arm_client *a, const char *name, cJSON **out, struct ng_err *err)
{
	return group(a, "GET", name, "", 0, out, err);
}

int arm_group_restart(struct arm_client *a, const char *name, double timeout_s, struct ng_err *err)
{
	return group(a, "POST", name, "/restart", timeout_s, NULL, err);
}

/* Its operation followed to the end, the group is gone (§4.5). */
int arm_group_delete(struct arm_client *a, const char *name, double timeout_s, struct ng_err *err)
{
	int rc = group(a, "DELETE", name, "", timeout_s, NULL, err);
	return rc == NG_ENOTFOUND ? 0 : rc;
}

int arm_group_wait_running(struct arm_client *a, const char *name, double timeout_s,
			   struct ng_err *err)
{
	double deadline = now_s() + timeout_s;
	char why[200];
	int rc;

	do {
		cJSON *g = NULL, *c;
		if ((rc = arm_group_get(a, name, &g, err)))
			return rc;
		const char *ps = az_json_str(g, "properties.provisioningState");
		snprintf(why, sizeof(why), "provisioning is %s", ps ? ps : "unknown");
		if (ps && !strcmp(ps, "Succeeded"))
			why[0] = 0;
		cJSON_ArrayForEach(
		    c, cJSON_GetObjectItem(cJSON_GetObjectItem(g, "properties"), "containers"))
		{
			const char *st =
			    az_json_str(c, "properties.instanceView.currentState.state");
			if (!why[0] && (!st || strcmp(st, "Running")))
				snprintf(why, sizeof(why), "container %.40s is %.20s",
					 az_json_str(c, "name"), st ? st : "not started");
		}
		rc = ps && !strcmp(ps, "Failed") ? NG_ENET : 0;
		cJSON_Delete(g);
	} while (why[0] && !rc && !(rc = pause_until(a->poll_s, deadline, name, err)));
	if (rc)
		return ng_errf(err, rc, "arm: group %s is not running: %s; see `nutapply logs`",
			       name, why);
	return 0;
}
