/* azcall.c: authenticated JSON calls (see azcall.h). */
#include "azcall.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../bundle-format/fileio.h"

int az_call(const struct az_api *api, const char *method, const char *url, const cJSON *body,
	    int idempotent, struct http_resp *resp, cJSON **json, struct ng_err *err)
{
	static const char *const hdrs[] = {"Content-Type: application/json",
					   "Accept: application/json", NULL};
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	struct http_req req = {.method = method,
			       .url = url,
			       .headers = text ? hdrs : hdrs + 1,
			       .body = text,
			       .body_len = text ? strlen(text) : 0,
			       .idempotent = idempotent};
	int rc = body && !text ? ng_errf(err, NG_ENOMEM, "%s: cannot serialise", url) : 0;

	*json = NULL;
	for (int try = 0; try < 2 && !rc; try++) {
		http_resp_free(resp);
		http_resp_init(resp);
		if ((rc = az_cred_authorization(api->cred, api->resource, &req.authorization,
						err)) ||
		    (rc = http_do(api->http, &req, resp, err)) || resp->status != 401)
			break;
		az_cred_invalidate(api->cred, api->resource); /* expired or revoked */
	}
	if (text)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	if (!rc && resp->body.len)
		*json = cJSON_ParseWithLength((const char *)resp->body.data, resp->body.len);
	return rc;
}

int az_req(const struct az_api *api, const char *method, const char *url, const cJSON *body,
	   struct http_resp *resp, cJSON **json, const char *what, struct ng_err *err)
{
	http_resp_init(resp);
	int rc = az_call(api, method, url, body, 1, resp, json, err);
	if (!rc && resp->status >= 300)
		rc = http_status_err(resp, err, resp->status == 404 ? NG_ENOTFOUND : NG_ENET, what);
	return rc;
}

int az_name_ok(const char *what, const char *s, size_t max, const char *extra, struct ng_err *err)
{
	size_t n = strlen(s), i = 0;

	while (i < n && (isalnum((unsigned char)s[i]) || strchr(extra, s[i])))
		i++;
	if (n < 1 || n > max || i != n)
		return ng_errf(err, NG_EINVAL, "%s '%.64s': want 1-%zu letters, digits or '%s'",
			       what, s, max, extra);
	return 0;
}

int az_session_open(struct az_session *s, const char *cloud_name, const char *cloud_file,
		    const char *ca_file, int quiet, struct ng_err *err)
{
	struct http_opts ho = {.ca_file = ca_file};
	cJSON *j = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!cloud_file)
		rc = az_cloud_named(cloud_name ? cloud_name : "AzureCloud", &s->cloud, err);
	else if (!(rc = az_read_json(cloud_file, 65536, &j, err)) &&
		 (rc = az_cloud_from_json(j, &s->cloud, err)))
		ng_err_prefix(err, rc, "%s", cloud_file);
	cJSON_Delete(j);
	if (!rc && ((rc = http_ctx_new(&ho, &s->http, err)) ||
		    (rc = az_cred_new(s->http, &s->cloud, quiet, &s->cred, err))))
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

int az_read_json(const char *path, size_t max, cJSON **out, struct ng_err *err)
{
	uint8_t *d = NULL;
	size_t n = 0;
	int rc = read_file_capped(path, max, &d, &n, err);

	*out = rc ? NULL : cJSON_ParseWithLength((const char *)d, n);
	if (d)
		OPENSSL_cleanse(d, n);
	free(d);
	return !rc && !*out ? ng_errf(err, NG_EINVAL, "%s: not valid JSON", path) : rc;
}

void az_json_wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsString(j))
			OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
		az_json_wipe(j->child);
	}
}
