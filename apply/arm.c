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

static int name_ok(const char *what, const char *s, size_t max, const char *extra,
		   struct ng_err *err)
{
	size_t n = strlen(s), ok = 0;
	for (const char *p = s; *p; p++)
		ok += (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(extra, *p);
	if (n < 1 || n > max || ok != n)
		return ng_errf(err, NG_EINVAL, "%s '%.64s': want 1-%zu of letters, digits and '%s'",
			       what, s, max, extra);
	return 0;
}

int arm_client_new(struct http_ctx *http, struct az_cred *cred, const struct az_cloud *cloud,
		   const char *subscription, const char *resource_group, struct arm_client **out,
		   struct ng_err *err)
{
	struct arm_client *a;
	const char *env = getenv("NUTAPPLY_ARM_POLL_S");
	int rc;

	*out = NULL;
	if ((rc = name_ok("subscription", subscription, 36, "-", err)) ||
	    (rc = name_ok("resource group", resource_group, 90, "-_.()", err)))
		return rc;
	if (!(a = calloc(1, sizeof(*a))))
		return ng_errf(err, NG_ENOMEM, "arm: out of memory");
	a->api = (struct az_api){http, cred, cloud->management_resource};
	snprintf(a->base, sizeof(a->base), "%.*s", (int)strcspn(cloud->management, "?#"),
		 cloud->management);
	size_t bl = strlen(a->base);
	if (bl && a->base[bl - 1] == '/')
		a->base[bl - 1] = 0;
	snprintf(a->scope, sizeof(a->scope), "/subscriptions/%s/resourceGroups/%s", subscription,
		 resource_group);
	a->poll_s = env && atof(env) >= 0 ? atof(env) : 5;
	*out = a;
	return 0;
}

void arm_client_free(struct arm_client *arm)
{
	free(arm);
}

static void sleep_s(double s)
{
	if (s > 60)
		s = 60; /* keep polling at least once a minute */
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0) {
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double retry_after(const struct arm_client *a, const struct http_resp *r)
{
	const char *v = http_resp_header(r, "Retry-After");
	long ms = v ? http_parse_retry_after(v, time(NULL)) : -1;
	return ms >= 0 ? (double)ms / 1000 : a->poll_s;
}

/* One call to path (under the ARM base URL unless it is a full URL); api is
 * the api-version. */
static int call(struct arm_client *a, const char *method, const char *path, const char *api,
		const cJSON *body, struct http_resp *resp, cJSON **json, struct ng_err *err)
{
	char url[4096 + AZ_URL_MAX];

	if (strncmp(path, "https://", 8) == 0)
		snprintf(url, sizeof(url), "%s", path);
	else
		snprintf(url, sizeof(url), "%s%s%s?api-version=%s", a->base,
			 strncmp(path, "/subscriptions/", 15) ? a->scope : "", path, api);
	return az_call(&a->api, method, url, body, 1, resp, json, err);
}

/* Follows an async operation (§4.2): Azure-AsyncOperation when given (its
 * body's status), else Location (202 while running). Only URLs on the
 * configured ARM host are followed. Returns 0 when it succeeded, or when it
 * ended in failure and `soft` (the caller reads the resource for ARM's
 * detailed reason). */
static int lro_wait(struct arm_client *a, const struct http_resp *first, const char *what,
		    double deadline, int soft, struct ng_err *err)
{
	/* http_resp_header's answer lives until its next call: read the wait
	 * first, then copy the URL. */
	double wait = retry_after(a, first);
	const char *h = http_resp_header(first, "Azure-AsyncOperation");
	int async = h != NULL, rc = 0;
	char url[4096];
	size_t bl = strlen(a->base);

	if (!h)
		h = http_resp_header(first, "Location");
	if (!h)
		return 0;
	if (strlen(h) >= sizeof(url) || strncmp(h, a->base, bl) != 0 || h[bl] != '/')
		return ng_errf(err, NG_ENET,
			       "%s: operation URL is not on %s; refusing to follow it", what,
			       a->base);
	snprintf(url, sizeof(url), "%s", h);
	for (;;) {
		struct http_resp r;
		cJSON *j = NULL;
		const char *st;

		if (now_s() + wait > deadline)
			return ng_errf(err, NG_ENET,
				       "%s: still running at the deadline; check it "
				       "in the portal, then run again",
				       what);
		sleep_s(wait);
		http_resp_init(&r);
		rc = call(a, "GET", url, NULL, NULL, &r, &j, err);
		if (!rc && async && r.status == 200 && (st = az_json_str(j, "status"))) {
			if (!strcasecmp(st, "Succeeded"))
				rc = 1;
			else if (!strcasecmp(st, "Failed") || !strcasecmp(st, "Canceled"))
				rc = soft ? 1
					  : ng_errf(err, NG_ENET, "%s: %s: %s", what, st,
						    az_json_str(j, "error.message")
							? az_json_str(j, "error.message")
							: "no message");
		} else if (!rc && !async && r.status != 202) {
			rc = r.status < 300 || soft ? 1 : http_status_err(&r, err, NG_ENET, what);
		} else if (!rc && (async || r.status != 202)) {
			rc = http_status_err(&r, err, NG_ENET, what);
		}
		if (!rc)
			wait = retry_after(a, &r);
		http_resp_free(&r);
		cJSON_Delete(j);
		if (rc)
			return rc == 1 ? 0 : rc;
	}
}

int arm_storage_key(struct arm_client *a, const char *account, char **key, struct ng_err *err)
{
	char path[160];
	struct http_resp r;
	cJSON *j = NULL;
	const char *v;
	int rc;

	*key = NULL;
	if ((rc = name_ok("storage account", account, 24, "", err)))
		return rc;
	/* Storage account names: 3-24 lowercase letters and digits. */
	if (strlen(account) < 3 || strpbrk(account, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
		return ng_errf(err, NG_EINVAL,
			       "storage account '%s': want 3-24 lowercase letters and digits",
			       account);
	snprintf(path, sizeof(path), "/providers/Microsoft.Storage/storageAccounts/%s/listKeys",
		 account);
	http_resp_init(&r);
	rc = call(a, "POST", path, ARM_API_STORAGE, NULL, &r, &j, err);
	if (!rc && r.status != 200)
		rc = http_status_err(&r, err, NG_ENET, "arm: storage account listKeys");
	else if (!rc &&
		 !(v = az_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "keys"), 0), "value")))
		rc = ng_errf(err, NG_ENET, "arm: listKeys of %s returned no key", account);
	else if (!rc && !(*key = strdup(v)))
		rc = ng_errf(err, NG_ENOMEM, "arm: out of memory");
	http_resp_free(&r); /* the key is in the body: http_resp_free does not wipe */
	cJSON_Delete(j);
	return rc;
}

int arm_fill_secure_params(const cJSON *tmpl, cJSON *params, const char *storage_key,
			   const char *registry_password, struct ng_err *err)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(tmpl, "parameters"))
	{
		const char *type = az_json_str(p, "type"), *v = NULL, *fix;
		if (!type || strcasecmp(type, "securestring") != 0) {
			if (type && !strcasecmp(type, "secureobject"))
				return ng_errf(
				    err, NG_EINVAL,
				    "template parameter %s: secureobject is not supported",
				    p->string);
			continue;
		}
		if (!strcmp(p->string, "storageAccountKey")) {
			v = storage_key;
			fix = "name the storage account (--storage-account)";
		} else if (!strcmp(p->string, "registryPassword")) {
			v = registry_password;
			fix = "set NUTAPPLY_REGISTRY_PASSWORD in the environment";
		} else {
			return ng_errf(err, NG_EINVAL,
				       "template parameter %s is secure and nutapply has no source "
				       "for it; rebuild the bundle with a supported template",
				       p->string);
		}
		if (!v || !*v)
			return ng_errf(err, NG_EINVAL, "template parameter %s needs a value: %s",
				       p->string, fix);
		cJSON *val = cJSON_CreateObject();
		if (!val || !cJSON_AddStringToObject(val, "value", v)) {
			cJSON_Delete(val);
			return ng_errf(err, NG_ENOMEM, "arm: out of memory");
		}
		cJSON_DeleteItemFromObjectCaseSensitive(params, p->string);
		cJSON_AddItemToObject(params, p->string, val);
	}
	return 0;
}

/* ARM's own words for a failed deployment: the first failed operation's
 * statusMessage.error (§4.3), else the deployment's error. */
static int deploy_failure(struct arm_client *a, const char *name, const cJSON *dep,
			  struct ng_err *err)
{
	char path[200];
	struct http_resp r;
	cJSON *j = NULL, *op;
	const char *code = az_json_str(dep, "properties.error.code");
	const char *msg = az_json_str(dep, "properties.error.message"), *res = "";
	int rc;

	snprintf(path, sizeof(path), "/providers/Microsoft.Resources/deployments/%s/operations",
		 name);
	http_resp_init(&r);
	if (!call(a, "GET", path, ARM_API_DEPLOYMENTS, NULL, &r, &j, err) && r.status == 200) {
		cJSON_ArrayForEach(op, cJSON_GetObjectItem(j, "value"))
		{
			const cJSON *p = cJSON_GetObjectItem(op, "properties");
			const char *st = az_json_str(p, "provisioningState");
			if (st && !strcmp(st, "Failed") &&
			    az_json_str(p, "statusMessage.error.message")) {
				code = az_json_str(p, "statusMessage.error.code");
				msg = az_json_str(p, "statusMessage.error.message");
				res = az_json_str(p, "targetResource.resourceName");
				break;
			}
		}
	}
	rc = ng_errf(err, NG_ENET, "arm: deployment %s failed%s%s: %s: %.300s", name,
		     res && *res ? " at " : "", res ? res : "", code ? code : "no code",
		     msg ? msg : "no message");
	http_resp_free(&r);
	cJSON_Delete(j);
	return rc;
}

int arm_deploy(struct arm_client *a, const char *name, const cJSON *tmpl, const cJSON *params,
	       double timeout_s, struct ng_err *err)
{
	char path[200], what[160];
	struct http_resp r;
	cJSON *body = cJSON_CreateObject(), *props, *j = NULL;
	double deadline = now_s() + timeout_s;
	const char *st;
	int rc;

	if ((rc = name_ok("deployment name", name, 64, "-_.()", err))) {
		cJSON_Delete(body);
		return rc;
	}
	props = cJSON_AddObjectToObject(body, "properties");
	/* Incremental: Complete would delete what the template does not name. */
	if (!props || !cJSON_AddStringToObject(props, "mode", "Incremental") ||
	    !cJSON_AddItemReferenceToObject(props, "template", (cJSON *)tmpl) ||
	    !cJSON_AddItemReferenceToObject(props, "parameters", (cJSON *)params)) {
		cJSON_Delete(body);
		return ng_errf(err, NG_ENOMEM, "arm: out of memory");
	}
	snprintf(path, sizeof(path), "/providers/Microsoft.Resources/deployments/%s", name);
	snprintf(what, sizeof(what), "arm: deployment %s", name);
	http_resp_init(&r);
	rc = call(a, "PUT", path, ARM_API_DEPLOYMENTS, body, &r, &j, err);
	cJSON_Delete(body);
	/* 409 DeploymentActive: an earlier attempt's answer was lost; wait for it. */
	if (!rc && r.status != 200 && r.status != 201 &&
	    !(r.status == 409 && !strcmp(r.error_code, "DeploymentActive")))
		rc = http_status_err(&r, err, NG_ENET, what);
	else if (!rc)
		rc = lro_wait(a, &r, what, deadline, 1, err);
	http_resp_free(&r);
	for (int polls = 0; !rc; polls++) {
		/* The final word is the deployment's own state (§4.2). */
		cJSON_Delete(j);
		j = NULL;
		http_resp_init(&r);
		rc = call(a, "GET", path, ARM_API_DEPLOYMENTS, NULL, &r, &j, err);
		if (!rc && r.status != 200)
			rc = http_status_err(&r, err, NG_ENET, what);
		double wait = rc ? 0 : retry_after(a, &r);
		http_resp_free(&r);
		if (rc || !(st = az_json_str(j, "properties.provisioningState")))
			rc = rc ? rc : ng_errf(err, NG_ENET, "%s: no provisioningState", what);
		else if (!strcmp(st, "Succeeded"))
			break;
		else if (!strcmp(st, "Failed") || !strcmp(st, "Canceled"))
			rc = deploy_failure(a, name, j, err);
		else if (now_s() + wait > deadline)
			rc = ng_errf(err, NG_ENET, "%s: still %s at the deadline", what, st);
		else
			sleep_s(wait);
	}
	cJSON_Delete(j);
	return rc;
}

static int group_path(const char *group, const char *tail, char *path, size_t n, struct ng_err *err)
{
	int rc = name_ok("container group", group, 63, "-", err);
	if (!rc)
		snprintf(path, n, "/providers/Microsoft.ContainerInstance/containerGroups/%s%s",
			 group, tail);
	return rc;
}

int arm_group_get(struct arm_client *a, const char *group, cJSON **out, struct ng_err *err)
{
	char path[200];
	struct http_resp r;
	int rc = group_path(group, "", path, sizeof(path), err);

	*out = NULL;
	if (rc)
		return rc;
	http_resp_init(&r);
	rc = call(a, "GET", path, ARM_API_ACI, NULL, &r, out, err);
	if (!rc && r.status == 404)
		rc = http_status_err(&r, err, NG_ENOTFOUND, "arm: container group");
	else if (!rc && (r.status != 200 || !cJSON_IsObject(*out)))
		rc = http_status_err(&r, err, NG_ENET, "arm: get container group");
	http_resp_free(&r);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

/* A POST or DELETE on the group, then its async operation if any. */
static int group_op(struct arm_client *a, const char *method, const char *group, const char *tail,
		    const char *what, double timeout_s, struct ng_err *err)
{
	char path[200];
	struct http_resp r;
	cJSON *j = NULL;
	int rc = group_path(group, tail, path, sizeof(path), err);

	if (rc)
		return rc;
	http_resp_init(&r);
	rc = call(a, method, path, ARM_API_ACI, NULL, &r, &j, err);
	if (!rc && r.status == 404)
		rc = http_status_err(&r, err, NG_ENOTFOUND, what);
	else if (!rc && r.status != 200 && r.status != 202 && r.status != 204)
		rc = http_status_err(&r, err, NG_ENET, what);
	else if (!rc)
		rc = lro_wait(a, &r, what, now_s() + timeout_s, 0, err);
	http_resp_free(&r);
	cJSON_Delete(j);
	return rc;
}

int arm_group_restart(struct arm_client *a, const char *group, double timeout_s, struct ng_err *err)
{
	return group_op(a, "POST", group, "/restart", "arm: restart container group", timeout_s,
			err);
}

int arm_group_delete(struct arm_client *a, const char *group, double timeout_s, struct ng_err *err)
{
	double deadline = now_s() + timeout_s;
	cJSON *g = NULL;
	int rc = group_op(a, "DELETE", group, "", "arm: delete container group", timeout_s, err);

	if (rc == NG_ENOTFOUND)
		return 0;
	while (!rc && !(rc = arm_group_get(a, group, &g, err))) {
		cJSON_Delete(g);
		if (now_s() + a->poll_s > deadline)
			return ng_errf(err, NG_ENET,
				       "arm: container group %s still exists at the "
				       "deadline",
				       group);
		sleep_s(a->poll_s);
	}
	return rc == NG_ENOTFOUND ? 0 : rc;
}

int arm_group_wait_running(struct arm_client *a, const char *group, double timeout_s,
			   struct ng_err *err)
{
	double deadline = now_s() + timeout_s;

	for (;;) {
		cJSON *g = NULL, *c;
		char why[300] = "";
		int rc = arm_group_get(a, group, &g, err);
		if (rc)
			return rc;
		const char *ps = az_json_str(g, "properties.provisioningState");
		if (!ps || strcmp(ps, "Succeeded") != 0)
			snprintf(why, sizeof(why), "provisioning is %s", ps ? ps : "unknown");
		cJSON_ArrayForEach(
		    c, cJSON_GetObjectItem(cJSON_GetObjectItem(g, "properties"), "containers"))
		{
			const cJSON *cs = cJSON_GetObjectItem(
			    cJSON_GetObjectItem(cJSON_GetObjectItem(c, "properties"),
						"instanceView"),
			    "currentState");
			const char *st = az_json_str(cs, "state");
			if (!why[0] && (!st || strcmp(st, "Running") != 0))
				snprintf(why, sizeof(why), "container %.40s is %.20s%s%.80s%s",
					 az_json_str(c, "name") ? az_json_str(c, "name") : "?",
					 st ? st : "unknown",
					 az_json_str(cs, "detailStatus") ? " (" : "",
					 az_json_str(cs, "detailStatus")
					     ? az_json_str(cs, "detailStatus")
					     : "",
					 az_json_str(cs, "detailStatus") ? ")" : "");
		}
		int failed = ps && !strcmp(ps, "Failed");
		cJSON_Delete(g);
		if (failed)
			return ng_errf(err, NG_ENET, "arm: container group %s: %s", group, why);
		if (!why[0])
			return 0;
		if (now_s() + a->poll_s > deadline)
			return ng_errf(err, NG_ENET,
				       "arm: container group %s not running after %.0f s: %s; see "
				       "`nutapply logs`",
				       group, timeout_s, why);
		sleep_s(a->poll_s);
	}
}

int arm_request(struct arm_client *a, const char *method, const char *path, const char *api,
		const cJSON *body, double timeout_s, cJSON **out, struct ng_err *err)
{
	struct http_resp r;
	cJSON *j = NULL;
	char loc[4096] = "";
	const char *h;
	int rc;

	if (out)
		*out = NULL;
	http_resp_init(&r);
	if ((rc = call(a, method, path, api, body, &r, &j, err)))
		goto out;
	if (r.status == 404) {
		rc = ng_errf(err, NG_ENOTFOUND, "%s: not found", path);
		goto out;
	}
	if (r.status >= 300) {
		rc = http_status_err(&r, err, NG_ENET, path);
		goto out;
	}
	if ((h = http_resp_header(&r, "Location")) && strlen(h) < sizeof(loc))
		snprintf(loc, sizeof(loc), "%s", h);
	if (r.status == 201 || r.status == 202) {
		if ((rc = lro_wait(a, &r, path, now_s() + timeout_s, 0, err)))
			goto out;
		/* The result: the Location URL's answer (what-if, §4.4), else
		 * the resource itself. */
		if (out && (loc[0] || !strcmp(method, "PUT"))) {
			cJSON_Delete(j);
			j = NULL;
			http_resp_free(&r);
			http_resp_init(&r);
			if ((rc = call(a, "GET", loc[0] ? loc : path, api, NULL, &r, &j, err)))
				goto out;
			if (r.status >= 300) {
				rc = http_status_err(&r, err, NG_ENET, path);
				goto out;
			}
		}
	}
	if (out) {
		*out = j;
		j = NULL;
	}
out:
	http_resp_free(&r);
	cJSON_Delete(j);
	return rc;
}
