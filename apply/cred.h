/* cred.h: Entra ID access tokens the way Azure users expect them
 * (DefaultAzureCredential order, azure-rest.md §5.6), and the endpoints of
 * the cloud they are for.
 *
 * Chain, first usable wins (AZURE_TOKEN_CREDENTIALS=<name> picks one:
 * EnvironmentCredential, WorkloadIdentityCredential,
 * ManagedIdentityCredential, AzureCliCredential):
 *  1. environment: AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET,
 *     or + AZURE_CLIENT_CERTIFICATE_PATH (PEM holding the certificate and
 *     its private key; a client assertion JWT, PS256 with x5t#S256, §5.2);
 *  2. workload identity: AZURE_TENANT_ID + AZURE_CLIENT_ID +
 *     AZURE_FEDERATED_TOKEN_FILE (read on every token request, §5.3);
 *  3. managed identity: IDENTITY_ENDPOINT + IDENTITY_HEADER (App Service,
 *     api 2019-08-01) or IMDS (api 2018-02-01, `Metadata: true`, no proxy,
 *     1 s connect timeout so laptops move on quickly); AZURE_CLIENT_ID
 *     selects a user-assigned identity (§5.4);
 *  4. Azure CLI: `az account get-access-token --resource R --output json`,
 *     run with posix_spawnp (no shell), the token read from its stdout
 *     (accessToken, expires_on) and never printed (§5.5).
 * A configured environment or workload credential that fails stops the
 * chain (its error is the useful one); managed identity that is not
 * reachable falls through to the CLI.
 *
 * Secrets come only from the environment or files, never argv. Tokens are
 * cached per resource and refreshed 5 minutes before expiry; the module says
 * once on stderr which credential it used (not with quiet) and never prints
 * a token or secret, not even in errors.
 */
#ifndef NG_CRED_H
#define NG_CRED_H

#include <cjson/cJSON.h>

#include "../bundle-format/err.h"
#include "http.h"

#define AZ_URL_MAX 256

/* A cloud's endpoints. Resources are the v1 "resource" form (no /.default);
 * the v2 scope is derived as resource + "/.default". */
struct az_cloud {
	char name[32];
	char authority[AZ_URL_MAX];	      /* https://login.microsoftonline.com */
	char management[AZ_URL_MAX];	      /* https://management.azure.com (ARM base URL) */
	char management_resource[AZ_URL_MAX]; /* token resource for ARM */
	char storage_resource[AZ_URL_MAX];    /* https://storage.azure.com */
	char vault_resource[AZ_URL_MAX];      /* https://vault.azure.net */
	char vault_suffix[AZ_URL_MAX];	      /* vault.azure.net ({vault}.<suffix>) */
	char blob_suffix[AZ_URL_MAX];	      /* blob.core.windows.net */
	char attest_suffix[AZ_URL_MAX];	      /* attest.azure.net */
	char imds[AZ_URL_MAX];		      /* http://169.254.169.254 */
};

/* "AzureCloud", "AzureUSGovernment" or "AzureChinaCloud". */
int az_cloud_named(const char *name, struct az_cloud *out, struct ng_err *err);

/* A cloud from JSON: {"name": one of the above} or a custom cloud naming
 * EVERY endpoint: {"name":"<any>","authority":..,"management":..,
 * "management_resource":..,"storage_resource":..,"vault_resource":..,
 * "vault_suffix":..,"blob_suffix":..,"attest_suffix":..,"imds":..}.
 * URLs must be https:// (imds and authority may be http:// only on
 * loopback, for tests). Unknown members are refused. */
int az_cloud_from_json(const cJSON *j, struct az_cloud *out, struct ng_err *err);

struct az_cred; /* opaque: chosen credential, token cache */

/* Nothing is contacted yet; the chain is walked on the first token. The
 * http context and cloud must outlive the credential. */
int az_cred_new(struct http_ctx *http, const struct az_cloud *cloud, int quiet,
		struct az_cred **out, struct ng_err *err);
void az_cred_free(struct az_cred *c);

/* A token for `resource` (e.g. cloud->vault_resource), as the complete
 * Authorization value "Bearer <token>" for http_req.authorization. The
 * string is owned by the credential and valid until the next call or free. */
int az_cred_authorization(struct az_cred *c, const char *resource, const char **authorization,
			  struct ng_err *err);

/* Forgets the cached token for resource (after a 401: expired or revoked). */
void az_cred_invalidate(struct az_cred *c, const char *resource);

/* "EnvironmentCredential (client secret)", ... or "none yet". */
const char *az_cred_name(const struct az_cred *c);

#endif
