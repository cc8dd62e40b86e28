/* azcall.c: authenticated JSON calls (see azcall.h). */
#include "azcall.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

int az_call(const struct az_api *api, const char *method, const char *url, const cJSON *body,
	    int idempotent, struct http_resp *resp, cJSON **json, struct ng_err *err)
{
	static const char *const json_hdrs[] = {"Content-Type: application/json",
						"Accept: application/json", NULL};
	static const char *const accept_hdrs[] = {"Accept: application/json", NULL};
	char *text = NULL;
	int rc = 0;

	*json = NULL;
	if (body && !(text = cJSON_PrintUnformatted(body)))
		return ng_errf(err, NG_ENOMEM, "%s %s: cannot serialise the request", method, url);
	for (int attempt = 0; attempt < 2; attempt++) {
		const char *auth = NULL;
		rc = az_cred_authorization(api->cred, api->resource, &auth, err);
		if (rc)
			break;
		struct http_req req = {.method = method,
				       .url = url,
				       .headers = text ? json_hdrs : accept_hdrs,
				       .authorization = auth,
				       .body = text,
				       .body_len = text ? strlen(text) : 0,
				       .idempotent = idempotent};
		http_resp_free(resp);
		http_resp_init(resp);
		rc = http_do(api->http, &req, resp, err);
		if (rc || resp->status != 401)
			break;
		/* A token can expire or be revoked between issue and use: one
		 * fresh token, then the 401 stands. */
		az_cred_invalidate(api->cred, api->resource);
	}
	if (text) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	if (rc)
		return rc;
	if (resp->body.len)
		*json = cJSON_ParseWithLength((const char *)resp->body.data, resp->body.len);
	return 0;
}

const char *az_json_str(const cJSON *j, const char *path)
{
	char part[64];

	while (j && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = 0;
		j = cJSON_GetObjectItemCaseSensitive(j, part);
		path += n + (path[n] == '.');
	}
	return cJSON_IsString(j) ? j->valuestring : NULL;
}
