/* azcall.h: one authenticated JSON call to an Azure REST API, shared by the
 * Key Vault and ARM clients: the token for the API's resource from the
 * credential chain, the request through http.h (retries, budget, redaction),
 * one fresh token and one more try after a 401 (expired or revoked token,
 * azure-rest.md §3.4, §4.1), and the JSON body parsed. */
#ifndef NG_AZCALL_H
#define NG_AZCALL_H

#include <cjson/cJSON.h>

#include "cred.h"
#include "http.h"

struct az_api {
	struct http_ctx *http;
	struct az_cred *cred;
	const char *resource; /* token resource, e.g. cloud->vault_resource */
};

/* Sends method url with an optional JSON body (serialised compactly; it may
 * carry secrets, so it is wiped after sending). idempotent as http_req.
 * Returns 0 when an answer arrived (any status, judged by the caller) and
 * fills resp; *json gets the parsed body when it is JSON (else NULL), owned by
 * the caller. */
int az_call(const struct az_api *api, const char *method, const char *url, const cJSON *body,
	    int idempotent, struct http_resp *resp, cJSON **json, struct ng_err *err);

/* The string member at a dotted path ("properties.provisioningState"), or
 * NULL. */
const char *az_json_str(const cJSON *j, const char *path);

/* What every command that talks to Azure sets up: the cloud (a named one
 * or a custom cloud file), the HTTP context (with an added CA) and the
 * credential chain. */
struct az_session {
	struct az_cloud cloud;
	struct http_ctx *http;
	struct az_cred *cred;
};

/* cloud_file (JSON, see az_cloud_from_json) wins over cloud_name (NULL:
 * AzureCloud). */
int az_session_open(struct az_session *s, const char *cloud_name, const char *cloud_file,
		    const char *ca_file, int quiet, struct ng_err *err);
void az_session_close(struct az_session *s);

/* A JSON file of at most max bytes; the error names the path. The raw bytes
 * are wiped before they are freed (key files). */
int az_read_json(const char *path, size_t max, cJSON **out, struct ng_err *err);

/* Overwrites every string in the tree (secrets: keys, passwords) before the
 * caller deletes it. */
void az_json_wipe(cJSON *j);

#endif
