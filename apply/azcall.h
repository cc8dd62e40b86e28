/* azcall.h: authenticated JSON calls to Azure REST APIs and the session
 * every Azure command opens. */
#ifndef NG_AZCALL_H
#define NG_AZCALL_H

#include <cjson/cJSON.h>

#include "../bundle-format/jsonpath.h"
#include "cred.h"
#include "http.h"

struct az_api {
	struct http_ctx *http;
	struct az_cred *cred;
	const char *resource; /* token resource, e.g. cloud->vault_resource */
};

/* method url [JSON body, wiped after sending]; after a 401 one fresh token
 * and one more try (§3.4, §4.1). 0 on any answer; *json: the body if JSON. */
int az_call(const struct az_api *api, const char *method, const char *url, const cJSON *body,
	    int idempotent, struct http_resp *resp, cJSON **json, struct ng_err *err);
/* Idempotent az_call (resp initialised here) failing on a status >= 300
 * (404: NG_ENOTFOUND) with what and the server's message. */
int az_req(const struct az_api *api, const char *method, const char *url, const cJSON *body,
	   struct http_resp *resp, cJSON **json, const char *what, struct ng_err *err);
/* NG_EINVAL unless s is 1..max letters, digits or extra (for a URL path). */
int az_name_ok(const char *what, const char *s, size_t max, const char *extra, struct ng_err *err);

static inline const char *az_json_str(const cJSON *j, const char *dotted_path)
{
	return json_path_str(j, dotted_path);
}

struct az_session {
	struct az_cloud cloud;
	struct http_ctx *http;
	struct az_cred *cred;
};
/* cloud_file (az_cloud_from_json) wins over cloud_name (NULL: AzureCloud). */
int az_session_open(struct az_session *s, const char *cloud_name, const char *cloud_file,
		    const char *ca_file, int quiet, struct ng_err *err);
void az_session_close(struct az_session *s);

/* A JSON file of at most max bytes, its raw bytes wiped (key files). */
int az_read_json(const char *path, size_t max, cJSON **out, struct ng_err *err);
/* Overwrites every string in the tree (secrets) before it is deleted. */
void az_json_wipe(cJSON *j);

#endif
