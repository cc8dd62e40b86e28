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

#endif
