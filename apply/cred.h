/* cred.h: Entra ID tokens in the DefaultAzureCredential order (azure-rest.md
 * §5.6) for the endpoints of a cloud. First usable wins (AZURE_TOKEN_CREDENTIALS
 * =<name> keeps one): EnvironmentCredential (AZURE_TENANT_ID, AZURE_CLIENT_ID
 * and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, a PEM with the
 * key), WorkloadIdentityCredential (the ids and AZURE_FEDERATED_TOKEN_FILE),
 * ManagedIdentityCredential (IMDS), AzureCliCredential (az, no shell). Only
 * an IMDS that does not answer or a missing az falls through. Tokens are
 * cached per resource until 5 minutes before expiry; the credential used is
 * named once on stderr (unless quiet); tokens and secrets are never printed. */
#ifndef NG_CRED_H
#define NG_CRED_H

#include <cjson/cJSON.h>

#include "../bundle-format/err.h"
#include "http.h"

#define AZ_URL_MAX 256

struct az_cloud { /* resources: the v1 form (no /.default) */
	char name[32];
	char authority[AZ_URL_MAX], management[AZ_URL_MAX], management_resource[AZ_URL_MAX];
	char storage_resource[AZ_URL_MAX], vault_resource[AZ_URL_MAX];
	char vault_suffix[AZ_URL_MAX], blob_suffix[AZ_URL_MAX], attest_suffix[AZ_URL_MAX];
	char imds[AZ_URL_MAX];
};

/* "AzureCloud", "AzureUSGovernment" or "AzureChinaCloud". */
int az_cloud_named(const char *name, struct az_cloud *out, struct ng_err *err);

/* {"name": a named cloud} or a custom cloud naming every field above; URLs
 * https:// (authority and imds may be loopback http, imds also
 * http://169.254.169.254). Unknown members are refused. */
int az_cloud_from_json(const cJSON *j, struct az_cloud *out, struct ng_err *err);

struct az_cred;

/* Contacts nothing yet; http and cloud must outlive the credential. */
int az_cred_new(struct http_ctx *http, const struct az_cloud *cloud, int quiet,
		struct az_cred **out, struct ng_err *err);
void az_cred_free(struct az_cred *c);

/* "Bearer <token>" for resource, owned by c, valid until the next call. */
int az_cred_authorization(struct az_cred *c, const char *resource, const char **authorization,
			  struct ng_err *err);

/* Forgets resource's cached token (after a 401). */
void az_cred_invalidate(struct az_cred *c, const char *resource);

#endif
