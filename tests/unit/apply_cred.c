/* apply_cred.c: cloud endpoints: the named clouds carry the documented
 * endpoints (azure-rest.md §0, §5), and a custom cloud must name every
 * endpoint with https (plain http only for loopback authority/IMDS). */
#include <stdlib.h>
#include <string.h>

#include "../../apply/cred.h"
#include "harness.h"

static void test_named(void)
{
	struct az_cloud c;
	struct ng_err err;
	CU_ASSERT_EQUAL(az_cloud_named("AzureCloud", &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c.authority, "https://login.microsoftonline.com");
	CU_ASSERT_STRING_EQUAL(c.management_resource, "https://management.azure.com/");
	CU_ASSERT_STRING_EQUAL(c.storage_resource, "https://storage.azure.com");
	CU_ASSERT_STRING_EQUAL(c.vault_resource, "https://vault.azure.net");
	CU_ASSERT_STRING_EQUAL(c.imds, "http://169.254.169.254");
	CU_ASSERT_EQUAL(az_cloud_named("AzureUSGovernment", &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c.authority, "https://login.microsoftonline.us");
	CU_ASSERT_EQUAL(az_cloud_named("AzureChinaCloud", &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c.vault_suffix, "vault.azure.cn");
	CU_ASSERT_NOT_EQUAL(az_cloud_named("azurecloud", &c, &err), 0);
}

static int parse(const char *json, struct az_cloud *c)
{
	struct ng_err err;
	cJSON *j = cJSON_Parse(json);
	int rc = az_cloud_from_json(j, c, &err);
	cJSON_Delete(j);
	return rc;
}

#define FULL(auth, imds)                                                                           \
	"{\"name\":\"t\",\"authority\":\"" auth "\",\"management\":\"https://127.0.0.1:2\","       \
	"\"management_resource\":\"https://127.0.0.1:2/\",\"storage_resource\":\"https://"         \
	"storage.azure.com\",\"vault_resource\":\"https://vault.azure.net\",\"vault_suffix\":"     \
	"\"v\",\"blob_suffix\":\"b\",\"attest_suffix\":\"a\",\"imds\":\"" imds "\"}"

static void test_custom(void)
{
	struct az_cloud c;
	CU_ASSERT_EQUAL(parse(FULL("https://127.0.0.1:1", "http://127.0.0.1:3"), &c), 0);
	CU_ASSERT_STRING_EQUAL(c.authority, "https://127.0.0.1:1");
	CU_ASSERT_STRING_EQUAL(c.name, "t");
	CU_ASSERT_EQUAL(parse("{\"name\":\"AzureChinaCloud\"}", &c), 0);
	CU_ASSERT_STRING_EQUAL(c.authority, "https://login.chinacloudapi.cn");
	/* plain http off loopback, a missing endpoint, unknown members: refused */
	CU_ASSERT_NOT_EQUAL(parse(FULL("http://login.example", "http://127.0.0.1:3"), &c), 0);
	/* IMDS: Azure's link-local address (what the named clouds use) is the
	 * one plain-http exception off loopback; look-alikes are not. */
	CU_ASSERT_EQUAL(parse(FULL("https://l", "http://169.254.169.254"), &c), 0);
	CU_ASSERT_NOT_EQUAL(parse(FULL("https://l", "http://169.254.169.254.example"), &c), 0);
	CU_ASSERT_NOT_EQUAL(parse(FULL("https://l", "http://10.1.2.3"), &c), 0);
	CU_ASSERT_NOT_EQUAL(parse("{\"name\":\"t\",\"authority\":\"https://x\"}", &c), 0);
	CU_ASSERT_NOT_EQUAL(parse("{\"name\":\"AzureCloud\",\"bogus\":\"https://x\"}", &c), 0);
	CU_ASSERT_NOT_EQUAL(parse("[]", &c), 0);
	CU_ASSERT_NOT_EQUAL(parse("{\"name\":5}", &c), 0);
}

/* No network: a resource too long, then a chain narrowed to nothing. */
static void test_chain_empty(void)
{
	struct http_opts o = {0};
	struct http_ctx *h = NULL;
	struct az_cloud cloud;
	struct az_cred *c = NULL;
	struct ng_err err;
	const char *auth = "x";
	char big[AZ_URL_MAX + 8];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CU_ASSERT_EQUAL(az_cloud_named("AzureCloud", &cloud, &err), 0);
	CU_ASSERT_FATAL(http_ctx_new(&o, &h, &err) == 0 &&
			az_cred_new(h, &cloud, 1, &c, &err) == 0);
	CU_ASSERT_EQUAL(az_cred_authorization(c, big, &auth, &err), NG_EINVAL);
	CU_ASSERT_PTR_NULL(auth);
	setenv("AZURE_TOKEN_CREDENTIALS", "NoSuchCredential", 1);
	CU_ASSERT_EQUAL(az_cred_authorization(c, cloud.vault_resource, &auth, &err), NG_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no Azure credential"));
	unsetenv("AZURE_TOKEN_CREDENTIALS");
	az_cred_invalidate(c, cloud.vault_resource);
	az_cred_free(c);
	az_cred_free(NULL);
	http_ctx_free(h);
}

static const struct ng_test tests[] = {
    {"named", test_named}, {"custom", test_custom}, {"chain_empty", test_chain_empty}};

NG_TEST_MAIN("apply_cred", tests)
