/* azcall.c: authenticated JSON calls (see azcall.h). */
#include "azcall.h"

#include "../bundle-format/jsonpath.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../bundle-format/fileio.h"

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
	return json_path_str(j, path);
}

int az_read_json(const char *path, size_t max, cJSON **out, struct ng_err *err)
{
	uint8_t *d = NULL;
	size_t n = 0;
	int rc = read_file_capped(path, max, &d, &n, err);

	*out = NULL;
	if (rc)
		return rc;
	*out = cJSON_ParseWithLength((const char *)d, n);
	OPENSSL_cleanse(d, n);
	free(d);
	if (!*out)
		return ng_errf(err, NG_EINVAL, "%s: not valid JSON", path);
	return 0;
}

int az_session_open(struct az_session *s, const char *cloud_name, const char *cloud_file,
		    const char *ca_file, int quiet, struct ng_err *err)
{
	struct http_opts ho = {.ca_file = ca_file};
	int rc;

	memset(s, 0, sizeof(*s));
	if (cloud_file) {
		cJSON *j = NULL;
		if (!(rc = az_read_json(cloud_file, 65536, &j, err)))
			rc = az_cloud_from_json(j, &s->cloud, err);
		cJSON_Delete(j);
		if (rc)
			return ng_err_prefix(err, rc, "%s", cloud_file);
	} else if ((rc = az_cloud_named(cloud_name ? cloud_name : "AzureCloud", &s->cloud, err))) {
		return rc;
	}
	if ((rc = http_ctx_new(&ho, &s->http, err)) ||
	    (rc = az_cred_new(s->http, &s->cloud, quiet, &s->cred, err)))
		az_session_close(s);
	return rc;
}

void az_session_close(struct az_session *s)
{
	az_cred_free(s->cred);
	http_ctx_free(s->http);
	s->cred = NULL;
	s->http = NULL;
}

void az_json_wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsString(j) && j->valuestring)
			OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
		az_json_wipe(j->child);
	}
}
